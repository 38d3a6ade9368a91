// Checkpoints while recording: every `everyMs` the main thread takes a consistent cut of registered
// memory (a stop-the-world point that replay can reproduce) and records its block digests
// (engine/checkpoint.ts), so a replay whose memory ends up different can say after which events
// it first differed (replayer/checkpoint.ts).
//
// A region digest taken while other threads run is not reproducible even for a correct program,
// so a cut stops every thread at a place replay can find again:
//   - the main thread takes checkpoints from a timer: between two tasks of its event loop, so it
//     is stopped by construction while it does (it blocks its event loop for the cut);
//   - another thread stops at its next sync point (CheckpointStop.point, on the chaos hook of every
//     ordered step), before that operation's event: at its event index;
//   - a thread blocked in a lockstep lock wait (deadlock watch), not yet started, or an idle pool
//     worker is parked (T_CKPT = CKPT_PARKED): it does nothing to memory until it leaves, so the
//     main thread claims it where it is (compare-and-swap PARKED → the checkpoint's number); a
//     thread leaving a park swaps RUNNING in first, so either the claim or the leave wins;
//   - an exited thread is gone (CKPT_GONE).
// Once all are stopped, the main thread hashes every region, records a checkpoint event (its
// number, every other thread's event index, the digests), sets C_CKPT_DONE and releases them; each
// stopped thread then records a checkpoint-mark event at the index it stopped at, which is where
// replay stops it. If some thread does not stop within `waitMs` (a long loop between sync points,
// a wait lockstep does not know), the checkpoint is given up: nothing is recorded, and the next
// attempt comes later (the period doubles, up to BACKOFF_MAX times, and resets after a success).
//
// Cost: a sync point reads one shared word (C_CKPT) while no checkpoint is being taken; a cut
// stops the threads for about one sync-point gap plus the hashing (linear in registered memory).

import { Kind } from '../engine/event.js';
import { aborted, usage } from '../engine/errors.js';
import { digestBlocks, encodeCut, type CutPlace } from '../engine/checkpoint.js';
import {
  C_ABORT, C_CKPT, C_CKPT_ARRIVED, C_CKPT_DONE, CKPT_GONE, CKPT_PARKED, CKPT_RUNNING, T_CKPT, T_CKPT_INDEX,
} from '../engine/arena_layout.js';
import type { Arena } from '../engine/arena.js';
import type { CheckpointHooks, Thread } from '../engine/thread.js';

/** Checkpoints every this many ms by default ($LOCKSTEP_CHECKPOINT_MS, start({ checkpointMs }); 0: off). */
export const CHECKPOINT_MS_DEFAULT = 1000;
/** How long the main thread waits for every thread to stop before it gives a checkpoint up. */
export const CHECKPOINT_WAIT_MS = 20;
/** The period grows at most this many times after checkpoints given up in a row. */
const BACKOFF_MAX = 64;
/** A stopped thread re-checks for an abort this often. */
const SLICE_MS = 20;

/** A thread's side of a cut (record): stop at sync points, park around lockstep waits. */
export class CheckpointStop implements CheckpointHooks {
  private readonly slot: number;
  /** The last checkpoint this thread stopped for (it stops once per checkpoint). */
  private last = 0;

  constructor(private readonly t: Thread, arena: Arena) {
    this.slot = arena.threadSlot(t.id);
  }

  /** A sync point, before the operation's event: stop here if a checkpoint is being taken. */
  point(): void {
    // A plain read: a request missed here is seen at the next sync point (the main thread waits).
    if (this.t.a[C_CKPT] === 0) return;
    const n = Atomics.load(this.t.a, C_CKPT);
    if (n === 0 || n === this.last) return;
    const a = this.t.a;
    a[this.slot + T_CKPT_INDEX] = this.t.index;
    Atomics.store(a, this.slot + T_CKPT, n);
    Atomics.add(a, C_CKPT_ARRIVED, 1);
    Atomics.notify(a, C_CKPT_ARRIVED);
    this.stopped(n);
  }

  /** About to block in a lockstep wait, or idle: the thread does nothing to memory until unpark(). */
  park(): void {
    const a = this.t.a;
    a[this.slot + T_CKPT_INDEX] = this.t.index;
    Atomics.store(a, this.slot + T_CKPT, CKPT_PARKED);
    if (Atomics.load(a, C_CKPT) !== 0) Atomics.notify(a, C_CKPT_ARRIVED);
  }

  /** Leaving a park: if the main thread claimed this thread for a cut meanwhile, it stays stopped until the cut is over. */
  unpark(): void {
    const n = Atomics.exchange(this.t.a, this.slot + T_CKPT, CKPT_RUNNING);
    if (n > 0) this.stopped(n);
  }

  /** Idle (a pool worker between tasks): as parked. */
  idle(): void {
    this.park();
  }

  /** Replay only. */
  meet(): boolean {
    return false;
  }

  /** The thread's run is over: it takes no part in later cuts. */
  gone(): void {
    this.t.a[this.slot + T_CKPT_INDEX] = this.t.index;
    Atomics.store(this.t.a, this.slot + T_CKPT, CKPT_GONE);
    Atomics.notify(this.t.a, C_CKPT_ARRIVED);
  }

