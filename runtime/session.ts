// The main thread's side of a run, as the program sees it: spawn() and pool() start logical
// threads, input() feeds external inputs in the recorded order, onOutput() delivers outputs, and
// finish() seals the run with its digest. start() (runtime/start.ts) assembles it. The same
// program runs unchanged in modes off, record and replay.

import { statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serialize, deserialize } from 'node:v8';
import { BroadcastChannel, MessageChannel, Worker } from 'node:worker_threads';
import type { Arena } from '../engine/arena.js';
import { LockstepThread, live, type Output } from '../engine/thread_api.js';
import { LockstepError, digestMismatch, divergence, finished, limitExceeded, replayStall, revive, serializeError, threadFailed, usage, wrongProgram } from '../engine/errors.js';
import { Kind, ValueKind, kindOf } from '../engine/event.js';
import type { ChaosOptions } from '../engine/chaos.js';
import {
  C_ABORT, C_ACKED_FRAMES, C_ALONE, C_DOORBELL, C_DRAIN_DONE, C_FINISH, C_LAG_WAITS, C_LIVE, C_SHIPPED_FRAMES, FINISH_CUT_OFF, FINISH_SEALED,
  T_OUTPUTS, T_OUTPUT_DIGEST, T_PROGRESS, T_RING, T_RING_WORDS,
} from '../engine/arena_layout.js';
import { Mode, modeNames, type ModeName, type Thread } from '../engine/thread.js';
import { frame } from '../engine/log/frame.js';
import { digestArena } from '../engine/digest.js';
import { digestBlocks, encodeBlocks } from '../engine/checkpoint.js';
import type { CheckpointTaker } from '../recorder/checkpoint.js';
import { digestReport, type CheckpointJudge, type CheckpointSummary } from '../replayer/checkpoint.js';
import type { Channel } from '../engine/sync/channel.js';
import { RING_HEADER_SLOTS } from '../recorder/ring.js';
import type { DrainReport } from '../recorder/drain.js';
import type { ReplayLog } from '../replayer/log_reader.js';
import type { StreamInit } from '../replayer/stream.js';
import type { ReplicationStatus } from '../replication/replica.js';
import type { Snapshot } from '../replication/snapshot.js';
import type { SpawnInit } from '../workers/bootstrap.js';
import { liveStream, outputChannelName, type WorkerInit } from '../workers/worker_runtime.js';
import { Pool, type PoolOptions } from '../workers/pool.js';
import { CUT_OFF_WAIT_MS, startDrain, type Drain } from './drain_life.js';
import { identify, toHref } from './identity.js';
import { loadedParts } from './lazy_parts.js';
import { FAIL_STOP_EXIT_CODE, type LiveRun } from './live.js';
import { releaseProcess } from './one_run.js';
import { envValue } from './options.js';
import { failureOf, writeResultFile } from './result_file.js';
import { ringWordsFor, streamInit } from './thread_io.js';

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

/** A main-thread consumer waiting, in replay, for the recorded event it must take next. */
interface Turn {
  kind: Kind;
  object: number;
  go: () => void;
  stop: (e: Error) => void;
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
  private readonly outputs: BroadcastChannel;
  private readonly turns: Turn[] = [];
  private claimedAt = -1;
  private pumping = false;
  private stallTimer: NodeJS.Timeout | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  private drain: Drain | null;
  /** A joining backup: the state-transfer snapshot, applied at the first quiescent point. */
  private joinSnapshot: Snapshot | null;

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
    this.drain = drain;
    this.joinSnapshot = live?.snapshot ?? null;
    if (live) this.wireReplica(live);
    this.failedPromise.catch(() => {});
    drain?.report.catch((e) => this.fail(e));
    if (drain) process.on('exit', this.cutOffAtExit);
    this.deliver = (o) => this.emit(o);
    this.outputs = new BroadcastChannel(outputChannelName(this.runId));
    this.outputs.unref();
    this.outputs.onmessage = (m) => this.emit((m as { data: Output }).data);
    if (thread.mode === Mode.Replay) thread.onAdvance = () => this.pump();
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

