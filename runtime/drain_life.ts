// The drain's life on the main thread: a worker (recorder/drain.ts) that empties every thread's
// ring into the log (and, on a primary, ships frames to the backup), started with the run (or at
// cutover) and stopped by finish() (sealed) or by the process's exit (cut off).

import { Worker, type MessagePort } from 'node:worker_threads';
import { freshBundle } from '../engine/bundle.js';
import { LockstepError, revive } from '../engine/errors.js';
import { C_DOORBELL, C_DRAIN_DONE, C_FINISH, C_OUTPUT_BELL, FINISH_CUT_OFF, FINISH_SEALED } from '../engine/arena_layout.js';
import type { DrainInit, DrainReport } from '../recorder/drain.js';

/** How long a process exiting without finish() waits for the drain to cut the log off. */
const CUT_OFF_WAIT_MS = 5000;

export interface Drain {
  worker: Worker;
  report: Promise<DrainReport>;
}

export function startDrain(init: DrainInit, transferList: MessagePort[] = []): Drain {
  // Before any event: an output recorded on a primary must wake the drain at once (the gate waits).
  if (init.ship) Atomics.store(new Int32Array(init.arena), C_OUTPUT_BELL, 1);
  const entry = freshBundle(new URL('../recorder/drain.js', import.meta.url), new URL('../recorder/drain.bundle.js', import.meta.url));
  const worker = new Worker(entry, { workerData: { drain: init }, transferList });
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

/**
 * A drain the session runs: it fails the run if the drain fails, and a process that exits without
 * finish() (an uncaught error, process.exit) still leaves a readable log, cut off where the
 * program failed, so the failing run can be replayed.
 */
export class RunningDrain {
  constructor(private readonly drain: Drain, private readonly a: Int32Array, fail: (e: Error) => void) {
    drain.report.catch((e) => fail(e));
    process.on('exit', this.cutOffAtExit);
  }

  /** Whether the drain was told to seal or cut off the log. */
  get signalled(): boolean {
    return Atomics.load(this.a, C_FINISH) !== 0;
  }

  /** Seals the log (finish(): gives up if the run fails meanwhile) or cuts it off (after a failure). */
  async stop(how: typeof FINISH_SEALED | typeof FINISH_CUT_OFF, failed: Promise<never>): Promise<DrainReport> {
    this.signal(how);
    this.drain.worker.ref();
    return how === FINISH_SEALED ? await Promise.race([this.drain.report, failed]) : await this.drain.report;
  }

  terminate(): void {
    this.drain.worker.terminate().catch(() => {});
  }

  private signal(how: number): void {
    const a = this.a;
    Atomics.store(a, C_FINISH, how);
    Atomics.add(a, C_DOORBELL, 1);
    Atomics.notify(a, C_DOORBELL);
    process.off('exit', this.cutOffAtExit);
  }

  /** The 'exit' handler is synchronous, so it parks on the drain's done word (bounded). */
  private readonly cutOffAtExit = (): void => {
    this.signal(FINISH_CUT_OFF);
    Atomics.wait(this.a, C_DRAIN_DONE, 0, CUT_OFF_WAIT_MS);
  };
}