  /** Stopped for checkpoint `n` at the current index: waits for the cut, then marks the place if it was taken. */
  private stopped(n: number): void {
    const a = this.t.a;
    this.last = n;
    while (Atomics.load(a, C_CKPT) === n) {
      Atomics.wait(a, C_CKPT, n, SLICE_MS);
      if (Atomics.load(a, C_ABORT) !== 0) throw aborted(this.t.id);
    }
    if (Atomics.load(a, C_CKPT_DONE) === n) this.t.rec(Kind.CheckpointMark, 0, n);
    // A later cut may have claimed this thread already (a given-up cut put it back to parked
    // before it got here): it then stops for that one at the same place.
    const next = Atomics.exchange(a, this.slot + T_CKPT, CKPT_RUNNING);
    if (next > n) this.stopped(next);
  }
}

/** The main thread's side: takes a cut every `everyMs` (from a timer) and records it. */
export class CheckpointTaker {
  private number = 0;
  private backoff = 1;
  private timer: NodeJS.Timeout | null = null;
  /** Checkpoints recorded and given up (for tests and the bench). */
  taken = 0;
  givenUp = 0;

  constructor(
    private readonly arena: Arena,
    private readonly main: Thread,
    private readonly everyMs: number,
    private readonly waitMs: number,
    /** The clock (performance.now): the only time this file reads, given by the driver. */
    private readonly now: () => number,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Taking checkpoints (started and not stopped): threads started now need the stop hook. */
  get active(): boolean {
    return this.timer !== null;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      if (this.timer === null || this.main.ended) return;
      if (this.take()) {
        this.taken++;
        this.backoff = 1;
      } else {
        this.givenUp++;
        this.backoff = Math.min(BACKOFF_MAX, this.backoff * 2);
      }
      this.schedule();
    }, this.everyMs * this.backoff);
    this.timer.unref();
  }

  /** One cut: stop everyone, hash, record, release. False if some thread did not stop in time. */
  take(): boolean {
    const a = this.arena.a;
    const n = ++this.number;
    Atomics.store(a, C_CKPT, n);
    const deadline = this.now() + this.waitMs;
    let places: CutPlace[] | null;
    for (;;) {
      const seen = Atomics.load(a, C_CKPT_ARRIVED);
      places = this.stoppedFor(n);
      if (places !== null) break;
      const left = deadline - this.now();
      if (left <= 0) break;
      Atomics.wait(a, C_CKPT_ARRIVED, seen, Math.min(left, 1));
    }
    if (places !== null) {
      this.main.recPayload(Kind.Checkpoint, 0, encodeCut(n, places, digestBlocks(this.arena)));
      Atomics.store(a, C_CKPT_DONE, n);
    } else {
      this.unclaim(n);
    }
    Atomics.store(a, C_CKPT, 0);
    Atomics.notify(a, C_CKPT);
    return places !== null;
  }

  /** Every other thread's place if all are stopped for `n` (claiming parked ones), else null. */
  private stoppedFor(n: number): CutPlace[] | null {
    const a = this.arena.a;
    const places: CutPlace[] = [];
    for (let t = 1; t < this.arena.threadCount; t++) {
      const s = this.arena.threadSlot(t);
      let state = Atomics.load(a, s + T_CKPT);
      // Parked, or still stopped where an earlier cut claimed it (it owes that cut's mark): claim
      // it for this one. It then marks only this cut, and replay counts a thread that reached a
      // later mark at the same place as arrived for the earlier cuts too (replayer/checkpoint.ts).
      if (state === CKPT_PARKED || (state > 0 && state < n)) state = Atomics.compareExchange(a, s + T_CKPT, state, n) === state ? n : CKPT_RUNNING;
      if (state === CKPT_GONE) {
        places.push({ thread: t, index: a[s + T_CKPT_INDEX]!, gone: true });
        continue;
      }
      if (state !== n) return null;
      places.push({ thread: t, index: a[s + T_CKPT_INDEX]! });
    }
    return places;
  }

  /** A given-up cut: claimed threads that are still parked go back to parked. */
  private unclaim(n: number): void {
    const a = this.arena.a;
    for (let t = 1; t < this.arena.threadCount; t++) Atomics.compareExchange(a, this.arena.threadSlot(t) + T_CKPT, n, CKPT_PARKED);
  }
}

/** The chaos hook and the checkpoint stop at one sync point (thread.chaos holds whichever is on). */
export function syncPoint(chaos: { point(word: number): void } | null, stop: CheckpointStop): { point(word: number): void } {
  if (chaos === null) return { point: () => stop.point() };
  return {
    point: (word) => {
      chaos.point(word);
      stop.point();
    },
  };
}

/** Record: makes `t` stop for checkpoint cuts (its sync points and its lockstep waits). */
export function attachStop(t: Thread, arena: Arena): void {
  const stop = new CheckpointStop(t, arena);
  t.checkpoints = stop;
  t.chaos = syncPoint(t.chaos, stop);
}

/** The checkpoint period a run asked for ($LOCKSTEP_CHECKPOINT_MS's text or start({ checkpointMs })), else the default; 0 is off. */
export function checkpointMsOf(given: number | string | undefined): number {
  const ms = given === undefined ? CHECKPOINT_MS_DEFAULT : typeof given === 'string' && /^\d+$/.test(given) ? Number(given) : given;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > 2 ** 31 - 1) {
    throw usage(`checkpointMs must be an integer number of milliseconds from 0 (off) to 2^31-1, got ${String(given)}`);
  }
  return ms;
}
