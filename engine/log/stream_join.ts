// One thread's chunks joined into one run of events and payload bytes: the one place a recorded
// stream is concatenated, whether the chunks come from a whole log file (replayer/log_reader.ts)
// or from one frame received live (replication/receiver.ts). Pure.

import type { ChunkData } from './codec.js';

/** A thread's consecutive chunks, joined: events from `firstIndex` on. */
export interface JoinedStream {
  thread: number;
  firstIndex: number;
  /** Two words per event. */
  events: Int32Array;
  data: Uint8Array;
}

/**
 * Joins the chunks per thread, keeping each thread's chunks in the order given, threads in
 * ascending order. Each chunk must start where the thread's previous one ended, and the first at
 * `from` when given (a whole log: 0); `gap` is told (thread, the event index due, the chunk's
 * first index) and must throw. One chunk is returned as it is (no copy).
 */
export function joinStreams(chunks: readonly ChunkData[], gap: (thread: number, due: number, got: number) => never, from?: number): JoinedStream[] {
  const parts = new Map<number, ChunkData[]>();
  for (const c of chunks) {
    const list = parts.get(c.thread);
    if (list) list.push(c);
    else parts.set(c.thread, [c]);
  }
  const out: JoinedStream[] = [];
  for (const [thread, list] of [...parts].sort((x, y) => x[0] - y[0])) {
    const firstIndex = from ?? list[0]!.firstIndex;
    let eventWords = 0;
    let dataBytes = 0;
    for (const c of list) {
      if (c.firstIndex * 2 !== firstIndex * 2 + eventWords) gap(thread, firstIndex + eventWords / 2, c.firstIndex);
      eventWords += c.events.length;
      dataBytes += c.data.length;
    }
    if (list.length === 1) {
      out.push({ thread, firstIndex, events: list[0]!.events, data: list[0]!.data });
      continue;
    }
    const events = new Int32Array(eventWords);
    const data = new Uint8Array(dataBytes);
    let w = 0;
    let d = 0;
    for (const c of list) {
      events.set(c.events, w);
      data.set(c.data, d);
      w += c.events.length;
      d += c.data.length;
    }
    out.push({ thread, firstIndex, events, data });
  }
  return out;
}
