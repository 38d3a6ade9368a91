// A coarse wall-clock time for every recorded event, for the timeline's time axis and the trace
// export. The log stamps each chunk with the drain's clock when it built the chunk's frame (ms
// since the run started, schema.fbs Chunk.time): an upper bound on when its events happened.
// The events of a chunk are spread evenly over the span since the thread's previous chunk was
// taken, so a lane's times never decrease and a busy stretch looks busy. Replay never reads these
// times; they show whether threads ran at the same time, not how long one operation took.
//
// Pure: a Log in, arrays out.

import type { Log } from '../replayer/log_reader.js';

export interface LaneTimes {
  /** Milliseconds since the run started, per event of the thread's stream. */
  times: Float64Array;
  /** The thread's chunks, in order: [first event, end event) and the drain's time for it. */
  chunks: { first: number; end: number; start: number; time: number }[];
}

export function eventTimes(log: Log): Map<number, LaneTimes> {
  const out = new Map<number, LaneTimes>();
  const base = new Map<number, number>();
  for (const s of log.streams) out.set(s.thread, { times: new Float64Array(s.events.length >>> 1), chunks: [] });
  for (const c of log.chunks) {
    const lane = out.get(c.thread);
    if (!lane) continue;
    // A log that continues a run (a backup's new epoch) numbers events from where it went live.
    if (!base.has(c.thread)) base.set(c.thread, c.firstIndex);
    const first = c.firstIndex - base.get(c.thread)!;
    const n = c.events.length >>> 1;
    const previous = lane.chunks.at(-1);
    // Clamp: the drain's clock is monotonic, but a log is input and must not make times run back.
    const time = Math.max(c.time, previous?.time ?? 0);
    const start = previous ? previous.time : time;
    for (let j = 0; j < n; j++) lane.times[first + j] = start + ((time - start) * (j + 1)) / n;
    lane.chunks.push({ first, end: first + n, start, time });
  }
  return out;
}
