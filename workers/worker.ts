// The worker-side entry of the package (`lockstep/worker`): attach() returns this thread's
// lockstep API, which bootstrap.ts set up before the user's module was imported.

import type { Arena } from '../engine/arena.js';
import { LockstepThread, type Output } from '../engine/thread_api.js';
import { usage } from '../engine/errors.js';
import type { Thread } from '../engine/thread.js';

export const CONTEXT = Symbol.for('lockstep.thread');

export class WorkerThread extends LockstepThread {
  constructor(arena: Arena, thread: Thread, seed: bigint, readonly data: unknown, readonly index: number, deliver: (o: Output) => void) {
    super(arena, thread, seed, false);
    this.deliver = deliver;
  }
}

/** This worker's lockstep API. Only valid in a thread started by session.spawn(). */
export function attach(): WorkerThread {
  const context = (globalThis as Record<symbol, unknown>)[CONTEXT];
  if (!context) throw usage('attach() must run inside a thread started by session.spawn()');
  return context as WorkerThread;
}

export type { LockstepThread } from '../engine/thread_api.js';
export { LockstepError, DivergenceError } from '../engine/errors.js';
