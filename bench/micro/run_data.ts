// What the micro benchmark's child hands its worker fixtures.

import type { Stopwatch } from '../stopwatch.js';

export interface ContendedData {
  watch: Stopwatch;
  /** Iterations per thread of an operation of scale 1. */
  n: number;
}

export interface HandData extends ContendedData {
  /** HAND_SLOTS Int32 words (ops.ts). */
  buffer: SharedArrayBuffer;
  /** The thread's spawn index, 0 or 1. */
  index: number;
}

/** An operation's iteration count: its share of `n`, at least 1. */
export function iterations(n: number, scale: number): number {
  return Math.max(1, Math.round(n * scale));
}
