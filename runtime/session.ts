// The main thread's side of a run, as the program sees it: spawn() and pool() start logical
// threads, input() feeds external inputs in the recorded order, onOutput() delivers outputs, and
// finish() seals the run with its digest. start() (runtime/start.ts) assembles it. The same
// program runs unchanged in modes off, record and replay.

import { statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serialize, deserialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Arena } from '../engine/arena.js';
import type { Limits } from '../engine/limits.js';
import { LockstepThread, live, type Output } from '../engine/thread_api.js';
import { LockstepError, digestMismatch, divergence, finished, limitExceeded, replayStall, revive, serializeError, threadFailed, usage, wrongProgram } from '../engine/errors.js';
import { Kind, ValueKind, kindOf } from '../engine/event.js';
import type { ChaosOptions } from '../engine/chaos.js';
import { C_ABORT, FINISH_CUT_OFF, FINISH_SEALED, T_OUTPUTS, T_OUTPUT_DIGEST, T_PROGRESS, T_RING, T_RING_WORDS } from '../engine/arena_layout.js';
import { Mode, modeNames, type ModeName, type Thread } from '../engine/thread.js';
import { digestArena } from '../engine/digest.js';
import { digestBlocks, encodeBlocks } from '../engine/checkpoint.js';
import type { CheckpointTaker } from '../recorder/checkpoint.js';
import type { CheckpointJudge, CheckpointSummary } from '../replayer/checkpoint.js';
import type { Channel } from '../engine/sync/channel.js';
import { RING_HEADER_SLOTS } from '../engine/arena_layout.js';
import type { ReplayLog } from '../replayer/log_reader.js';
import type { StreamInit } from '../replayer/stream.js';
import type { ReplicationStatus } from '../replication/replica.js';
import type { SpawnInit } from '../workers/bootstrap.js';
import type { WorkerInit } from '../workers/worker_runtime.js';
import { Pool, type PoolOptions } from '../workers/pool.js';
import type { Drain, RunningDrain } from './drain_life.js';
import { identify, toHref } from './identity.js';
import type { LiveHost, LiveNode, LiveRun } from './live.js';
import { envValue } from './options.js';
import { failureOf, loadedParts, releaseProcess, writeResultFile } from './process_run.js';
import type { ReplayPump } from './replay_pump.js';

export type { StartOptions } from './options.js';

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

export interface RunResult {
  mode: ModeName;
  digest: string;
  /** Replay: the digest the recording ended with (equal to `digest`, or finish() throws). */
  recordedDigest?: string;
  threads: number;
  /** Events recorded or replayed, all threads together. */
  events: number;
  log?: string;
  logBytes?: number;
  /** Checkpoints: recorded and given up (record), or compared and matched (replay). */
  checkpoints?: { recorded: number; givenUp: number } | CheckpointSummary;
}

export class Session extends LockstepThread {
  private readonly exits: Promise<ThreadExit>[] = [];
  private readonly workers = new Map<number, Worker>();
  private readonly pools: Pool[] = [];
  private failure: Error | null = null;
  private failed!: (e: Error) => void;
  private readonly failedPromise = new Promise<never>((_, reject) => (this.failed = reject));
  private finished = false;
  private readonly sinks: ((o: Output) => void)[] = [];
  private readonly delivered = new Map<number, number>();
  private progressTimer: NodeJS.Timeout | null = null;
  private drain: RunningDrain | null;
  /**
   * Replay: hands the main thread's recorded events to its async consumers in order (also on a
   * replicated node, whose backup replays and goes live through it). Null otherwise: with neither
   * there is nothing to pump, and mode off does not load it.
   */
  private readonly replayPump: ReplayPump | null;
  /** A replicated node's live run (null when not replicated). */
  private readonly liveNode: LiveNode | null;

