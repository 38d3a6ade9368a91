// A worker pool whose scheduling is recorded and replayed: one worker_threads Worker per logical
// worker, a fixed logical thread that is never respawned or swapped, and a task runs on exactly
// the worker lockstep chose. (It was built on piscina, one single-thread piscina per worker; the
// per-task cost of that layer made the job server in mode off 3-4x its plain worker_threads
// version, issue 11 target 3, and none of its features were used.)
//
// Three things about a pool are nondeterministic, and each is an event on the main thread:
// - which worker runs a task (task-assign(task, worker), chosen as the least busy worker when
//   recording); each worker takes its tasks in assignment order, so per-worker order follows;
// - the order in which the main thread observes task results (completion-order(task)): replay
//   holds results that arrive early and delivers them in the recorded order;
// - aborts: a task aborted before it started is a failed completion; replay never runs it.
// Inside a task the worker has the whole lockstep API (pool_worker.ts).
//
// Hand-off: a task is posted to its worker as soon as it is assigned, so a worker that finishes
// one starts the next without waiting for the main thread (the worker runs them one at a time in
// arrival order, which is assignment order). A task with an abort signal is posted only to an
// idle worker, and tasks assigned after it wait behind it, so it can be aborted until it starts.

import { Worker } from 'node:worker_threads';
import { freshBundle } from '../engine/bundle.js';
import { LockstepError, revive, usage } from '../engine/errors.js';
import { Kind } from '../engine/event.js';
import { Mode, type Thread } from '../engine/thread.js';
import type { Output } from '../engine/thread_api.js';
import type { WorkerInit } from './worker_runtime.js';

export interface PoolOptions {
  /** Logical worker threads (default 4). Fixed for the run: replay needs the recorded count. */
  workers?: number;
  /** Structured-clonable data each worker gets as `t.data`. */
  data?: unknown;
}

export interface RunOptions {
  /** Named export of the task module to run (default: the default export). */
  name?: string;
  /** Aborts the task if it has not started yet; a started task runs to completion. */
  signal?: AbortSignal;
}

export interface Completion<R> {
  /** Index of the payload in the list given to completions(). */
  index: number;
  ok: boolean;
  value?: R;
  error?: unknown;
}

/** What the session lends a pool. */
export interface PoolHost {
  thread: Thread;
  addWorker(index: number): WorkerInit;
  fail(e: Error): void;
  pump(): void;
  /** Hands one of a worker's outputs to the session's sinks. */
  emit(o: Output): void;
}

interface Outcome {
  ok: boolean;
  value?: unknown;
  error?: unknown;
}

interface Task {
  id: number;
  worker: number;
  message: TaskMessage;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Posted to its worker: from then on it runs (it can no longer be aborted). */
  started: boolean;
  /** Posted only to an idle worker (it has an abort signal). */
  alone: boolean;
  arrived: Outcome | null;
  listeners: ((o: Outcome) => void)[];
}

/** Main → pool worker. */
export type TaskMessage = { id: number; name: string; payload: unknown } | { id: -1; close: true };
/**
 * Pool worker → main: a task's outcome, or the lockstep error that stops the run; its end (id -1);
 * or one of its outputs (id -2), on the same port, so a task's outputs reach the sinks before its result.
 */
export type ReplyMessage = ({ id: number } & (Outcome | { lockstep: unknown })) | { id: -2; output: Output };

/**
 * The pool worker's entry: its bundle when built (engine/bundle.ts). Written from dist/'s top
 * ('../workers/…'): this module may itself run from the main thread's bundle, dist/bundle/.
 */
const handler = (): URL => freshBundle(new URL('../workers/pool_worker.js', import.meta.url), new URL('../workers/bundle/pool_worker.js', import.meta.url));

export class Pool {
  private readonly threads: Worker[] = [];
  private readonly threadIds: number[] = [];
  /** Per worker: tasks assigned and not yet posted, in assignment order. */
  private readonly queues: Task[][] = [];
  /** Per worker: tasks posted and not yet answered, in posting (= running) order. */
  private readonly posted: Task[][] = [];
  /** Per worker: tasks assigned and not yet settled (least-busy placement, keep-alive). */
  private readonly inflight: number[] = [];
  private readonly ends: ((reply: ReplyMessage) => void)[] = [];
  private stopping = false;
  private readonly tasks = new Map<number, Task>();
  private readonly abortedInLog = new Set<number>();
  private nextTask = 0;
  private closing: Promise<void> | null = null;

