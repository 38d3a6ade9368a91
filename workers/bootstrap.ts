// The first module of every lockstep worker: it rebuilds the thread's runtime from workerData
// (arena, ring or recorded stream, logical id), patches the ambient nondeterminism, then imports
// the user's worker module. Its exit, or its error, is itself an event: record logs it, replay
// checks that the same thing happens at the same point.

import { parentPort, workerData } from 'node:worker_threads';
import { LockstepError, serializeError } from '../engine/errors.js';
import type { Thread } from '../engine/thread.js';
import { isTypeScriptEntry, loadTypeScript } from './entry.js';
import { attachThread, recordExit, recordFailure, type WorkerInit } from './worker_runtime.js';

export interface SpawnInit extends WorkerInit {
  entry: string;
}

async function main(init: SpawnInit): Promise<void> {
  // tsx's loader is set up before the thread's globals are patched: it reads the clock and makes
  // ids itself, which would otherwise be recorded (and differ with its cache's state on replay).
  let typeScriptFailure: unknown = null;
  if (isTypeScriptEntry(init.entry)) await loadTypeScript(init.entry).catch((e: unknown) => { typeScriptFailure = e; });
  const context = await attachThread(init, (output) => parentPort!.postMessage({ type: 'output', output }));
  const thread = context.thread;
  try {
    // TypeScript worker entries load through tsx (Node 20 cannot start a Worker on a .ts file).
    thread.checkpoints?.unpark(); // not started until now: a checkpoint cut counted it as parked
    if (typeScriptFailure) throw typeScriptFailure; // recorded as this thread's failure: after unpark, like any event
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
  parentPort!.postMessage({ type: 'failed', lockstep: false, error: serializeError(e) });
}

main((workerData as { lockstep: SpawnInit }).lockstep).catch((e) => {
  parentPort!.postMessage({ type: 'failed', lockstep: e instanceof LockstepError, error: serializeError(e) });
});
