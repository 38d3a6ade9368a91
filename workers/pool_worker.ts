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
/** The task module once imported: from then on a task starts without awaiting it. */
let loaded: Record<string, unknown> | null = null;

type TaskFn = (payload: unknown, t: typeof context) => unknown;

async function load(name: string): Promise<TaskFn> {
  if (typeScriptFailure) throw typeScriptFailure; // ERR_TSX_MISSING, reported by the task
  module ??= import(init.entry) as Promise<Record<string, unknown>>;
  loaded = await module;
  return exported(name);
}

function exported(name: string): TaskFn {
  const fn = loaded![name];
  if (typeof fn !== 'function') throw new Error(`the pool's task module ${init.entry} has no function export "${name}"`);
  return fn as TaskFn;
}

/**
 * Runs one task: its outcome, at once when the task is synchronous and its module loaded (no
 * promise and no microtask per task: in mode off the job server's workers spent ~6 awaits a task
 * here, and the optimizing compiler a further 30-50 ms per worker on these async functions; issue
 * 11 target 3), else a promise of it.
 */
function handle(task: TaskMessage): object | Promise<object> {
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
    if (loaded === null || typeScriptFailure) return load(task.name).then((fn) => run(fn, task)).catch(lockstepFailure);
    return run(exported(task.name), task);
  } catch (e) {
    return lockstepFailure(e);
  }
}

/** Calls the task's function: its own error is a recorded outcome, a lockstep error stops the run. */
function run(fn: TaskFn, task: Exclude<TaskMessage, { close: true }>): object | Promise<object> {
  let value: unknown;
  try {
    value = fn(task.payload, context);
  } catch (e) {
    return failed(e);
  }
  if (!isThenable(value)) {
    thread.checkpoints?.idle(); // between tasks: parked for checkpoint cuts (replay: meets a mark that is next)
    return { ok: true, value };
  }
  return Promise.resolve(value).then((v) => {
    thread.checkpoints?.idle();
    return { ok: true, value: v };
  }, failed).catch(lockstepFailure);
}

function failed(e: unknown): object {
  try {
    if (e instanceof LockstepError) throw e;
    recordFailure(thread, e);
    return { ok: false, error: e };
  } catch (inner) {
    return lockstepFailure(inner);
  } finally {
    thread.checkpoints?.idle();
  }
}

function lockstepFailure(e: unknown): object {
  return { lockstep: serializeError(e instanceof LockstepError ? e : new LockstepError('ERR_THREAD_FAILED', String(e))) };
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
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
    const outcome = handle(task);
    const reply = { id: task.id, ...(outcome instanceof Promise ? await outcome : outcome) } as ReplyMessage;
    if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) await flushed();
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