  constructor(readonly index: number, private readonly entry: string, options: PoolOptions, private readonly host: PoolHost) {
    const workers = options.workers ?? 4;
    if (!Number.isInteger(workers) || workers <= 0) throw usage('pool workers must be a positive integer');
    const t = host.thread;
    const mode = t.current();
    if (mode === Mode.Record) t.rec(Kind.Pool, index, workers);
    else if (mode === Mode.Replay) {
      const next = t.peekOwn(); // past a checkpoint recorded before the pool was made
      if (next?.kind === Kind.Pool && next.object === index && next.arg !== workers) {
        throw new LockstepError('ERR_POOL_SIZE',
          `the log was recorded with ${next.arg} pool workers, this run asks for ${workers}. Replay with ${next.arg} workers: ` +
          'task placement and per-worker order are part of the recording.', { recorded: next.arg, requested: workers });
      }
      t.expect(Kind.Pool, index);
      this.scanAborts();
    }
    try {
      this.startWorkers(workers);
    } catch (e) {
      // Workers already started would keep the process alive after the caller caught the error.
      this.stopping = true;
      for (const w of this.threads) void w.terminate();
      throw e;
    }
  }

  private startWorkers(workers: number): void {
    for (let w = 0; w < workers; w++) {
      const init = this.host.addWorker(w);
      const thread = new Worker(handler(), { workerData: { lockstep: init, entry: this.entry } });
      // An idle worker does not keep the process alive; one with tasks to do does (keepAlive).
      thread.unref();
      thread.on('message', (m: ReplyMessage) => this.reply(w, m));
      thread.on('error', (e) => this.died(w, e instanceof Error ? e.message : String(e)));
      thread.on('exit', (code) => this.died(w, `it exited with code ${code}`));
      this.threads.push(thread);
      this.threadIds.push(init.id);
      this.queues.push([]);
      this.posted.push([]);
      this.inflight.push(0);
    }
  }

  get workers(): number {
    return this.threads.length;
  }

  /** Task results held back, in replay, until the log says the main thread saw them. */
  get pending(): number {
    let n = 0;
    for (const task of this.tasks.values()) if (task.arrived) n++;
    return n;
  }

  /** No task submitted and unsettled: the pool's workers are between tasks (a quiescent point). */
  get idle(): boolean {
    return this.tasks.size === 0;
  }

  /** The unsettled tasks, for diagnostics. */
  describe(): string {
    return [...this.tasks.values()].map((t) => `task ${t.id} on ${t.worker}${t.started ? ' started' : ''}${t.arrived ? ' arrived' : ''}`).join(', ') || 'idle';
  }

  /** The id the next task gets (state transfer). */
  get nextTaskId(): number {
    return this.nextTask;
  }

  /** A joining backup continues numbering tasks where the primary's snapshot was taken. */
  resumeAt(nextTask: number): void {
    this.nextTask = nextTask;
  }

  /** The main thread went live at cutover: results held for their recorded turn are delivered now, and recorded. */
  releaseHeld(): void {
    const t = this.host.thread;
    for (const task of [...this.tasks.values()]) {
      if (!task.arrived) continue;
      t.rec(task.arrived.ok ? Kind.TaskDone : Kind.TaskFailed, 0, task.id);
      this.settle(task, task.arrived);
    }
  }

  /** Runs `payload` through the task module's function on some worker; settles in recorded order. */
  run<R = unknown>(payload: unknown, options: RunOptions = {}): Promise<R> {
    return this.submit(payload, options).promise as Promise<R>;
  }

  /** Runs every payload; the results in payload order. */
  map<R = unknown>(payloads: unknown[], options: RunOptions = {}): Promise<R[]> {
    return Promise.all(payloads.map((p) => this.run<R>(p, options)));
  }

