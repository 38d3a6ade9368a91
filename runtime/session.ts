// The main thread's side of a run, as the program sees it: spawn() and pool() start logical
// threads, input() feeds external inputs in the recorded order, onOutput() delivers outputs, and
// finish() seals the run with its digest. A facade: start() (runtime/start.ts) resolves the run's
// parts, and each concept lives in its own file: the threads (threads.ts), output delivery
// (outputs.ts), module identity (identity.ts), the run's failure (run_failure.ts), its end
// (seal.ts), a replay's progress (progress.ts), and outside mode off the replay pump
// (replay_pump.ts), the live run (live.ts) and the drain's life (drain_life.ts). The same program
// runs unchanged in modes off, record and replay.

import { serialize, deserialize } from 'node:v8';
import { LockstepThread, type Output } from '../engine/thread_api.js';
import { C_ABORT, T_PROGRESS } from '../engine/arena_layout.js';
import { finished, limitExceeded } from '../engine/errors.js';
import { Kind } from '../engine/event.js';
import { Mode } from '../engine/thread.js';
import type { Channel } from '../engine/sync/channel.js';
import type { ReplicationStatus } from '../replication/replica.js';
import type { Pool, PoolOptions } from '../workers/pool.js';
import type { Drain, RunningDrain } from './drain_life.js';
import { ModuleIdentity } from './identity.js';
import type { LiveHost, LiveNode } from './live.js';
import { Outputs } from './outputs.js';
import { failureOf, loadedParts, releaseProcess, writeResultFile } from './process_run.js';
import { Progress } from './progress.js';
import type { ReplayPump } from './replay_pump.js';
import { RunFailure } from './run_failure.js';
import { seal, type RunResult, type SealHost } from './seal.js';
import { Threads, type SpawnOptions, type Spawned, type ThreadSetup } from './threads.js';

export type { StartOptions } from './options.js';
export type { RunResult } from './seal.js';
export type { SpawnOptions, Spawned, ThreadExit } from './threads.js';

/** Everything start() resolves for a run and hands to its session. */
export interface SessionParts extends ThreadSetup {
  /** The log file (record, replay; a replicated node's changes at cutover). */
  logPath: string | undefined;
  /** The drain that writes the log (record), not yet running. */
  drain: Drain | null;
  /** Undoes the patched globals. */
  restore: () => void;
  /** Replay even if a module file lockstep starts differs from the recorded one. */
  allowProgramChange: boolean;
}

export class Session extends LockstepThread {
  /** Identifies this run among others in the same process (names the output and stream channels). */
  readonly runId: string;
  /** start({ threadFailures }): whether a failed thread fails the run. */
  readonly threadFailures: 'fail' | 'handle';
  /** Replay even if a module file lockstep starts differs from the recorded one. */
  readonly allowProgramChange: boolean;
  /** The log file (a backup's changes when it takes over). */
  logPath: string | undefined;
  private finished = false;
  private readonly failure: RunFailure;
  private readonly outputs: Outputs;
  private readonly threads: Threads;
  private readonly progressReport: Progress;
  private drain: RunningDrain | null;
  /**
   * Replay: hands the main thread's recorded events to its async consumers in order (also on a
   * replicated node, whose backup replays and goes live through it). Null otherwise: with neither
   * there is nothing to pump, and mode off does not load it.
   */
  private readonly replayPump: ReplayPump | null;
  /** A replicated node's live run (null when not replicated). */
  private readonly liveNode: LiveNode | null;

  constructor(private readonly parts: SessionParts) {
    const { arena, thread, live } = parts;
    super(arena, thread, parts.seed, true);
    this.runId = parts.runId;
    this.threadFailures = parts.threadFailures;
    this.allowProgramChange = parts.allowProgramChange;
    this.logPath = parts.logPath;
    this.failure = new RunFailure(thread, (e) => this.stop(e));
    this.outputs = new Outputs(arena, live?.replica ?? null);
    const identity = new ModuleIdentity(thread, () => this.logPath, parts.allowProgramChange);
    this.threads = new Threads(parts, this.failure, this.outputs, identity, () => this.replayPump?.pump());
    this.progressReport = new Progress(arena, parts.log);
    this.replayPump = thread.mode === Mode.Replay || live ? new (loadedParts().ReplayPump)(thread, arena, this.threads.pools, live !== null, {
      failure: () => this.failure.error,
      finished: () => this.finished,
      fail: (e) => this.failure.fail(e),
    }) : null;
    this.liveNode = live ? new (loadedParts().LiveNode)(live, this.liveHost()) : null;
    this.drain = parts.drain ? this.running(parts.drain) : null;
    this.deliver = (o) => this.outputs.emit(o);
    if (thread.mode === Mode.Replay) thread.onAdvance = () => this.replayPump!.pump();
    if (this.replayPump) this.replayPump.checkpoints = parts.checkpointing.judge;
    parts.checkpointing.taker?.start();
    thread.onFail = (e) => this.failure.fail(e);
    thread.progressSlot = arena.threadSlot(thread.id) + T_PROGRESS;
    // For the CLI's progress bar: the main thread's event loop reports while it is free.
    if (thread.mode === Mode.Replay) this.progressReport.start();
  }

  /** Replay: events replayed so far (all threads, updated every 256 per thread) out of the log's total. */
  progress(): { events: number; total: number } {
    return this.progressReport.now();
  }

