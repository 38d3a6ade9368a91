// The log file: MAGIC (8 bytes), FORMAT_VERSION (u32 LE), then frames (frame.ts). The first frame
// holds a Header table, every later one a Frame table (schema.fbs). Bump FORMAT_VERSION on every
// change to schema.fbs or to the framing.

export const MAGIC = new TextEncoder().encode('LOCKSTEP');
// 1: first release. 2: pool events (task-start/assign/completion-order, pool), outputs chained
// into the digest, object names and the cut-off flag in the trailer, compact ordered events.
// 3: a coarse timestamp per chunk (Chunk.time), for the timeline's time axis.
// 4: channel-poll(closed), an ordered event (a poll that saw the channel closed was unordered).
// 5: module identity events (value(module): sha256 of each worker entry and pool task module).
// 6: ordered events keep their version (two words per event, as in a ring), and a frame holds at
// most one chunk per thread (version_floors.ts says why).
// 7: checkpoints: checkpoint events (block digests of a consistent cut, and of the end of the run
// before the end event) and checkpoint-mark events (engine/checkpoint.ts, recorder/checkpoint.ts).
// 8: a channel's receives and polls are ordered on its receive side (object id + 1, a version word
// of its own), apart from its sends and close (engine/sync/channel.ts).
export const FORMAT_VERSION = 8;
export const PREAMBLE_BYTES = MAGIC.length + 4;

export function preamble(): Uint8Array {
  const out = new Uint8Array(PREAMBLE_BYTES);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, FORMAT_VERSION, true);
  return out;
}