  /** A pool of `workers` logical threads running task functions from `entry` (piscina underneath). */
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
      pump: () => this.pump(),
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
    if (!this.live) return null;
    const a = this.arena.a;
    return this.live.replica.status(Atomics.load(a, C_SHIPPED_FRAMES), Atomics.load(a, C_ACKED_FRAMES), Atomics.load(a, C_LAG_WAITS));
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
    if (!this.live || this.live.replica.role === 'primary') return Promise.resolve();
    return new Promise((r, reject) => {
      this.liveWaiters.push(r);
      this.failedPromise.catch(reject);
    });
  }

  private readonly liveWaiters: (() => void)[] = [];

  private wireReplica(live: LiveRun): void {
    const replica = live.replica;
    replica.emit = (o) => this.sink(o);
    replica.fail = (e) => {
      // Fail-stop: a node that lost the arbiter's flag, cannot reach it, or lost its channel must
      // not serve on; the program's own loop may be waiting for input and would never notice.
      this.fail(e);
      process.stderr.write(`lockstep: ${live.repl.node} stops (${(e as { code?: string }).code ?? 'ERR_PROGRAM'}): ${e.message}\n`);
      process.exit(FAIL_STOP_EXIT_CODE);
    };
    replica.onMore = () => this.pump();
    replica.onJoin = () => (this.joinWanted = true);
    replica.onCutover = (epoch) => this.takeOver(epoch);
  }

  private joinWanted = false;
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

  /**
   * Cutover on a backup that won the next epoch: a new log (for a future backup) starts where
   * each thread goes live, the log channel listens for a joining backup, and the main thread goes
   * live as soon as its own stream is replayed (pump).
   */
  private takeOver(epoch: number): void {
    const live = this.live!;
    if (this.drain) return;
    Atomics.store(this.arena.a, C_LIVE, epoch);
    const logPath = `${live.repl.log ?? this.logPath ?? 'lockstep-backup.log'}.epoch${epoch}`;
    loadedParts().LogWriter.create(logPath, live.header);
    const ship = new MessageChannel();
    this.drain = startDrain({
      arena: this.arena.buffer, limits: this.arena.limits, logPath,
      ship: { port: ship.port1, lagBytesMax: live.repl.lagBytesMax, cutVersions: live.cutVersions },
      continueFrom: { versions: live.floors },
    }, [ship.port1]);
    this.drain.report.catch((e) => this.fail(e));
    process.on('exit', this.cutOffAtExit);
    this.logPath = logPath;
    if (live.repl.listen) {
      live.replica.startSender({ arena: this.arena.buffer, header: frame(loadedParts().encodeHeader(live.header)), frames: ship.port2, alone: true })
        .then((port) => console.error(`lockstep: ${live.repl.node} is the primary (epoch ${epoch}); log channel on ${live.repl.listen!.host}:${port} for a joining backup`), () => {});
    } else {
      ship.port2.on('message', () => {}); // no one can join: frames are only written to the log
      ship.port2.unref();
      Atomics.store(this.arena.a, C_ALONE, 1);
    }
    for (const w of this.liveWaiters.splice(0)) w();
    this.pump();
  }

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
    if (this.joinSnapshot) this.joined();
    if (t.mode === Mode.Replay) await this.turn(Kind.Input, channel.id);
    if (t.mode === Mode.Replay) {
      value = deserialize(t.expectPayload(Kind.Input, channel.id)) as T;
      await this.versionTurn(channel.versionSlot, Kind.Send, channel.id);
    } else {
      if (this.joinWanted) await this.transferState();
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

  /**
   * Replay, main thread: waits without blocking the event loop until the object's version is the
   * one its next recorded operation needs. A main thread that blocked in Atomics.wait instead
   * would starve its own event loop, which dispatches the pool task whose operation comes first.
   */
  private async versionTurn(slot: number, kind: Kind, object: number): Promise<void> {
    const next = this.thread.peek();
    if (!next || next.kind !== kind || next.object !== object) return;
    const a = this.arena.a;
    const waiters = this.thread.waiterSlotOf(slot);
    for (;;) {
      const current = Atomics.load(a, slot);
      if (current === next.arg || this.failure) return;
      const w = waitAsync(a, slot, current, 50);
      Atomics.add(a, waiters, 1);
      // On Node 20 a pending Atomics.waitAsync does not keep the event loop alive: with every pool
      // worker idle or blocked in its own replay wait, nothing else may, and the process exited
      // with an unsettled top-level await (exit 13: the job server's replay at 2–16 workers).
      const keepAlive = w.async ? setTimeout(() => {}, 1_000) : null;
      try {
        if (w.async) await w.value;
      } finally {
        if (keepAlive) clearTimeout(keepAlive);
        Atomics.sub(a, waiters, 1);
      }
    }
  }

  /**
   * Primary, a backup asked to join: at this quiescent point (the main thread about to read an
   * input, no pool task in flight, no other thread running) every thread is still, so a copy of
   * the arena is the state after exactly the events shipped so far. The drain cuts the log there.
   */
  private async transferState(): Promise<void> {
    while (!this.quiescent) {
      if (this.failure) throw this.failure;
      await new Promise((r) => setTimeout(r, 1));
    }
    this.joinWanted = false;
    const live = this.live!;
    const snapshot = loadedParts().takeSnapshot(this.arena, live.cutVersions, this.thread.index, this.pools.map((p) => p.nextTaskId));
    live.replica.send({ type: 'snapshot', snapshot, cut: snapshot.cut });
  }

  /** No pool task in flight and no spawned thread running: every thread but the main one is still. */
  private get quiescent(): boolean {
    return this.pools.every((p) => p.idle) && this.workers.size === 0;
  }

  /**
   * A joining backup at its first quiescent point: its setup ran without a log (mode off, same
   * layout); the snapshot's state replaces the arena's and every thread now replays the primary's
   * log from the cut.
   */
  private joined(): void {
    const snapshot = this.joinSnapshot!;
    this.joinSnapshot = null;
    if (!this.quiescent) {
      throw usage('a joining backup reached its first input with tasks or threads running: state transfer needs the main thread ' +
        'to read inputs from one loop with no task in flight at that point');
    }
    loadedParts().applySnapshot(this.arena, snapshot);
    this.pools.forEach((p, i) => p.resumeAt(snapshot.tasks[i] ?? 0));
    for (let t = 0; t < this.arena.threadCount; t++) this.delivered.set(t, Atomics.load(this.arena.a, this.arena.threadSlot(t) + T_OUTPUTS));
    this.thread.mode = Mode.Replay;
    this.thread.onAdvance = () => this.pump();
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
        const report = await this.stopDrain(FINISH_SEALED);
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
        if (recorded !== digest) throw digestMismatch(recorded, digest, judge ? digestReport(judge, endBlocks) : null);
        // A following backup that finished first says so, or its primary takes the close for a loss.
        if (this.live) await this.live.replica.finished(digest);
        if (envValue('LOCKSTEP_PROGRESS_FILE')) writeFileSync(envValue('LOCKSTEP_PROGRESS_FILE')!, JSON.stringify(this.progress()));
        const events = this.log?.trailer.eventCount ?? this.progress().events;
        return { mode, digest, recordedDigest: recorded, threads, events, log: this.logPath, logBytes: this.log?.bytes, checkpoints: judge?.summary() };
      }
      return { mode, digest, threads, events: 0 };
    } catch (e) {
      this.fail(e as Error);
      if (this.drain && Atomics.load(this.arena.a, C_FINISH) === 0) await this.stopDrain(FINISH_CUT_OFF).catch(() => {});
      throw e;
    } finally {
      this.thread.ended = true;
      this.checkpointing.taker?.stop();
      releaseProcess(this);
      this.restore();
      this.outputs.close();
      this.live?.replica.stop();
      if (this.stallTimer) clearTimeout(this.stallTimer);
      if (this.progressTimer) clearInterval(this.progressTimer);
      if (this.drain) this.drain.worker.terminate().catch(() => {});
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

  /**
   * Replay: resolves when the main thread's next recorded event is `kind` on `object`. Async
   * consumers on the main thread (inputs, task completions) take their events in the recorded
   * order this way, whatever order the event loop offers them in.
   */
  private turn(kind: Kind, object: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((go, stop) => {
      this.turns.push({ kind, object, go, stop });
      this.pump();
    });
  }

  /** Replay: hands the main thread's next event to whichever async consumer owns it. */
  private pump(): void {
    if (this.pumping) return;
    if (this.thread.mode !== Mode.Replay) {
      if (this.live) this.releaseLive();
      return;
    }
    this.pumping = true;
    try {
      for (;;) {
        const next = this.thread.peek();
        if (!next) {
          // A backup's main thread whose stream is over at cutover goes live here.
          if (this.live && this.thread.streamOver) this.thread.goLive();
          break;
        }
        if (next.kind === Kind.Checkpoint && next.object === 0 && this.checkpointing.judge) {
          if (this.checkpointing.judge.soon(() => this.pump())) continue;
          break;
        }
        if (this.pools.some((p) => p.deliverNext(next))) continue;
        if (this.claimedAt === this.thread.index) break;
        const i = this.turns.findIndex((w) => w.kind === next.kind && w.object === next.object);
        if (i < 0) break;
        this.claimedAt = this.thread.index;
        this.turns.splice(i, 1)[0]!.go();
        break;
      }
    } finally {
      this.pumping = false;
    }
    if ((this.thread.mode as Mode) === Mode.Record) this.releaseLive();
    else this.watchStall();
  }

  /** The main thread went live: consumers waiting for their recorded turn go on live. */
  private releaseLive(): void {
    for (const turn of this.turns.splice(0)) turn.go();
    for (const p of this.pools) p.releaseHeld();
  }

  /** Replay: if async consumers wait and the main thread's log does not move, that is a divergence. */
  private watchStall(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    const waiting = this.turns.length + this.pools.reduce((n, p) => n + p.pending, 0);
    if (waiting === 0 || this.finished) return;
    // A backup waiting for the primary's next event is not stuck: failure detection watches that.
    if (this.thread.stream?.live && this.thread.peek() === null) return;
    const at = this.thread.index;
    this.stallTimer = setTimeout(() => {
      if (this.thread.index !== at || this.failure) return;
      this.fail(divergence({
        thread: 0,
        index: at,
        expected: this.thread.describeNext(),
        actual: `nothing for ${this.arena.limits.stallMsMax} ms while ${waiting} inputs or task results waited`,
        program: this.thread.program,
      }));
    }, this.arena.limits.stallMsMax);
    this.stallTimer.unref();
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
    for (const turn of this.turns.splice(0)) turn.stop(e);
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

  private async stopDrain(how: typeof FINISH_SEALED | typeof FINISH_CUT_OFF): Promise<DrainReport> {
    this.signalDrain(how);
    this.drain!.worker.ref();
    return how === FINISH_SEALED ? await Promise.race([this.drain!.report, this.failedPromise]) : await this.drain!.report;
  }

  private signalDrain(how: number): void {
    const a = this.arena.a;
    Atomics.store(a, C_FINISH, how);
    Atomics.add(a, C_DOORBELL, 1);
    Atomics.notify(a, C_DOORBELL);
    process.off('exit', this.cutOffAtExit);
  }

  /**
   * Record: a process that exits without finish() (an uncaught error, process.exit) still leaves
   * a readable log, cut off where the program failed, so the failing run can be replayed. The
   * 'exit' handler is synchronous, so it parks on the drain's done word (bounded).
   */
  private readonly cutOffAtExit = (): void => {
    const a = this.arena.a;
    this.signalDrain(FINISH_CUT_OFF);
    Atomics.wait(a, C_DRAIN_DONE, 0, CUT_OFF_WAIT_MS);
  };

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
      checkpoints: this.checkpointing.taker !== null || this.checkpointing.judge !== null,
    };
  }

  private ringOf(id: number): { base: number; words: number } | null {
    if (this.thread.mode !== Mode.Record) return null;
    const slot = this.arena.threadSlot(id);
    return { base: this.arena.a[slot + T_RING]!, words: this.arena.a[slot + T_RING_WORDS]! };
  }

  private streamOf(id: number): StreamInit | null {
    if (this.live && this.thread.mode !== Mode.Record) return liveStream(this.runId, this.arena, id);
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
      worker.on('message', (m: { type: string; error?: unknown; lockstep?: boolean }) => {
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

/** Atomics.waitAsync (Node ≥ 16); the ES2022 typings lack it. */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;
