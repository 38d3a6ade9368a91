// The drain's life on the main thread: a worker (recorder/drain.ts) that empties every thread's
// ring into the log (and, on a primary, ships frames to the backup), started with the run (or at
// cutover) and stopped by finish() (sealed) or by the process's exit (cut off).

import { Worker, type MessagePort } from 'node:worker_threads';
import { LockstepError, revive } from '../engine/errors.js';
import { C_OUTPUT_BELL } from '../engine/arena_layout.js';
import type { DrainInit, DrainReport } from '../recorder/drain.js';

/** How long a process exiting without finish() waits for the drain to cut the log off. */
export const CUT_OFF_WAIT_MS = 5000;

export interface Drain {
  worker: Worker;
  report: Promise<DrainReport>;
}

export function startDrain(init: DrainInit, transferList: MessagePort[] = []): Drain {
  // Before any event: an output recorded on a primary must wake the drain at once (the gate waits).
  if (init.ship) Atomics.store(new Int32Array(init.arena), C_OUTPUT_BELL, 1);
  const worker = new Worker(new URL('../recorder/drain.js', import.meta.url), { workerData: { drain: init }, transferList });
  worker.unref();
  const report = new Promise<DrainReport>((resolveReport, reject) => {
    worker.on('message', (m: { type: string; report?: DrainReport; error?: unknown }) => {
      if (m.type === 'done') resolveReport(m.report!);
      else reject(revive(m.error));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new LockstepError('ERR_DRAIN_STALL', `the log drain exited early (code ${code})`)));
  });
  report.catch(() => {});
  return { worker, report };
}