  /** Runs every payload and yields each completion in the order the main thread observes it. */
  async *completions<R = unknown>(payloads: unknown[], options: RunOptions = {}): AsyncGenerator<Completion<R>> {
    const ready: Completion<R>[] = [];
    let wake: (() => void) | null = null;
    payloads.forEach((p, index) => {
      const { task, promise } = this.submit(p, options);
      promise.catch(() => {});
      task.listeners.push((o) => {
        ready.push({ index, ok: o.ok, value: o.value as R, error: o.error });
        wake?.();
      });
    });
    for (let yielded = 0; yielded < payloads.length; yielded++) {
      while (ready.length === 0) await new Promise<void>((r) => (wake = r));
      wake = null;
      yield ready.shift()!;
    }
  }

  /** Waits for every task, checks each worker's end in replay, and stops the workers. */
  close(): Promise<void> {
    if (this.stopping && this.closing === null) return Promise.resolve(); // destroyed: nothing left to close
    this.closing ??= (async () => {
      await Promise.allSettled([...this.tasks.values()].map((t) => new Promise((r) => t.listeners.push(r))));
      const ends = await Promise.all(this.threads.map((thread, w) => new Promise<ReplyMessage>((resolve) => {
        this.ends[w] = resolve;
        thread.ref(); // until it answers
        thread.postMessage({ id: -1, close: true } satisfies TaskMessage);
      })));
      for (const end of ends) if ('lockstep' in end) this.host.fail(revive(end.lockstep));
      this.stopping = true;
      await Promise.all(this.threads.map((thread) => thread.terminate()));
    })();
    return this.closing;
  }

  /** Stops every worker at once (the run failed): every unsettled task fails with `error`. */
  destroy(error: Error): void {
    this.stopping = true;
    for (const thread of this.threads) void thread.terminate();
    // A close() waiting for the workers' answers: they will not come (reply() ignores them now).
    for (const end of this.ends) end?.({ id: -1, ok: false, error });
    for (const task of [...this.tasks.values()]) this.settle(task, { ok: false, error });
  }

  private submit(payload: unknown, options: RunOptions): { task: Task; promise: Promise<unknown> } {
    if (this.closing) throw usage('the pool is closed');
    const t = this.host.thread;
    const id = this.nextTask++;
    let worker: number;
    if (t.current() === Mode.Replay) {
      const next = t.peekOwn(); // past a checkpoint recorded between two submits
      worker = next?.kind === Kind.TaskAssign ? this.threadIds.indexOf(next.object) : -1;
      if (worker < 0 || next!.arg !== id) t.diverge(t.describeNext(), `task-assign(task ${id})`);
      t.expect(Kind.TaskAssign, next!.object);
    } else {
      worker = this.leastBusy();
      if (t.mode === Mode.Record) t.rec(Kind.TaskAssign, this.threadIds[worker]!, id);
    }
    let task!: Task;
    const promise = new Promise<unknown>((resolve, reject) => {
      task = {
        id, worker, message: { id, name: options.name ?? 'default', payload }, resolve, reject,
        started: false, alone: options.signal !== undefined, arrived: null, listeners: [],
      };
    });
    this.tasks.set(id, task);
    if (this.inflight[worker]!++ === 0) this.threads[worker]!.ref();
    if (this.abortedInLog.has(id)) return { task, promise }; // replay: it never ran
    this.queues[worker]!.push(task);
    options.signal?.addEventListener('abort', () => this.abort(task), { once: true });
    if (options.signal?.aborted) this.abort(task);
    this.dispatch(worker);
    return { task, promise };
  }

  private leastBusy(): number {
    let best = 0;
    for (let w = 1; w < this.inflight.length; w++) if (this.inflight[w]! < this.inflight[best]!) best = w;
    return best;
  }

  /**
   * Posts the worker's queued tasks, in order, up to the first one that must run alone (it has an
   * abort signal) while the worker still has tasks posted: that one waits until the worker is idle.
   */
  private dispatch(worker: number): void {
    const queue = this.queues[worker]!;
    const posted = this.posted[worker]!;
    while (queue.length > 0 && !(queue[0]!.alone && posted.length > 0)) {
      const task = queue.shift()!;
      task.started = true;
      posted.push(task);
      try {
        this.threads[worker]!.postMessage(task.message);
      } catch (e) {
        // A payload structured clone cannot copy (a function, say): the task can never run.
        this.host.fail(new LockstepError('ERR_THREAD_FAILED', `pool task ${task.id}'s payload cannot be sent to worker ${worker}: ` +
          `${e instanceof Error ? e.message : String(e)}. Task payloads must be structured-clonable.`, { thread: this.threadIds[worker], task: task.id }));
        return;
      }
    }
  }

