// The main thread's replay pump. In replay the main thread's recorded events are taken by async
// consumers (inputs, pool task completions) that the event loop offers in any order: each waits
// for its turn, and the pump hands the next recorded event to whichever consumer owns it. A
// consumer waiting while the log does not move is a divergence (the stall watch).

import type { Arena } from '../engine/arena.js';
import { divergence } from '../engine/errors.js';
import { Kind, kindOf, objectOf } from '../engine/event.js';
import type { CheckpointJudge } from '../replayer/checkpoint.js';
import { Mode, type Thread } from '../engine/thread.js';
import { Turn as ReplayTurn, versionTurn } from '../engine/turn.js';
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
    const waiters = this.thread.waiterSlotOf(slot);
    for (;;) {
      const current = Atomics.load(a, slot);
      // Go, or past the version: the thread's own wait (Thread.awaitVersion) reports a divergence then.
      if (versionTurn(next.arg, current, 0, Infinity, false) !== ReplayTurn.Wait || this.host.failure()) return;
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

  /** Replay: hands the main thread's next event to whichever async consumer owns it. */
  /** Checkpoints (replayer/checkpoint.ts): the main thread's judge, which completes a cut met here. */
  checkpoints: CheckpointJudge | null = null;

  /** The main thread's next event is a checkpoint cut (read in place: cheaper than peek()). */
  private checkpointNext(): boolean {
    const s = this.thread.stream;
    if (this.checkpoints === null || s === null || s.pos >= s.events.length) return false;
    const h = s.events[s.pos]!;
    return kindOf(h) === Kind.Checkpoint && objectOf(h) === 0;
  }

  pump(): void {
    if (this.pumping) return;
    // The main thread calls this after every replayed event: with no consumer waiting, no task in
    // flight, no stall watch to move and no cutover to look for, there is nothing to hand over
    // (peek, the pools' scan and the watch cost more than the event itself).
    if (this.turns.length === 0 && this.stallTimer === null && !this.replicated && this.pools.every(idle) && !this.checkpointNext()) return;
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
    if (this.stallTimer) clearTimeout(this.stallTimer);
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
    if (waiting === 0 || this.host.finished()) return;
    // A backup waiting for the primary's next event is not stuck: failure detection watches that.
    if (this.thread.stream?.live && this.thread.peek() === null) return;
    const at = this.thread.index;
    this.stallTimer = setTimeout(() => {
      if (this.thread.index !== at || this.host.failure()) return;
      this.host.fail(divergence({
        thread: 0,
        index: at,
        expected: this.thread.describeNext(),
        actual: `nothing for ${this.arena.limits.stallMsMax} ms while ${waiting} inputs or task results waited`,
        program: this.thread.program,
      }));
    }, this.arena.limits.stallMsMax);
    this.stallTimer.unref();
  }
}
