// The first module of every lockstep worker: it rebuilds the thread's runtime from workerData
// (arena, ring or recorded stream, logical id), patches the ambient nondeterminism, then imports
// the user's worker module. Its exit, or its error, is itself an event: record logs it, replay
// checks that the same thing happens at the same point.

import { parentPort, workerData } from 'node:worker_threads';
import { LockstepError, serializeError } from '../engine/errors.js';
import type { Thread } from '../engine/thread.js';
import { attachThread, recordExit, recordFailure, type WorkerInit } from './context.js';
import { loadTypeScript } from './typescript.js';

export interface SpawnInit extends WorkerInit {
  entry: string;
}

async function main(init: SpawnInit): Promise<void> {
  await loadTypeScript(init.entry); // before attachThread patches the globals (typescript.ts)
  const context = attachThread(init);
  const thread = context.thread;
  try {
    const mod = (await import(init.entry)) as { default?: unknown };
    if (typeof mod.default === 'function') await (mod.default as (t: typeof context) => unknown)(context);
  } catch (e) {
    if (e instanceof LockstepError) {
      parentPort!.postMessage({ type: 'failed', lockstep: true, error: serializeError(e) });
      return;
    }
    threadFailed(thread, e);
    return;
  }
  try {
    recordExit(thread, 0);
  } catch (e) {
    parentPort!.postMessage({ type: 'failed', lockstep: true, error: serializeError(e) });
    return;
  }
  parentPort!.postMessage({ type: 'exit' });
}

function threadFailed(thread: Thread, e: unknown): void {
  try {
    recordFailure(thread, e);
    recordExit(thread, 1);
  } catch (inner) {
    parentPort!.postMessage({ type: 'failed', lockstep: true, error: serializeError(inner) });
    return;
  }
  parentPort!.postMessage({ type: 'failed', lockstep: false, error: e });
}

main((workerData as { lockstep: SpawnInit }).lockstep).catch((e) => {
  parentPort!.postMessage({ type: 'failed', lockstep: e instanceof LockstepError, error: serializeError(e) });
});
