// The main thread's replay pump. In replay the main thread's recorded events are taken by async
// consumers (inputs, pool task completions) that the event loop offers in any order: each waits
// for its turn, and the pump hands the next recorded event to whichever consumer owns it. A
// consumer waiting while the log does not move is a divergence (the stall watch), except while a
// checkpoint cut is being completed: the judge bounds that wait and skips a cut that cannot
// complete (replayer/checkpoint.ts).

import type { Arena } from '../engine/arena.js';
import { divergence } from '../engine/errors.js';
import { Kind, kindOf, objectOf } from '../engine/event.js';
import type { CheckpointJudge } from '../replayer/checkpoint.js';
import { Mode, type Thread } from '../engine/thread.js';
import { Turn as ReplayTurn, versionTurn } from '../engine/turn.js';
import { live } from '../engine/thread_api.js';
import type { Pool } from '../workers/pool.js';

/** A main-thread consumer waiting, in replay, for the recorded event it must take next. */
interface Turn {
  kind: Kind;
  object: number;
  go: () => void;
  stop: (e: Error) => void;
}

/** What the pump asks of the session: whether the run failed or finished, and how to fail it. */
export interface PumpHost {
  failure(): Error | null;
  finished(): boolean;
  fail(e: Error): void;
}

const idle = (p: Pool): boolean => p.idle;

/** Atomics.waitAsync (Node ≥ 16); the ES2022 typings lack it. */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

export class ReplayPump {
  private readonly turns: Turn[] = [];
  private claimedAt = -1;
  private pumping = false;
  private stallTimer: NodeJS.Timeout | null = null;
  /** The stall watch's note (watchStall): whether consumers wait, and where the log was when last pumped, and when. */
  private watching = false;
  private watchedAt = 0;
  private watchedIndex = 0;
  private watchedWaiting = 0;

  constructor(
    private readonly thread: Thread,
    private readonly arena: Arena,
    /** The session's pools (the same array: pools added later are pumped too). */
    private readonly pools: readonly Pool[],
    /** A replicated node: a backup's main thread goes live through the pump at cutover. */
    private readonly replicated: boolean,
    private readonly host: PumpHost,
  ) {}

  /**
   * Replay: resolves when the main thread's next recorded event is `kind` on `object`. Async
   * consumers on the main thread (inputs, task completions) take their events in the recorded
   * order this way, whatever order the event loop offers them in.
   */
  turn(kind: Kind, object: number): Promise<void> {
    const failure = this.host.failure();
    if (failure) return Promise.reject(failure);
    return new Promise((go, stop) => {
      this.turns.push({ kind, object, go, stop });
      this.pump();
    });
  }

  /**
   * Replay, main thread: waits without blocking the event loop until the object's version is the
   * one its next recorded operation needs. A main thread that blocked in Atomics.wait instead
   * would starve its own event loop, which dispatches the pool task whose operation comes first.
   */
  async versionTurn(slot: number, kind: Kind, object: number): Promise<void> {
    const next = this.thread.peek();
    if (!next || next.kind !== kind || next.object !== object) return;
    const a = this.arena.a;
    const t = this.thread;
    for (;;) {
      if (this.host.failure()) return;
      // Announced before the word is read for the wait (as Thread.park does): a publisher that
      // stores the version and then sees no waiter is sure this read sees its store. A pair
      // (slot, version): only that version's publisher wakes the main thread, not every step of
      // the pool workers on the same waiter line.
      const pair = t.announce(slot, next.arg);
      try {
        const current = Atomics.load(a, slot);
        // Go, or past the version: the thread's own wait (Thread.awaitVersion) reports a divergence then.
        if (versionTurn(next.arg, current, 0, Infinity, false) !== ReplayTurn.Wait) return;
        const w = waitAsync(a, slot, current, 50);
        // On Node 20 a pending Atomics.waitAsync does not keep the event loop alive: with every pool
        // worker idle or blocked in its own replay wait, nothing else may, and the process exited
        // with an unsettled top-level await (exit 13: the job server's replay at 2–16 workers).
        const keepAlive = w.async ? setTimeout(() => {}, 1_000) : null;
        try {
          if (w.async) await w.value;
        } finally {
          if (keepAlive) clearTimeout(keepAlive);
        }
      } finally {
        t.unannounce(slot, pair);
      }
    }
  }