  constructor(
    arena: Arena,
    thread: Thread,
    seed: bigint,
    public logPath: string | undefined,
    drain: Drain | null,
    private readonly log: ReplayLog | null,
    private readonly restore: () => void,
    private readonly patch: boolean,
    private readonly until: { thread: number; index: number } | null,
    /** Identifies this run among others in the same process (names the output and stream channels). */
    readonly runId: string,
    private readonly live: LiveRun | null,
    private readonly chaos: ChaosOptions | null = null,
    private readonly watchDeadlock = false,
    /** Checkpoints: the main thread's timer that takes them (record), or its judge (replay). */
    private readonly checkpointing: { taker: CheckpointTaker | null; judge: CheckpointJudge | null } = { taker: null, judge: null },
  ) {
    super(arena, thread, seed, true);
    this.replayPump = thread.mode === Mode.Replay || live ? new (loadedParts().ReplayPump)(thread, arena, this.pools, live !== null, {
      failure: () => this.failure,
      finished: () => this.finished,
      fail: (e) => this.fail(e),
    }) : null;
    this.liveNode = live ? new (loadedParts().LiveNode)(live, this.liveHost()) : null;
    this.failedPromise.catch(() => {});
    this.drain = drain ? new (loadedParts().RunningDrain)(drain, arena.a, (e) => this.fail(e)) : null;
    this.deliver = (o) => this.emit(o);
    if (thread.mode === Mode.Replay) thread.onAdvance = () => this.replayPump!.pump();
    if (this.replayPump) this.replayPump.checkpoints = checkpointing.judge;
    checkpointing.taker?.start();
    thread.onFail = (e) => this.fail(e);
    thread.progressSlot = arena.threadSlot(thread.id) + T_PROGRESS;
    const progressFile = envValue('LOCKSTEP_PROGRESS_FILE');
    if (thread.mode === Mode.Replay && progressFile) {
      // For the CLI's progress bar: the main thread's event loop reports while it is free.
      this.progressTimer = setInterval(() => writeFileSync(progressFile, JSON.stringify(this.progress())), 200);
      this.progressTimer.unref();
    }
  }

  /** Replay: events replayed so far (all threads, updated every 256 per thread) out of the log's total. */
  progress(): { events: number; total: number } {
    let events = 0;
    for (let t = 0; t < this.arena.threadCount; t++) events += Atomics.load(this.arena.a, this.arena.threadSlot(t) + T_PROGRESS);
    return { events, total: this.log?.trailer.eventCount ?? 0 };
  }

  /** Attaches an output sink: called once per output of any thread, with its deterministic id. */
  onOutput(sink: (o: Output) => void): void {
    this.sinks.push(sink);
  }

  /** A pool of `workers` logical threads running task functions from `entry` (one worker_threads Worker each). */
  pool(entry: string | URL, options: PoolOptions = {}): Pool {
    this.usable('pool()');
    // Checked before anything is created or recorded: a refused pool leaves the run as it was.
    const workers = options.workers ?? 4;
    if (!Number.isInteger(workers) || workers <= 0) throw usage(`pool workers must be a positive integer, got ${String(options.workers)}`);
    const free = this.arena.limits.threadsMax - this.arena.threadCount;
    if (workers > free) throw limitExceeded('threadsMax', this.arena.threadCount + workers, this.arena.limits.threadsMax, `a pool of ${workers} workers (${this.arena.threadCount} threads exist)`);
    const href = toHref(entry);
    this.failOn(() => this.identifyModule(href));
    // No checkpoint cuts once a pool exists: replays of the bank and wordcount examples recorded
    // with cuts between pool tasks still stall now and then (a thread short of a version or of
    // its mark; not understood yet), so a pool program gets the end-of-run ranges only.
    this.checkpointing.taker?.stop();
    const pool = this.failOn(() => new Pool(this.pools.length, href, options, {
      thread: this.thread,
      addWorker: (index) => this.workerInit(this.addThread(), options.data, index),
      fail: (e) => this.fail(e),
      pump: () => this.replayPump?.pump(),
      emit: (o) => this.emit(o),
    }));
    this.pools.push(pool);
    return pool;
  }

