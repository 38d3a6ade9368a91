// A live backup's per-thread pieces, shared by the main thread (start.ts, session.ts) and a
// backup's workers (worker_runtime.ts, which loads this file only for a live run): the thread's
// stream, empty at first and fed by the receiver, and how the thread goes live at cutover.

import type { Arena } from '../engine/arena.js';
import { T_FED, T_LIVE_FROM, T_LIVE_OUTPUTS, T_OUTPUTS, T_RING, T_RING_WORDS } from '../engine/arena_layout.js';
import type { LiveSetup } from '../engine/thread.js';
import { RingWriter } from '../recorder/ring.js';
import { streamChannelName, type StreamInit } from '../replayer/stream.js';

/** A live backup's stream: empty at first, fed by the receiver on the thread's broadcast channel. */
export function liveStream(run: string, arena: Arena, thread: number): StreamInit {
  return {
    buffer: new SharedArrayBuffer(0), eventWords: 0, dataBytes: 0, cutOff: false,
    live: { channel: streamChannelName(run, thread), slot: arena.threadSlot(thread) + T_FED },
  };
}

/** How a live backup's thread goes live at cutover: its ring (allocated up front), the floors. */
export function liveSetup(arena: Arena, thread: number, floors: SharedArrayBuffer, joined: boolean): LiveSetup {
  const slot = arena.threadSlot(thread);
  return {
    floors: new Int32Array(floors),
    ring: () => new RingWriter(arena.a, arena.a[slot + T_RING]!, arena.a[slot + T_RING_WORDS]!, thread, arena.limits.stallMsMax),
    fromSlot: slot + T_LIVE_FROM,
    outputsSlot: slot + T_OUTPUTS,
    liveOutputsSlot: slot + T_LIVE_OUTPUTS,
    joined,
  };
}
