// Where each logical thread's events go or come from: its ring in the arena (record, and on every
// replicated node) or its recorded stream (replay).

import type { Limits } from '../engine/limits.js';
import { Mode } from '../engine/thread.js';
import type { ReplayLog } from '../replayer/log_reader.js';
import { StreamReader, type StreamInit } from '../replayer/stream.js';

/** Rings exist while recording, and on a replicated node always (a backup records once it takes over). */
export function ringWordsFor(mode: Mode, limits: Limits, replicated: boolean): number {
  return mode === Mode.Record || replicated ? limits.ringBytes / 4 : 0;
}

export function streamInit(log: ReplayLog, thread: number): StreamInit {
  return log.streams.get(thread) ?? StreamReader.build(new Int32Array(0), new Uint8Array(0), log.trailer.cutOff);
}
