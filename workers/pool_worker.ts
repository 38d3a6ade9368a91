// A lockstep pool worker's thread (pool.ts starts one per logical worker). It builds the worker's
// lockstep runtime (worker_runtime.ts), then runs the tasks the main thread posts, one at a time in
// arrival order (a task that awaits still finishes before the next starts); every task logs
// task-start(task) before it runs, so replay checks that each worker runs the tasks it ran when
// recording, in the same order. A task's own error is a recorded outcome; a lockstep error
// (divergence…) is sent back for the session to fail the run.

import { parentPort, workerData } from 'node:worker_threads';
import { LockstepError, serializeError } from '../engine/errors.js';
import { Kind } from '../engine/event.js';
import { Mode } from '../engine/thread.js';
import { C_JOINED } from '../engine/arena_layout.js';
import { isTypeScriptEntry, loadTypeScript } from './entry.js';
import { attachThread, recordExit, recordFailure, type WorkerInit } from './worker_runtime.js';
import type { ReplyMessage, TaskMessage } from './pool.js';

const init = workerData as { lockstep: WorkerInit; entry: string };
// tsx's loader is set up before the thread's globals are patched: it reads the clock and makes
// ids itself, which would otherwise be recorded (and differ with its cache's state on replay).
let typeScriptFailure: unknown = null;
if (isTypeScriptEntry(init.entry)) await loadTypeScript(init.entry).catch((e: unknown) => { typeScriptFailure = e; });
const context = await attachThread(init.lockstep, (output) => parentPort!.postMessage({ id: -2, output } satisfies ReplyMessage));
const thread = context.thread;
thread.checkpoints?.idle(); // not given a task yet (replay: a checkpoint-mark may come first)
let module: Promise<Record<string, unknown>> | null = null;

async function load(name: string): Promise<(payload: unknown, t: typeof context) => unknown> {
  if (typeScriptFailure) throw typeScriptFailure; // ERR_TSX_MISSING, reported by the task
  module ??= import(init.entry) as Promise<Record<string, unknown>>;
  const fn = (await module)[name];
  if (typeof fn !== 'function') throw new Error(`the pool's task module ${init.entry} has no function export "${name}"`);
  return fn as (payload: unknown, t: typeof context) => unknown;
}

async function handle(task: TaskMessage): Promise<object> {
  try {
    // A joining backup's worker ran the setup without a log; from the snapshot on it replays.
    if (thread.mode === Mode.Off && thread.liveSetup?.joined && Atomics.load(thread.a, C_JOINED) === 1) thread.mode = Mode.Replay;
    thread.checkpoints?.unpark(); // idle until now (checkpoint cuts count it as parked)
    if ('close' in task) {
      recordExit(thread, 0);
      return {};
    }
    const mode = thread.current();
    if (mode === Mode.Record) thread.rec(Kind.TaskStart, 0, task.id);
    else if (mode === Mode.Replay) {
      const recorded = thread.expect(Kind.TaskStart, 0);
      if (recorded !== task.id) thread.diverge(`task-start(task ${recorded})`, `task-start(task ${task.id})`);
    }
    const fn = await load(task.name);
    try {
      return { ok: true, value: await fn(task.payload, context) };
    } catch (e) {
      if (e instanceof LockstepError) throw e;
      recordFailure(thread, e);
      return { ok: false, error: e };
    } finally {
      thread.checkpoints?.idle(); // between tasks: parked for checkpoint cuts (replay: meets a mark that is next)
    }
  } catch (e) {
    return { lockstep: serializeError(e instanceof LockstepError ? e : new LockstepError('ERR_THREAD_FAILED', String(e))) };
  }
}

/** Waits until what the tasks wrote to stdout and stderr has left this thread (before close, terminate). */
async function flushed(): Promise<void> {
  if (process.stdout.writableLength > 0) await new Promise((r) => process.stdout.write('', r));
  if (process.stderr.writableLength > 0) await new Promise((r) => process.stderr.write('', r));
}

const port = parentPort!;
const queue: TaskMessage[] = [];
let running = false;

async function runQueue(): Promise<void> {
  running = true;
  while (queue.length > 0) {
    const task = queue.shift()!;
    const reply = { id: task.id, ...(await handle(task)) } as ReplyMessage;
    await flushed();
    try {
      port.postMessage(reply);
    } catch (e) {
      // A result that cannot be cloned (a function, say): the main thread would never hear of the task.
      port.postMessage({ id: task.id, lockstep: serializeError(new LockstepError('ERR_THREAD_FAILED',
        `pool task ${task.id}'s result cannot be sent to the main thread: ${e instanceof Error ? e.message : String(e)}`, { task: task.id })) });
    }
  }
  running = false;
}

port.on('message', (task: TaskMessage) => {
  queue.push(task);
  if (!running) void runQueue();
});