  /** Refuses calls once the session finished or failed. */
  private usable(what: string): void {
    if (this.finished || this.thread.ended) throw finished(what);
  }

  /** A lockstep error thrown on the main thread's path fails the whole run (fail-stop). */
  private failOn<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof LockstepError) this.fail(e);
      throw e;
    }
  }

  private emit(o: Output): void {
    this.delivered.set(o.thread, (this.delivered.get(o.thread) ?? 0) + 1);
    if (this.live) this.live.replica.admit(o);
    else this.sink(o);
  }

  private sink(o: Output): void {
    for (const sink of this.sinks) sink(o);
  }

  /** Live replication: this node's role, epoch, lag and output-gate latency (null when not replicated). */
  replication(): ReplicationStatus | null {
    return this.liveNode?.status() ?? null;
  }

  /**
   * Live replication's output rule for answers that are not outputs (reads): resolves once this
   * node has proved, after the call, that it still holds its epoch (its backup confirmed it still
   * follows, or it runs alone having won its epoch); rejects (ERR_NOT_SERVING, or why it stopped)
   * when it cannot, so a deposed primary never answers. Resolves at once when not replicated.
   */
  fence(): Promise<void> {
    if (!this.live) return Promise.resolve();
    return this.live.replica.fence();
  }

  /** Resolves when this node is live: a primary at once, a backup after it has taken over. */
  whenLive(): Promise<void> {
    return this.liveNode?.whenLive() ?? Promise.resolve();
  }

  /** Replay even if a module file lockstep starts differs from the recorded one. */
  allowProgramChange = false;
  /** sha256 of each module file this run started, by href (read once). */
  private readonly moduleHashes = new Map<string, Uint8Array>();

  /**
   * The identity of a module file lockstep starts (a spawn's entry, a pool's task module): its
   * content hash is a main-thread event, so a replay that starts an edited worker or task module
   * stops with ERR_WRONG_PROGRAM before the module runs (the header is written before the program
   * names its modules, so they cannot be in it).
   */
  private identifyModule(href: string): void {
    const t = this.thread;
    const mode = t.current();
    if (mode === Mode.Off) return;
    let hash = this.moduleHashes.get(href);
    if (!hash) {
      t.quiet = true;
      try {
        hash = new Uint8Array(Buffer.from(identify(href).hash, 'hex'));
      } finally {
        t.quiet = false;
      }
      this.moduleHashes.set(href, hash);
    }
    if (mode === Mode.Record) {
      t.recPayload(Kind.Value, ValueKind.Module, hash);
      return;
    }
    const recorded = t.expectPayload(Kind.Value, ValueKind.Module);
    if (Buffer.compare(recorded, hash) === 0) return;
    const path = href.startsWith('file:') ? fileURLToPath(href) : href;
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').slice(0, 12);
    if (!this.allowProgramChange) {
      throw wrongProgram(this.logPath ?? 'the log', `module ${path} (sha256 ${hex(recorded)})`, `module ${path} (sha256 ${hex(hash)})`);
    }
    t.program = 'changed';
  }

  /** start({ threadFailures }): whether a failed thread fails the run. */
  threadFailures: 'fail' | 'handle' = 'fail';

  /** Starts `count` logical threads running `entry` (a worker module: path or file URL). */
  spawn(entry: string | URL, options: SpawnOptions = {}): Spawned {
    this.usable('spawn()');
    const count = options.count ?? 1;
    if (!Number.isInteger(count) || count <= 0) throw usage('spawn count must be a positive integer');
    const free = this.arena.limits.threadsMax - this.arena.threadCount;
    if (count > free) throw limitExceeded('threadsMax', this.arena.threadCount + count, this.arena.limits.threadsMax, `spawning ${count} threads (${this.arena.threadCount} exist)`);
    const href = toHref(entry);
    this.failOn(() => this.identifyModule(href));
    const ids: number[] = [];
    const workers: Worker[] = [];
    const exits: Promise<ThreadExit>[] = [];
    for (let k = 0; k < count; k++) {
      const id = this.failOn(() => this.addThread());
      const init: SpawnInit = { ...this.workerInit(id, options.data, k), entry: href };
      const worker = new Worker(new URL('../workers/bootstrap.js', import.meta.url), { workerData: { lockstep: init } });
      ids.push(id);
      workers.push(worker);
      this.workers.set(id, worker);
      exits.push(this.watch(id, worker));
    }
    this.exits.push(...exits);
    const exited = Promise.race([Promise.all(exits), this.failedPromise]);
    exited.catch(() => {});
    return { ids, workers, exited };
  }

  /**
   * Reads one external input with `read` and sends it into `channel`. Record logs the value at
   * this point of the main thread; replay takes it from the log and never calls `read`.
   */
  async input<T>(channel: Channel<T>, read: () => T | Promise<T>): Promise<T> {
    this.usable('input()');
    const t = this.thread;
    let value: T;
    if (this.liveNode?.joining) this.liveNode.joined();
    if (t.mode === Mode.Replay) await this.replayPump!.turn(Kind.Input, channel.id);
    if (t.mode === Mode.Replay) {
      value = deserialize(t.expectPayload(Kind.Input, channel.id)) as T;
      await this.replayPump!.versionTurn(channel.versionSlot, Kind.Send, channel.id);
    } else {
      if (this.liveNode?.joinWanted) await this.liveNode.transferState();
      value = await read();
      if (t.mode === Mode.Record) {
        const bytes = serialize(value);
        const max = this.arena.limits.payloadBytesMax;
        if (bytes.length > max) throw limitExceeded('payloadBytesMax', bytes.length, max, 'one input');
        t.recPayload(Kind.Input, channel.id, bytes);
      }
    }
    channel.send(value);
    return value;
  }

  /** No pool task in flight and no spawned thread running: every thread but the main one is still. */
  private get quiescent(): boolean {
    return this.pools.every((p) => p.idle) && this.workers.size === 0;
  }

  /** Waits for every thread, computes the digest, and seals the log (record) or checks it (replay). */
  async finish(): Promise<RunResult> {
    if (this.finished) throw finished('finish() called again');
    this.finished = true;
    try {
      const result = await this.seal();
      writeResultFile({ ok: true, ...result });
      return result;
    } catch (e) {
      writeResultFile(failureOf(e));
      throw e;
    }
  }

  private async seal(): Promise<RunResult> {
    try {
      // Replay: finish() must meet the recorded end now, not after the threads, which may be
      // waiting for something (a spawn, say) this run skipped.
      await Promise.race([Promise.all(this.pools.map((p) => p.close())), this.failedPromise]);
      if (this.failure) throw this.failure;
      if (this.thread.current() === Mode.Replay) {
        if (this.log?.trailer.cutOff && this.thread.peek() === null) await this.replayedFailure();
        this.thread.peekExpect(Kind.Checkpoint, 1, 'finish()'); // the end blocks, then the end event
      }
      await Promise.race([Promise.all(this.exits), this.failedPromise]);
      if (this.failure) throw this.failure;
      await this.outputsDelivered();
      this.checkpointing.taker?.stop();
      const digestBytes = digestArena(this.arena, this.outputDigests());
      const digest = Buffer.from(digestBytes).toString('hex');
      const threads = this.arena.threadCount;
      const mode = modeNames[this.thread.mode]!;
      if (this.thread.mode === Mode.Record) {
        this.thread.recPayload(Kind.Checkpoint, 1, encodeBlocks(digestBlocks(this.arena)));
        this.thread.recPayload(Kind.End, 0, digestBytes);
        const report = await this.drain!.stop(FINISH_SEALED, this.failedPromise);
        if (this.live) await Promise.race([this.live.replica.end(report.frames), this.failedPromise]);
        const taker = this.checkpointing.taker;
        const checkpoints = taker ? { recorded: taker.taken, givenUp: taker.givenUp } : undefined;
        return { mode, digest, threads, events: report.events, log: this.logPath, logBytes: statSync(this.logPath!).size, checkpoints };
      }
      if (this.thread.mode === Mode.Replay) {
        const endBlocks = this.thread.expectPayload(Kind.Checkpoint, 1);
        const recorded = Buffer.from(this.thread.expectPayload(Kind.End, 0)).toString('hex');
        if (!this.thread.stream!.exhausted) this.thread.diverge('more main-thread events', 'finish()');
        const judge = this.checkpointing.judge;
        if (recorded !== digest) throw digestMismatch(recorded, digest, judge ? loadedParts().digestReport(judge, endBlocks) : null);
        // A following backup that finished first says so, or its primary takes the close for a loss.
        if (this.live) await this.live.replica.finished(digest);
        if (envValue('LOCKSTEP_PROGRESS_FILE')) writeFileSync(envValue('LOCKSTEP_PROGRESS_FILE')!, JSON.stringify(this.progress()));
        const events = this.log?.trailer.eventCount ?? this.progress().events;
        return { mode, digest, recordedDigest: recorded, threads, events, log: this.logPath, logBytes: this.log?.bytes, checkpoints: judge?.summary() };
      }
      return { mode, digest, threads, events: 0 };
    } catch (e) {
      this.fail(e as Error);
      if (this.drain && !this.drain.signalled) await this.drain.stop(FINISH_CUT_OFF, this.failedPromise).catch(() => {});
      throw e;
    } finally {
      this.thread.ended = true;
      this.checkpointing.taker?.stop();
      releaseProcess(this);
      this.restore();
      this.live?.replica.stop();
      this.replayPump?.close();
      if (this.progressTimer) clearInterval(this.progressTimer);
      this.drain?.terminate();
    }
  }

  /**
   * Replay of a log cut off by a failure, and the main thread's part is over: the recording ended
   * with a thread's failure, so the replay ends when that failure happens again (or stalls).
   */
  private async replayedFailure(): Promise<never> {
    const ms = this.arena.limits.stallMsMax;
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(replayStall(0, 'the failure that cut the recording off', ms)), ms);
    });
    try {
      return await Promise.race([this.failedPromise, stalled]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Every thread's chained output digest, in thread order: outputs are part of the run digest. */
  private outputDigests(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let t = 0; t < this.arena.threadCount; t++) {
      const slot = this.arena.threadSlot(t) + T_OUTPUT_DIGEST;
      out.push(new Uint8Array(this.arena.a.slice(slot, slot + 8).buffer));
    }
    return out;
  }

  /** Waits until the sinks have seen every output the threads emitted (they travel by message). */
  private async outputsDelivered(): Promise<void> {
    const started = live.perfNow();
    for (;;) {
      let missing = 0;
      for (let t = 0; t < this.arena.threadCount; t++) {
        missing += Atomics.load(this.arena.a, this.arena.threadSlot(t) + T_OUTPUTS) - (this.delivered.get(t) ?? 0);
      }
      if (missing === 0) return;
      if (live.perfNow() - started > this.arena.limits.stallMsMax) {
        throw new LockstepError('ERR_REPLAY_STALL', `${missing} outputs never reached the main thread's sinks`);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** Stops the run after a failure: every waiting thread is woken and every worker ended. */
  private fail(e: Error): void {
    if (this.failure) return;
    e = this.explainStall(e);
    this.failure = e;
    releaseProcess(this);
    this.restore();
    Atomics.store(this.arena.a, C_ABORT, 1);
    this.failed(e);
    for (const w of this.workers.values()) w.terminate().catch(() => {});
    for (const p of this.pools) p.destroy(e);
    this.replayPump?.stop(e);
    writeResultFile(failureOf(e));
  }

  /**
   * A replay stall while the main thread still owes a recorded spawn is a divergence of the main
   * thread: it went on waiting where the recording started another thread.
   */
  private explainStall(e: Error): Error {
    if (!(e instanceof LockstepError) || e.code !== 'ERR_REPLAY_STALL' || this.thread.mode !== Mode.Replay) return e;
    const s = this.thread.stream!;
    if (s.pos < s.events.length && kindOf(s.events[s.pos]!) === Kind.Spawn) {
      return divergence({
        thread: 0,
        index: this.thread.index,
        expected: this.thread.describeNext(),
        actual: `no further spawn while the other threads waited for it (${e.message})`,
        program: this.thread.program,
      });
    }
    return e;
  }

  /** What the live run may use of this session. */
  private liveHost(): LiveHost {
    const session = this; // the logPath accessors below read and set the session's own
    return {
      arena: this.arena,
      thread: this.thread,
      pools: this.pools,
      delivered: this.delivered,
      failed: this.failedPromise,
      get logPath() {
        return session.logPath;
      },
      set logPath(path) {
        session.logPath = path;
      },
      hasDrain: () => this.drain !== null,
      adoptDrain: (d) => {
        this.drain = new (loadedParts().RunningDrain)(d, this.arena.a, (e) => this.fail(e));
      },
      quiescent: () => this.quiescent,
      failure: () => this.failure,
      fail: (e) => this.fail(e),
      sink: (o) => this.sink(o),
      pump: () => this.replayPump!.pump(),
    };
  }

  private addThread(): number {
    const mode = this.thread.current();
    const { id } = this.arena.addThread(ringWordsFor(mode, this.arena.limits, this.live !== null), RING_HEADER_SLOTS);
    if (mode === Mode.Record) this.thread.rec(Kind.Spawn, id, 0);
    else if (mode === Mode.Replay) this.thread.expect(Kind.Spawn, id);
    return id;
  }

  private workerInit(id: number, data: unknown, index: number): WorkerInit {
    return {
      arena: this.arena.buffer,
      limits: this.arena.limits,
      id,
      mode: this.thread.mode,
      ring: this.ringOf(id),
      stream: this.streamOf(id),
      live: this.live && this.thread.mode !== Mode.Record ? { floors: this.live.floors, joined: this.live.snapshot !== null } : null,
      seed: this.seed.toString(),
      seeded: this.thread.seeded !== null,
      program: this.thread.program,
      patch: this.patch,
      run: this.runId,
      data,
      index,
      until: this.until?.thread === id ? this.until.index : -1,
      chaos: this.thread.mode === Mode.Record ? this.chaos : null,
      deadlock: this.watchDeadlock && this.thread.mode !== Mode.Replay,
      // A pool's workers start after cuts stopped (pool()): they pay no sync-point hook.
      checkpoints: this.checkpointing.taker?.active === true || this.checkpointing.judge !== null,
    };
  }

  private ringOf(id: number): { base: number; words: number } | null {
    if (this.thread.mode !== Mode.Record) return null;
    const slot = this.arena.threadSlot(id);
    return { base: this.arena.a[slot + T_RING]!, words: this.arena.a[slot + T_RING_WORDS]! };
  }

  private streamOf(id: number): StreamInit | null {
    if (this.live && this.thread.mode !== Mode.Record) return loadedParts().liveStream(this.runId, this.arena, id);
    return this.log ? streamInit(this.log, id) : null;
  }

  private watch(id: number, worker: Worker): Promise<ThreadExit> {
    return new Promise((done) => {
      let result: ThreadExit | null = null;
      // A thread the session itself ended (after another failure) is not a failure of its own.
      const failed = (error: Error): void => {
        result = { thread: id, ok: false, error };
        if (this.threadFailures === 'fail' && !this.failure) this.fail(threadFailed(id, error));
      };
      worker.on('message', (m: { type: string; error?: unknown; lockstep?: boolean; output?: Output }) => {
        if (m.type === 'output') this.emit(m.output!);
        if (m.type === 'exit') result = { thread: id, ok: true };
        if (m.type === 'failed') {
          const error = revive(m.error);
          if (m.lockstep) {
            this.fail(error);
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
