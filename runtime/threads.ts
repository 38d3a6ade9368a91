// The run's other logical threads, as the main thread starts and watches them: spawn() starts
// worker_threads Workers on an entry, pool() a recorded pool; each new thread is a Spawn event
// of the main thread, gets its ring (record, or any replicated node) or its recorded stream
// (replay), and is watched until it exits: a failed thread fails the run unless the program
// handles thread failures itself.

import { Worker } from 'node:worker_threads';
import type { Arena } from '../engine/arena.js';
import type { Limits } from '../engine/limits.js';
import type { Output } from '../engine/thread_api.js';
import { freshBundle } from '../engine/bundle.js';
import { limitExceeded, revive, serializeError, threadFailed, usage } from '../engine/errors.js';
import { Kind } from '../engine/event.js';
import type { ChaosOptions } from '../engine/chaos.js';
import { RING_HEADER_SLOTS, T_RING, T_RING_WORDS } from '../engine/arena_layout.js';
import { Mode, type Thread } from '../engine/thread.js';
import type { ReplayLog } from '../replayer/log_reader.js';
import type { StreamInit } from '../replayer/stream.js';
import type { CheckpointTaker } from '../recorder/checkpoint.js';
import type { CheckpointJudge } from '../replayer/checkpoint.js';
import type { SpawnInit } from '../workers/bootstrap.js';
import type { WorkerInit } from '../workers/worker_runtime.js';
import { Pool, type PoolOptions } from '../workers/pool.js';
import { toHref, type ModuleIdentity } from './identity.js';
import type { LiveRun } from './live.js';
import type { Outputs } from './outputs.js';
import { loadedParts } from './process_run.js';
import type { RunFailure } from './run_failure.js';

export interface SpawnOptions {
  /** How many threads to start from this entry (default 1). */
  count?: number;
  /** Structured-clonable data each thread gets as `attach().data`. */
  data?: unknown;
}

export interface ThreadExit {
  thread: number;
  ok: boolean;
  error?: Error;
}

export interface Spawned {
  ids: number[];
  workers: Worker[];
  /** Settles when every thread of this spawn has exited; rejects if the run failed (divergence…). */
  exited: Promise<ThreadExit[]>;
}

/** Checkpoints: the main thread's timer that takes them (record), or its judge (replay). */
export interface Checkpointing {
  taker: CheckpointTaker | null;
  judge: CheckpointJudge | null;
}

/** What every thread the run starts inherits from it (start.ts resolves these). */
export interface ThreadSetup {
  arena: Arena;
  /** The main thread. */
  thread: Thread;
  seed: bigint;
  /** Whether the threads patch Math.random, Date and the timers (as the main thread does). */
  patch: boolean;
  /** Replay --until: the thread and event index to stop at. */
  until: { thread: number; index: number } | null;
  /** Identifies this run among others in the same process (names the output and stream channels). */
  runId: string;
  /** A replicated node's live run (null when not replicated). */
  live: LiveRun | null;
  /** Chaos recording's options (record only). */
  chaos: ChaosOptions | null;
  /** Deadlock detection in the threads (record and mode off). */
  watchDeadlock: boolean;
  /** Replay: the log the threads' streams come from. */
  log: ReplayLog | null;
  /** start({ threadFailures }): whether a failed thread fails the run. */
  threadFailures: 'fail' | 'handle';
  /** Whether the threads take part in checkpoint cuts. */
  checkpointing: Checkpointing;
}

export class Threads {
  /** Every spawned thread's exit, in spawn order. */
  private readonly exits: Promise<ThreadExit>[] = [];
  /** Spawned threads still running, by id. */
  private readonly workers = new Map<number, Worker>();
  /** The run's pools, in creation order (the replay pump and the live run hold this array). */
  readonly pools: Pool[] = [];

  constructor(
    private readonly setup: ThreadSetup,
    private readonly failure: RunFailure,
    private readonly outputs: Outputs,
    private readonly identity: ModuleIdentity,
    /** Replay: offers the main thread's next recorded event to its consumers. */
    private readonly pump: () => void,
  ) {}

  /** Starts `count` logical threads running `entry` (a worker module: path or file URL). */
  spawn(entry: string | URL, options: SpawnOptions): Spawned {
    const count = options.count ?? 1;
    if (!Number.isInteger(count) || count <= 0) throw usage('spawn count must be a positive integer');
    this.room(count, `spawning ${count} threads (${this.setup.arena.threadCount} exist)`);
    const href = this.identified(entry);
    const ids: number[] = [];
    const workers: Worker[] = [];
    const exits: Promise<ThreadExit>[] = [];
    for (let k = 0; k < count; k++) {
      const id = this.failure.failOn(() => this.addThread());
      const init: SpawnInit = { ...this.workerInit(id, options.data, k), entry: href };
      const worker = new Worker(freshBundle(new URL('../workers/bootstrap.js', import.meta.url), new URL('../workers/bundle/bootstrap.js', import.meta.url)), { workerData: { lockstep: init } });
      ids.push(id);
      workers.push(worker);
      this.workers.set(id, worker);
      exits.push(this.watch(id, worker));
    }
    this.exits.push(...exits);
    const exited = Promise.race([Promise.all(exits), this.failure.failed]);
    exited.catch(() => {});
    return { ids, workers, exited };
  }