  /** A worker answered: the outcome of its oldest posted task, or its end. */
  private reply(worker: number, m: ReplyMessage): void {
    if (this.stopping) return; // destroyed: every task is settled already
    if ('output' in m) {
      this.host.emit(m.output);
      return;
    }
    if (m.id === -1) {
      this.ends[worker]?.(m);
      return;
    }
    const task = this.posted[worker]!.shift();
    if (!task || task.id !== m.id) {
      this.host.fail(new LockstepError('ERR_THREAD_FAILED', `pool worker ${worker} answered task ${m.id}, it was running task ${task?.id ?? 'none'}`, { thread: this.threadIds[worker] }));
      return;
    }
    if ('lockstep' in m) {
      this.host.fail(revive(m.lockstep));
      return;
    }
    this.arrive(task, m);
    this.dispatch(worker);
  }

  /** The worker's thread ended (an uncaught error, process.exit) other than by close or destroy. */
  private died(worker: number, why: string): void {
    if (this.stopping) return;
    const task = this.posted[worker]![0];
    this.host.fail(new LockstepError('ERR_THREAD_FAILED',
      `pool worker ${worker} (logical thread ${this.threadIds[worker]}) died${task ? ` running task ${task.id}` : ''}: ${why}. ` +
      'A pool worker is a fixed logical thread and is not replaced; the run stops. Keep process.exit and uncaught errors out of pool tasks.',
      { thread: this.threadIds[worker], ...(task ? { task: task.id } : {}) }));
  }

  /** A task aborted before it started is a failed completion; record logs it where it happened. */
  private abort(task: Task): void {
    if (this.host.thread.mode === Mode.Replay || task.started || task.arrived) return;
    const queue = this.queues[task.worker]!;
    queue.splice(queue.indexOf(task), 1);
    if (this.host.thread.mode === Mode.Record) this.host.thread.rec(Kind.TaskFailed, 1, task.id);
    this.settle(task, { ok: false, error: abortError(task.id) });
    this.dispatch(task.worker); // tasks queued behind it may go now
  }

  private arrive(task: Task, out: Outcome): void {
    const t = this.host.thread;
    if (t.mode === Mode.Replay) {
      task.arrived = out;
      this.host.pump();
      return;
    }
    if (t.mode === Mode.Record) t.rec(out.ok ? Kind.TaskDone : Kind.TaskFailed, 0, task.id);
    this.settle(task, out);
  }

  /** Replay: if the main thread's next event is the completion of one of our tasks, deliver it. */
  deliverNext(next: { kind: number; object: number; arg: number }): boolean {
    if (next.kind !== Kind.TaskDone && next.kind !== Kind.TaskFailed) return false;
    const task = this.tasks.get(next.arg);
    if (!task) return false;
    const t = this.host.thread;
    if (next.kind === Kind.TaskFailed && next.object === 1) {
      t.expect(Kind.TaskFailed, 1);
      this.settle(task, { ok: false, error: abortError(task.id) });
      return true;
    }
    if (!task.arrived) return false;
    if ((next.kind === Kind.TaskDone) !== task.arrived.ok) {
      t.diverge(t.describeNext(), `completion-order(${task.arrived.ok ? 'ok' : 'failed'})(task ${task.id})`);
    }
    t.expect(next.kind, next.object);
    this.settle(task, task.arrived);
    return true;
  }

  private settle(task: Task, out: Outcome): void {
    this.tasks.delete(task.id);
    if (--this.inflight[task.worker]! === 0) this.threads[task.worker]!.unref();
    if (out.ok) task.resolve(out.value);
    else task.reject(out.error);
    for (const listener of task.listeners) listener(out);
  }

  private scanAborts(): void {
    const s = this.host.thread.stream!;
    for (let p = s.pos; p < s.events.length; p += 2) {
      const h = s.events[p]!;
      if (h >>> 24 === Kind.TaskFailed && (h & 0xffffff) === 1) this.abortedInLog.add(s.events[p + 1]!);
    }
  }
}

function abortError(id: number): Error {
  const e = new Error(`task ${id} was aborted before it started`);
  e.name = 'AbortError';
  return e;
}
