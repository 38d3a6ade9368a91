// The one wait a checkpoint cut's threads share, in record (recorder/checkpoint.ts: a stopped
// thread waiting for the cut that holds it) and in replay (replayer/checkpoint.ts: a thread at its
// mark waiting for the comparison, the main thread waiting for every thread to arrive): block on
// a shared word in short slices while a condition holds, re-checking for an abort after each
// slice, so a failed run never leaves a thread waiting for a cut that will not come.

import { aborted } from './errors.js';
import { C_ABORT } from './arena_layout.js';

/** A thread waiting for a cut re-checks for an abort this often (ms). */
export const SLICE_MS = 20;

/**
 * Waits while `keep(word)` holds for the value of `a[index]`, in slices of `sliceMs` (woken early
 * by a notify on that word), at most `maxMs` counted as slices waited. The word is read before
 * `keep` is asked, so a change published with a notify after that read ends the slice at once.
 * Returns true when `keep` stopped holding, false when the bound ran out; throws ERR_ABORTED for
 * `thread` when another thread failed the run (C_ABORT).
 */
export function waitWhile(
  a: Int32Array,
  index: number,
  keep: (word: number) => boolean,
  thread: number,
  sliceMs = SLICE_MS,
  maxMs = Infinity,
): boolean {
  let waitedMs = 0;
  for (;;) {
    const word = Atomics.load(a, index);
    if (!keep(word)) return true;
    if (waitedMs >= maxMs) return false;
    Atomics.wait(a, index, word, sliceMs);
    waitedMs += sliceMs;
    if (Atomics.load(a, C_ABORT) !== 0) throw aborted(thread);
  }
}
