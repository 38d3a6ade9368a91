// The live run on a replicated node, as the session drives it: the replica's callbacks, the
// node's status and fence, waiting to go live, cutover on a backup that won its epoch (a new log
// and drain, the log channel for a joining backup), and state transfer on both sides (the
// primary's snapshot at a quiescent point, the joining backup's first input). Also a primary's
// claim of its epoch at start.

import type { Arena } from '../engine/arena.js';
import { C_ACKED_FRAMES, C_LAG_WAITS, C_SHIPPED_FRAMES, T_OUTPUTS } from '../engine/arena_layout.js';
import { notLive, usage } from '../engine/errors.js';
import type { HeaderData } from '../engine/log/codec.js';
import { Mode, type Thread } from '../engine/thread.js';
import type { Output } from '../engine/thread_api.js';
import type { Replication } from '../replication/config.js';
import type { Replica, ReplicationStatus } from '../replication/replica.js';
import type { Snapshot } from '../replication/snapshot.js';
import type { Pool } from '../workers/pool.js';
import { startDrain, type Drain } from './drain_life.js';
import { loadedParts } from './process_run.js';

/** The exit status of a replicated node that stops itself (fail-stop); the CLI maps it from the result file. */
export const FAIL_STOP_EXIT_CODE = 4;

/** A replicated run's parts the session keeps. */
export interface LiveRun {
  repl: Replication;
  replica: Replica;
  header: HeaderData;
  /** Per object, the cutover floor (backup) — and the first version of a new primary's log. */
  floors: SharedArrayBuffer;
  /** Per object, the next version at a state-transfer cut (written by the drain). */
  cutVersions: SharedArrayBuffer;
  snapshot: Snapshot | null;
}

/** A primary goes live only if it wins the next epoch from the arbiter. */
export async function claimEpoch(repl: Replication): Promise<number> {
  const arbiter = loadedParts().arbiterFor(repl);
  let d;
  try {
    d = await arbiter.claim((await arbiter.read()).epoch + 1);
  } finally {
    arbiter.close();
  }
  if (!d.won) throw notLive(repl.node, d.epoch, d.owner, 'started as primary');
  return d.epoch;
}

/** What the live run asks of the session. */
export interface LiveHost {
  readonly arena: Arena;
  readonly thread: Thread;
  /** The session's pools (the same array). */
  readonly pools: readonly Pool[];
  /** Outputs delivered so far, per thread (a joining backup starts from the snapshot's counts). */
  readonly delivered: Map<number, number>;
  /** Rejects when the run fails. */
  readonly failed: Promise<never>;
  logPath: string | undefined;
  /** Whether a drain runs (a primary's, or a backup's after cutover). */
  hasDrain(): boolean;
  /** Cutover: the session runs this drain from now on. */
  adoptDrain(drain: Drain): void;
  /** No pool task in flight and no spawned thread running. */
  quiescent(): boolean;
  failure(): Error | null;
  fail(e: Error): void;
  /** Hands an output the gate released to the program's sinks. */
  sink(o: Output): void;
  pump(): void;
}

export class LiveNode {
  /** A primary asked by a joining backup for a snapshot, taken at the next quiescent input. */
  joinWanted = false;
  /** A joining backup: the state-transfer snapshot, applied at the first quiescent point. */
  private joinSnapshot: Snapshot | null;
  private readonly liveWaiters: (() => void)[] = [];

  constructor(readonly run: LiveRun, private readonly host: LiveHost) {
    this.joinSnapshot = run.snapshot;
    const replica = run.replica;
    replica.emit = (o) => host.sink(o);
    replica.fail = (e) => {
      // Fail-stop: a node that lost the arbiter's flag, cannot reach it, or lost its channel must
      // not serve on; the program's own loop may be waiting for input and would never notice.
      host.fail(e);
      process.stderr.write(`lockstep: ${run.repl.node} stops (${(e as { code?: string }).code ?? 'ERR_PROGRAM'}): ${e.message}\n`);
      process.exit(FAIL_STOP_EXIT_CODE);
    };
    replica.onMore = () => host.pump();
    replica.onJoin = () => (this.joinWanted = true);
    replica.onCutover = (epoch) => this.takeOver(epoch);
  }

  get replica(): Replica {
    return this.run.replica;
  }

  /** This node's role, epoch, lag and output-gate latency. */
  status(): ReplicationStatus {
    const a = this.host.arena.a;
    return this.run.replica.status(Atomics.load(a, C_SHIPPED_FRAMES), Atomics.load(a, C_ACKED_FRAMES), Atomics.load(a, C_LAG_WAITS));
  }

  /** Resolves when this node is live: a primary at once, a backup after it has taken over. */
  whenLive(): Promise<void> {
    if (this.run.replica.role === 'primary') return Promise.resolve();
    return new Promise((r, reject) => {
      this.liveWaiters.push(r);
      this.host.failed.catch(reject);
    });
  }

  /** A joining backup that has not yet applied its snapshot (its first input applies it). */
  get joining(): boolean {
    return this.joinSnapshot !== null;
  }

  /**
   * Cutover on a backup that won the next epoch (its steps: replication/cutover.ts): a new log
   * (for a future backup) starts where each thread goes live, the log channel listens for a
   * joining backup, and the main thread goes live as soon as its own stream is replayed (pump).
   */
  private takeOver(epoch: number): void {
    const host = this.host;
    if (host.hasDrain()) return;
    const run = { ...this.run, arena: host.arena.buffer, limits: host.arena.limits, logPath: host.logPath ?? null };
    const { logPath, drain } = loadedParts().takeOver(run, epoch, startDrain);
    host.adoptDrain(drain);
    host.logPath = logPath;
    for (const w of this.liveWaiters.splice(0)) w();
    host.pump();
  }

  /**
   * Primary, a backup asked to join: at this quiescent point (the main thread about to read an
   * input, no pool task in flight, no other thread running) every thread is still, so a copy of
   * the arena is the state after exactly the events shipped so far. The drain cuts the log there.
   */
  async transferState(): Promise<void> {
    const host = this.host;
    while (!host.quiescent()) {
      const failure = host.failure();
      if (failure) throw failure;
      await new Promise((r) => setTimeout(r, 1));
    }
    this.joinWanted = false;
    const live = this.run;
    const snapshot = loadedParts().takeSnapshot(host.arena, live.cutVersions, host.thread.index, host.pools.map((p) => p.nextTaskId));
    live.replica.send({ type: 'snapshot', snapshot, cut: snapshot.cut });
  }

  /**
   * A joining backup at its first quiescent point: its setup ran without a log (mode off, same
   * layout); the snapshot's state replaces the arena's and every thread now replays the primary's
   * log from the cut.
   */
  joined(): void {
    const host = this.host;
    const snapshot = this.joinSnapshot!;
    this.joinSnapshot = null;
    if (!host.quiescent()) {
      throw usage('a joining backup reached its first input with tasks or threads running: state transfer needs the main thread ' +
        'to read inputs from one loop with no task in flight at that point');
    }
    const arena = host.arena;
    loadedParts().applySnapshot(arena, snapshot);
    host.pools.forEach((p, i) => p.resumeAt(snapshot.tasks[i] ?? 0));
    for (let t = 0; t < arena.threadCount; t++) host.delivered.set(t, Atomics.load(arena.a, arena.threadSlot(t) + T_OUTPUTS));
    host.thread.mode = Mode.Replay;
    host.thread.onAdvance = () => host.pump();
  }
}
