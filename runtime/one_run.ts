// The one run this process holds. The patched globals, the result file and the exit handler are
// per process, so a second run while one is going would record into the first one's threads.

import { usage } from '../engine/errors.js';
import type { Session } from './session.js';

let running: Session | 'starting' | null = null;

/** Claims the process for a run about to start, or refuses (ERR_USAGE) while one holds it. */
export function claimProcess(): void {
  if (running !== null) {
    throw usage('a lockstep session is already running in this process: call finish() on it (or let it fail) before start() again');
  }
  running = 'starting';
}

/** The run that claimed the process has started (`session`) or failed to (null). */
export function settleProcess(session: Session | null): void {
  running = session;
}

/** The run is over (finished or failed): another may start. */
export function releaseProcess(session: Session): void {
  if (running === session) running = null;
}
