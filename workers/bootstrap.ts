// The first module of every lockstep worker: it rebuilds the thread's runtime from workerData
// (arena, ring or recorded stream, logical id), patches the ambient nondeterminism, then imports
// the user's worker module. Its exit, or its error, is itself an event: record logs it, replay
// checks that the same thing happens at the same point.

import { parentPort, workerData } from 'node:worker_threads';
import { Arena } from '../engine/arena.js';
import { LockstepError, serializeError } from '../engine/errors.js';
import { Kind } from '../engine/event.js';
import type { Limits } from '../engine/limits.js';
import { patchGlobals } from '../engine/patch.js';
import { Mode, Thread } from '../engine/thread.js';
import { RingWriter } from '../recorder/ring.js';
import { StreamReader, type StreamInit } from '../replayer/stream.js';
import { WorkerThread, CONTEXT } from './worker.js';

export interface WorkerInit {
  arena: SharedArrayBuffer;
  limits: Limits;
  id: number;
  mode: Mode;
  ring: { base: number; words: number } | null;
  stream: StreamInit | null;
  seed: string;
  patch: boolean;
  entry: string;
  data: unknown;
  index: number;
  until: number;
}

async function main(init: WorkerInit): Promise<void> {
  const arena = new Arena(init.arena, init.limits);
  const ring = init.ring ? new RingWriter(arena.a, init.ring.base, init.ring.words, init.id, init.limits.stallMsMax) : null;
  const stream = init.stream ? new StreamReader(init.stream) : null;
  const thread = new Thread(init.id, init.mode, arena.a, ring, stream, init.limits.stallMsMax);
  thread.untilIndex = init.until;
  const context = new WorkerThread(arena, thread, BigInt(init.seed), init.data, init.index);
  (globalThis as Record<symbol, unknown>)[CONTEXT] = context;
  if (init.mode !== Mode.Off && init.patch) patchGlobals(thread);
  try {
    // TypeScript worker entries load through tsx (Node 20 cannot start a Worker on a .ts file).
    if (/\.[cm]?ts$/.test(init.entry)) (await import('tsx/esm/api')).register();
    const mod = (await import(init.entry)) as { default?: unknown };
    if (typeof mod.default === 'function') await (mod.default as (t: WorkerThread) => unknown)(context);
  } catch (e) {
    if (e instanceof LockstepError) {
      parentPort!.postMessage({ type: 'failed', lockstep: true, error: serializeError(e) });
      return;
    }
    threadFailed(thread, e);
    return;
  }
  if (thread.mode === Mode.Record) thread.rec(Kind.Exit, 0, 0);
  if (thread.mode === Mode.Replay) {
    thread.expect(Kind.Exit, 0);
    if (!thread.stream!.exhausted) thread.diverge('more events after this thread\'s exit', 'the end of the thread');
  }
  parentPort!.postMessage({ type: 'exit' });
}

/** The user's code threw: that is part of the program's behaviour, recorded and replayed as such. */
function threadFailed(thread: Thread, e: unknown): void {
  const message = new TextEncoder().encode(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  try {
    if (thread.mode === Mode.Record) {
      thread.recPayload(Kind.Error, 0, message);
      thread.rec(Kind.Exit, 0, 1);
    } else if (thread.mode === Mode.Replay) {
      const recorded = new TextDecoder().decode(thread.expectPayload(Kind.Error, 0));
      const now = new TextDecoder().decode(message);
      if (recorded !== now) thread.diverge(`the error "${recorded}"`, `the error "${now}"`);
      thread.expect(Kind.Exit, 0);
    }
  } catch (inner) {
    parentPort!.postMessage({ type: 'failed', lockstep: true, error: serializeError(inner) });
    return;
  }
  parentPort!.postMessage({ type: 'failed', lockstep: false, error: e });
}

main((workerData as { lockstep: WorkerInit }).lockstep).catch((e) => {
  parentPort!.postMessage({ type: 'failed', lockstep: e instanceof LockstepError, error: serializeError(e) });
});