  /** A pool of `workers` logical threads running task functions from `entry` (one worker_threads Worker each). */
  pool(entry: string | URL, options: PoolOptions): Pool {
    // Checked before anything is created or recorded: a refused pool leaves the run as it was.
    const workers = options.workers ?? 4;
    if (!Number.isInteger(workers) || workers <= 0) throw usage(`pool workers must be a positive integer, got ${String(options.workers)}`);
    this.room(workers, `a pool of ${workers} workers (${this.setup.arena.threadCount} threads exist)`);
    const href = this.identified(entry);
    const pool = this.failure.failOn(() => new Pool(this.pools.length, href, options, {
      thread: this.setup.thread,
      addWorker: (index) => this.workerInit(this.addThread(), options.data, index),
      fail: (e) => this.failure.fail(e),
      pump: () => this.pump(),
      emit: (o) => this.outputs.emit(o),
    }));
    this.pools.push(pool);
    return pool;
  }

  /** No pool task in flight and no spawned thread running: every thread but the main one is still. */
  get quiescent(): boolean {
    return this.pools.every((p) => p.idle) && this.workers.size === 0;
  }

  /** Closes every pool (its workers finish their tasks and exit). */
  closePools(): Promise<void[]> {
    return Promise.all(this.pools.map((p) => p.close()));
  }

  /** Settles when every spawned thread has exited. */
  allExited(): Promise<ThreadExit[]> {
    return Promise.all(this.exits);
  }

  /** The run failed: every spawned thread is terminated and every pool destroyed. */
  stop(e: Error): void {
    for (const w of this.workers.values()) w.terminate().catch(() => {});
    for (const p of this.pools) p.destroy(e);
  }

  /** Refuses (ERR_LIMIT_EXCEEDED) `count` more threads than threadsMax leaves room for. */
  private room(count: number, what: string): void {
    const { arena } = this.setup;
    const free = arena.limits.threadsMax - arena.threadCount;
    if (count > free) throw limitExceeded('threadsMax', arena.threadCount + count, arena.limits.threadsMax, what);
  }

  /** The module `entry` names, as a URL, once its identity is recorded or checked (a mismatch fails the run). */
  private identified(entry: string | URL): string {
    const href = toHref(entry);
    this.failure.failOn(() => this.identity.check(href));
    return href;
  }

  private addThread(): number {
    const { arena, thread } = this.setup;
    const mode = thread.current();
    const { id } = arena.addThread(ringWordsFor(mode, arena.limits, this.setup.live !== null), RING_HEADER_SLOTS);
    if (mode === Mode.Record) thread.rec(Kind.Spawn, id, 0);
    else if (mode === Mode.Replay) thread.expect(Kind.Spawn, id);
    return id;
  }

  private workerInit(id: number, data: unknown, index: number): WorkerInit {
    const s = this.setup;
    const mode = s.thread.mode;
    return {
      arena: s.arena.buffer,
      limits: s.arena.limits,
      id,
      mode,
      ring: this.ringOf(id),
      stream: this.streamOf(id),
      live: s.live && mode !== Mode.Record ? { floors: s.live.floors, joined: s.live.snapshot !== null } : null,
      seed: s.seed.toString(),
      seeded: s.thread.seeded !== null,
      program: s.thread.program,
      patch: s.patch,
      run: s.runId,
      data,
      index,
      until: s.until?.thread === id ? s.until.index : -1,
      chaos: mode === Mode.Record ? s.chaos : null,
      deadlock: s.watchDeadlock && mode !== Mode.Replay,
      // Record: only while cuts are taken (not with checkpointMs 0, nor after finish() stopped them).
      checkpoints: s.checkpointing.taker?.active === true || s.checkpointing.judge !== null,
    };
  }

  private ringOf(id: number): { base: number; words: number } | null {
    const { arena, thread } = this.setup;
    if (thread.mode !== Mode.Record) return null;
    const slot = arena.threadSlot(id);
    return { base: arena.a[slot + T_RING]!, words: arena.a[slot + T_RING_WORDS]! };
  }

  private streamOf(id: number): StreamInit | null {
    const s = this.setup;
    if (s.live && s.thread.mode !== Mode.Record) return loadedParts().liveStream(s.runId, s.arena, id);
    return s.log ? streamInit(s.log, id) : null;
  }

  private watch(id: number, worker: Worker): Promise<ThreadExit> {
    return new Promise((done) => {
      let result: ThreadExit | null = null;
      // A thread the session itself ended (after another failure) is not a failure of its own.
      const failed = (error: Error): void => {
        result = { thread: id, ok: false, error };
        if (this.setup.threadFailures === 'fail' && !this.failure.error) this.failure.fail(threadFailed(id, error));
      };
      worker.on('message', (m: { type: string; error?: unknown; lockstep?: boolean; output?: Output }) => {
        if (m.type === 'output') this.outputs.emit(m.output!);
        if (m.type === 'exit') result = { thread: id, ok: true };
        if (m.type === 'failed') {
          const error = revive(m.error);
          if (m.lockstep) {
            this.failure.fail(error);
            result = { thread: id, ok: false, error };
          } else failed(error);
        }
      });
      worker.on('error', (e) => failed(revive(serializeError(e))));
      worker.on('exit', (code) => {
        this.workers.delete(id);
        if (!result && code !== 0) failed(revive(serializeError(new Error(`thread ${id} exited with code ${code}`))));
        done(result ?? { thread: id, ok: true });
      });
    });
  }
}

// What each logical thread gets: its ring in the arena (record, and on every replicated node) or
// its recorded stream (replay).

/** Rings exist while recording, and on a replicated node always (a backup records once it takes over). */
export function ringWordsFor(mode: Mode, limits: Limits, replicated: boolean): number {
  return mode === Mode.Record || replicated ? limits.ringBytes / 4 : 0;
}

export function streamInit(log: ReplayLog, thread: number): StreamInit {
  return log.streams.get(thread) ?? loadedParts().StreamReader.build(new Int32Array(0), new Uint8Array(0), log.trailer.cutOff);
}
