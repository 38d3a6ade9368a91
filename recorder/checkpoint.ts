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
// A thread stops at a sync point by a compare-and-swap RUNNING → the cut's number, never a plain
// store, so it cannot overwrite a claim: a thread that meets a sync point while parked (code its
// pool task left running, a promise it did not await, after the task was answered and the worker
// went idle) leaves the park first, as any parked thread does, and then stops as a running one.
// Once all are stopped, the main thread hashes every region, records a checkpoint event (its
// number, every other thread's event index, the digests), sets C_CKPT_DONE and releases them. A
// stopped or parked thread, when it leaves its place (CheckpointStop.leave), records one
// checkpoint-mark event there, for the last completed cut that held it: replay stops it at that
// mark until that cut is compared, which covers every earlier cut that listed the same place. A
// thread that is slow to leave (an idle pool worker waits for its next task) may be held by
// several cuts in a row: each claims it from the one before (T_CKPT = the older number → this
// one), and marks only the last. If some thread does not stop within `waitMs` (a long loop
// between sync points, a wait lockstep does not know), the checkpoint is given up: nothing is
// recorded, each thread it claimed goes back to exactly what it was (parked, or held by the
// earlier cut whose mark it still owes), and the next attempt comes later (the period doubles,
// up to BACKOFF_MAX times, and resets after a success). A give-up that reset such a thread to
// plain parked lost the mark it owed, and the replay of a pool program then waited for a thread
// that never stopped at its place (bank and wordcount with cuts every 1-3 ms stalled in 3 of 4
// replays, until this was found).
//
// Cost: a sync point reads one shared word (C_CKPT) while no checkpoint is being taken; a cut
// stops the threads for about one sync-point gap plus the hashing (linear in registered memory).
// Measured on the bank with 2 tellers (400,000 transfers each, interleaved recordings, process
// CPU): at the default period, 18 pairs, median 1.69 s on and 1.84 s off (paired ratio 0.96,
// within the ±20% noise of a shared 2-core machine); every 10 ms (about 60 cuts a run), 6 pairs,
// 1.96 s and 2.06 s (0.94). No cost shows at either period.

import { assert } from '../engine/assert.js';
import { Kind } from '../engine/event.js';
import { usage } from '../engine/errors.js';
import { waitWhile } from '../engine/checkpoint_wait.js';
import { digestBlocks, encodeCut, type CutPlace } from '../engine/checkpoint.js';
import {
  C_CKPT, C_CKPT_ARRIVED, C_CKPT_DONE, CKPT_GONE, CKPT_PARKED, CKPT_RUNNING, T_CKPT, T_CKPT_INDEX,
} from '../engine/arena_layout.js';
import type { Arena } from '../engine/arena.js';
import type { CheckpointHooks, Thread } from '../engine/thread.js';

/** Checkpoints every this many ms by default ($LOCKSTEP_CHECKPOINT_MS, start({ checkpointMs }); 0: off). */
export const CHECKPOINT_MS_DEFAULT = 1000;
/** How long the main thread waits for every thread to stop before it gives a checkpoint up. */
export const CHECKPOINT_WAIT_MS = 20;
/** The period grows at most this many times after checkpoints given up in a row. */
const BACKOFF_MAX = 64;

/** A thread's side of a cut (record): stop at sync points, park around lockstep waits. */
export class CheckpointStop implements CheckpointHooks {
  private readonly slot: number;

  constructor(private readonly t: Thread, arena: Arena) {
    this.slot = arena.threadSlot(t.id);
  }

  /** A sync point, before the operation's event: stop here if a checkpoint is being taken. */
  point(): void {
    // A plain read: a request missed here is seen at the next sync point (the main thread waits).
    if (this.t.a[C_CKPT] === 0) return;
    const a = this.t.a;
    const slot = this.slot + T_CKPT;
    for (;;) {
      const n = Atomics.load(a, C_CKPT);
      if (n === 0) return;
      // Not running: parked, perhaps claimed by a cut. A thread meets a sync point parked only
      // when code goes on after its pool task was answered (a promise the task did not await)
      // while the worker counts as idle: it leaves the park as a thread leaving a lockstep wait
      // does (waits while a cut holds it, marks the place that cut listed), then stops for this
      // cut, if it is still being taken, as a running thread. Storing n over a claim instead
      // would hide it from the cut's give-up, which could not put back the mark it owed.
      const state = Atomics.load(a, slot);
      if (state === CKPT_GONE) return; // its run is over: it takes no part in cuts
      if (state !== CKPT_RUNNING) {
        this.leave();
        continue;
      }
      // Running: the main thread neither claims it nor reads its place, so the place is written
      // before the state that publishes it, and only this thread leaves RUNNING (the swap cannot
      // fail; it is one so that the rule reads the same everywhere: nothing overwrites a claim).
      a[this.slot + T_CKPT_INDEX] = this.t.index;
      if (Atomics.compareExchange(a, slot, CKPT_RUNNING, n) !== CKPT_RUNNING) continue;
      Atomics.add(a, C_CKPT_ARRIVED, 1);
      Atomics.notify(a, C_CKPT_ARRIVED);
      this.leave();
      return;
    }
  }