  /** Checkpoints (replayer/checkpoint.ts): the main thread's judge, which completes a cut met here. */
  checkpoints: CheckpointJudge | null = null;

  /** The main thread's next event is a checkpoint cut (read in place: cheaper than peek()). */
  private checkpointNext(): boolean {
    const s = this.thread.stream;
    if (this.checkpoints === null || s === null || s.pos >= s.events.length) return false;
    const h = s.events[s.pos]!;
    return kindOf(h) === Kind.Checkpoint && objectOf(h) === 0;
  }

  /** Replay: hands the main thread's next event to whichever async consumer owns it. */
  pump(): void {
    if (this.pumping) return;
    // The main thread calls this after every replayed event: with no consumer waiting, no task in
    // flight, no stall watch to move and no cutover to look for, there is nothing to hand over
    // (peek, the pools' scan and the watch cost more than the event itself).
    if (this.turns.length === 0 && !this.watching && !this.replicated && this.pools.every(idle) && !this.checkpointNext()) return;
    if (this.thread.mode !== Mode.Replay) {
      if (this.replicated) this.releaseLive();
      return;
    }
    this.pumping = true;
    try {
      for (;;) {
        const next = this.thread.peek();
        if (!next) {
          // A backup's main thread whose stream is over at cutover goes live here.
          if (this.replicated && this.thread.streamOver) this.thread.goLive();
          break;
        }
        if (next.kind === Kind.Checkpoint && next.object === 0 && this.checkpoints !== null) {
          // Completed without blocking the event loop (a pool may need it), then pumped on.
          if (this.checkpoints.soon(() => this.pump())) continue;
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

  /** The run failed: every consumer waiting for its turn is rejected with why. */
  stop(e: Error): void {
    for (const turn of this.turns.splice(0)) turn.stop(e);
  }

  /** The run is over: no stall watch outlives it. */
  close(): void {
    this.watching = false;
    if (this.stallTimer) clearTimeout(this.stallTimer);
  }

  /** The main thread went live: consumers waiting for their recorded turn go on live. */
  private releaseLive(): void {
    for (const turn of this.turns.splice(0)) turn.go();
    for (const p of this.pools) p.releaseHeld();
  }

  /**
   * Replay: if async consumers wait and the main thread's log does not move for stallMsMax, that
   * is a divergence. The pump calls this after every event the main thread takes, so it only
   * notes where the log is and when (a timer set and cleared per event cost more than the event);
   * one timer looks at the note when due and sets itself again for what is left.
   */
  private watchStall(): void {
    const waiting = this.turns.length + this.pools.reduce((n, p) => n + p.pending, 0);
    // A backup waiting for the primary's next event is not stuck: failure detection watches that.
    // Nor is a log held by a checkpoint cut being completed: the judge bounds that wait itself
    // (stallMsMax) and skips a cut that cannot complete, as the docs promise; the watch starts
    // again, from then, when the cut is over and the judge pumps on.
    this.watching = waiting > 0 && !this.host.finished() && !(this.thread.stream?.live && this.thread.peek() === null) &&
      !(this.checkpoints?.inProgress ?? false);
    if (!this.watching) return;
    this.watchedAt = live.perfNow();
    this.watchedIndex = this.thread.index;
    this.watchedWaiting = waiting;
    if (this.stallTimer === null) this.armStall(this.arena.limits.stallMsMax);
  }

  private armStall(ms: number): void {
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      if (!this.watching || this.host.failure() || this.checkpoints?.inProgress) return;
      const left = this.watchedAt + this.arena.limits.stallMsMax - live.perfNow();
      if (left > 0) return this.armStall(left);
      if (this.thread.index !== this.watchedIndex) return;
      this.host.fail(divergence({
        thread: 0,
        index: this.watchedIndex,
        expected: this.thread.describeNext(),
        actual: `nothing for ${this.arena.limits.stallMsMax} ms while ${this.watchedWaiting} inputs or task results waited`,
        program: this.thread.program,
      }));
    }, ms);
    this.stallTimer.unref();
  }
}
