// Worker fixture of the contended micro benchmark without lockstep: a plain worker_threads Worker
// running the hand-written equivalents (Drepper's mutex, bare Atomics) of the contended
// operations that have one, with the same start lines and timing as contended_worker.ts.

import { workerData } from 'node:worker_threads';
import { timed } from '../stopwatch.js';
import { contended, handOf } from './ops.js';
import { iterations, type HandData } from './run_data.js';

const d = workerData as HandData;
const h = handOf(d.buffer);
contended.forEach((op, s) => {
  // Both threads skip the same operations, so the start lines still pair up.
  if (op.hand) timed(d.watch, s, d.index, () => op.hand!(h, d.index, d.index + 1, iterations(d.n, op.scale)));
});