  /** Attaches an output sink: called once per output of any thread, with its deterministic id. */
  onOutput(sink: (o: Output) => void): void {
    this.outputs.onOutput(sink);
  }

  /** A pool of `workers` logical threads running task functions from `entry` (one worker_threads Worker each). */
  pool(entry: string | URL, options: PoolOptions = {}): Pool {
    this.usable('pool()');
    return this.threads.pool(entry, options);
  }

  /** Starts `count` logical threads running `entry` (a worker module: path or file URL). */
  spawn(entry: string | URL, options: SpawnOptions = {}): Spawned {
    this.usable('spawn()');
    return this.threads.spawn(entry, options);
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
    if (!this.parts.live) return Promise.resolve();
    return this.parts.live.replica.fence();
  }

  /** Resolves when this node is live: a primary at once, a backup after it has taken over. */
  whenLive(): Promise<void> {
    return this.liveNode?.whenLive() ?? Promise.resolve();
  }

  /**
   * Reads one external input with `read` and sends it into `channel`. Record logs the value at
   * this point of the main thread; replay takes it from the log and never calls `read`.
   */
  async input<T>(channel: Channel<T>, read: () => T | Promise<T>): Promise<T> {
    this.usable('input()');
    const t = this.thread;
    let value: T;
    // The value's serialized bytes where the recording has them (logged, or read back): the
    // channel takes those rather than serializing the value again.
    let bytes: Uint8Array | null = null;
    if (this.liveNode?.joining) this.liveNode.joined();
    if (t.mode === Mode.Replay) await this.replayPump!.turn(Kind.Input, channel.id);
    if (t.mode === Mode.Replay) {
      bytes = t.expectPayload(Kind.Input, channel.id);
      value = deserialize(bytes) as T;
      await this.replayPump!.versionTurn(channel.versionSlot, Kind.Send, channel.id);
    } else {
      if (this.liveNode?.joinWanted) await this.liveNode.transferState();
      value = await read();
      if (t.mode === Mode.Record) {
        bytes = serialize(value);
        const max = this.arena.limits.payloadBytesMax;
        if (bytes.length > max) throw limitExceeded('payloadBytesMax', bytes.length, max, 'one input');
        t.recPayload(Kind.Input, channel.id, bytes);
      }
    }
    if (bytes !== null) channel.sendSerialized(bytes);
    else channel.send(value);
    return value;
  }

  /** Waits for every thread, computes the digest, and seals the log (record) or checks it (replay). */
  async finish(): Promise<RunResult> {
    if (this.finished) throw finished('finish() called again');
    this.finished = true;
    try {
      const result = await seal(this.sealHost());
      writeResultFile({ ok: true, ...result });
      return result;
    } catch (e) {
      writeResultFile(failureOf(e));
      throw e;
    }
  }

  /** Refuses calls once the session finished or failed. */
  private usable(what: string): void {
    if (this.finished || this.thread.ended) throw finished(what);
  }

  /** The run failed (RunFailure.fail): every waiting thread is woken and every worker ended. */
  private stop(e: Error): void {
    releaseProcess(this);
    this.parts.restore();
    Atomics.store(this.arena.a, C_ABORT, 1);
    // No cut after a failure: its timer would block the event loop and write into a ring the
    // drain is cutting off.
    this.parts.checkpointing.taker?.stop();
    this.threads.stop(e);
    this.replayPump?.stop(e);
    writeResultFile(failureOf(e));
  }

  /** Starts the drain's life (record; a backup's once it takes over): a drain failure fails the run. */
  private running(drain: Drain): RunningDrain {
    return new (loadedParts().RunningDrain)(drain, this.arena.a, (e) => this.failure.fail(e));
  }

  /** What the end of the run reads of this session, and how it closes the run's parts. */
  private sealHost(): SealHost {
    const session = this; // the getters below read the session's current log and drain
    const { arena, thread, log, live } = this.parts;
    return {
      arena, thread, log, live,
      failure: this.failure,
      threads: this.threads,
      outputs: this.outputs,
      progress: this.progressReport,
      checkpointing: this.parts.checkpointing,
      get logPath() {
        return session.logPath;
      },
      get drain() {
        return session.drain;
      },
      close: () => {
        thread.ended = true;
        this.parts.checkpointing.taker?.stop();
        releaseProcess(this);
        this.parts.restore();
        live?.replica.stop();
        this.replayPump?.close();
        this.progressReport.stop();
        this.drain?.terminate();
      },
    };
  }

  /** What the live run may use of this session. */
  private liveHost(): LiveHost {
    const session = this; // the logPath accessors below read and set the session's own
    return {
      arena: this.arena,
      thread: this.thread,
      pools: this.threads.pools,
      delivered: this.outputs.delivered,
      failed: this.failure.failed,
      get logPath() {
        return session.logPath;
      },
      set logPath(path) {
        session.logPath = path;
      },
      hasDrain: () => this.drain !== null,
      adoptDrain: (d) => {
        this.drain = this.running(d);
      },
      quiescent: () => this.threads.quiescent,
      failure: () => this.failure.error,
      fail: (e) => this.failure.fail(e),
      sink: (o) => this.outputs.sink(o),
      pump: () => this.replayPump!.pump(),
    };
  }
}