  /** About to block in a lockstep wait, or idle: the thread does nothing to memory until unpark(). */
  park(): void {
    const a = this.t.a;
    // Not started yet (a pool worker before its first task): parked at index 0 since addThread,
    // and perhaps claimed by a cut already; storing PARKED again would undo that claim.
    if (Atomics.load(a, this.slot + T_CKPT) !== CKPT_RUNNING) return;
    a[this.slot + T_CKPT_INDEX] = this.t.index;
    Atomics.store(a, this.slot + T_CKPT, CKPT_PARKED);
    if (Atomics.load(a, C_CKPT) !== 0) Atomics.notify(a, C_CKPT_ARRIVED);
  }

  /** Leaving a park: if a cut claimed this thread meanwhile, it stays stopped until that cut is over, and marks its place. */
  unpark(): void {
    this.leave();
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

  /**
   * Stopped (T_CKPT = a cut's number) or parked where it is: waits while a cut that holds it is
   * being taken, then swaps RUNNING in and records a checkpoint-mark for the last completed cut
   * that held it here. That is the only mark at this place: replay stops the thread there until
   * that cut, and every earlier one that listed the same place, is compared.
   */
  private leave(): void {
    const a = this.t.a;
    const slot = this.slot + T_CKPT;
    for (;;) {
      const state = Atomics.load(a, slot);
      // Held by the cut being taken: wait until it is over (recorded or given up).
      if (state > 0) waitWhile(a, C_CKPT, (cut) => cut === state, this.t.id);
      // No cut holds it now: the main thread may still claim it (parked, or stopped for an
      // earlier cut) for the next one, so the swap is a compare-and-swap, retried.
      if (Atomics.compareExchange(a, slot, state, CKPT_RUNNING) !== state) continue;
      // `state` is a cut that was completed, or given up (a given-up cut puts the threads it
      // claimed back as they were, so a state it leaves behind is one this thread stopped for by
      // itself). No later cut can have completed while this thread runs on to here.
      if (state > 0 && ((Atomics.load(a, C_CKPT_DONE) - state) | 0) >= 0) this.t.rec(Kind.CheckpointMark, 0, state);
      return;
    }
  }
}

/** The main thread's side: takes a cut every `everyMs` (from a timer) and records it. */
export class CheckpointTaker {
  private number = 0;
  private backoff = 1;
  private timer: NodeJS.Timeout | null = null;
  /** The threads the cut being taken claimed, and what each was before (unclaim puts it back). */
  private readonly claimed = new Map<number, number>();
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
    this.claimed.clear();
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
      // Parked, or still stopped where an earlier cut held it (it has not left to mark that cut's
      // place yet): claim it for this one. It then marks only this cut, and replay counts a thread
      // at a later mark at the same place as arrived for the earlier cuts too
      // (replayer/checkpoint.ts). What it was is kept, for a give-up to put back.
      if (state === CKPT_PARKED || (state > 0 && state < n)) {
        if (Atomics.compareExchange(a, s + T_CKPT, state, n) === state) {
          this.claimed.set(t, state);
          state = n;
        } else {
          state = CKPT_RUNNING;
        }
      }
      if (state === CKPT_GONE) {
        places.push({ thread: t, index: a[s + T_CKPT_INDEX]!, gone: true });
        continue;
      }
      if (state !== n) return null;
      places.push({ thread: t, index: a[s + T_CKPT_INDEX]! });
    }
    return places;
  }

  /**
   * A given-up cut: the threads it claimed go back to what they were (parked, or held by the
   * earlier cut whose mark they still owe: put back to parked, that mark would be lost, and a
   * replay would wait for a thread that never stops there). A claimed thread waits while the cut
   * is being taken, so each is still claimed here.
   */
  private unclaim(n: number): void {
    const a = this.arena.a;
    for (const [t, was] of this.claimed) {
      const s = this.arena.threadSlot(t) + T_CKPT;
      const now = Atomics.compareExchange(a, s, n, was);
      assert(now === n, `checkpoint ${n}: thread ${t}, claimed, left the cut before it was over (T_CKPT ${now})`);
    }
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
