// Mutex: a futex_lock word plus a version word. In record mode every acquisition takes the next
// version under the lock; in replay a thread waits for its recorded version before it locks, so
// threads acquire in the recorded order while running in parallel between acquisitions (the
// ordered step, step.ts, whose exclusive section is the lock itself: it is left at unlock).
//
// Footprint: Mutex.SLOTS = 2.  0: lock word (0 unlocked, 1 locked, 2 locked with waiters), 1: version.
//
// Ownership is checked without shared memory: each logical thread has its own Mutex object per
// mutex (the API caches groups per thread), so a plain field says whether this thread holds it.
// Locking twice is ERR_DEADLOCK (it would wait for itself), unlocking what this thread does not
// hold is ERR_NOT_HELD; the cost is one field read and one write per lock and unlock.

import { lockWord, tryLockWord, unlockWord } from '../futex_lock.js';
import { Kind } from '../event.js';
import { deadlock, notHeld } from '../errors.js';
import { Mode, type Thread } from '../thread.js';
import { TRY_FAILED, beginStep, beginTry, endStep, failedTry, takeStep } from './step.js';

const VERSION = 1;

export class Mutex {
  static readonly SLOTS = 2;
  private readonly a: Int32Array;
  /** This thread holds the mutex (see the header: the object is per thread). */
  private held = false;
  /** Replay: the lock took `version`; unlock wakes the thread parked for the next one. */
  private wakeAtUnlock = false;
  private version = 0;

  constructor(private readonly t: Thread, readonly id: number, private readonly s: number) {
    this.a = t.a;
  }

  lock(): void {
    const t = this.t;
    const a = this.a;
    const s = this.s;
    if (this.held) throw deadlock(t.id, `locked mutex ${this.id}, which it already holds`);
    const mode = t.current();
    if (mode === Mode.Off) {
      this.enter();
    } else {
      const begun = beginStep(t, mode, Kind.Lock, this.id, s + VERSION, s);
      this.enter();
      const version = takeStep(a, mode, s + VERSION, begun);
      // The section is left at unlock: record logs now, replay wakes the next version's thread then.
      if (mode === Mode.Record) endStep(t, mode, Kind.Lock, this.id, s + VERSION, version);
      else this.replayedAt(version);
    }
    this.held = true;
  }

  /** Replay: the lock took `version`; unlock wakes the thread parked for the next one. */
  private replayedAt(version: number): void {
    this.wakeAtUnlock = true;
    this.version = version;
  }

  /** The step's exclusive section: the lock word (watched for deadlocks where the thread watches). */
  private enter(): void {
    if (this.t.deadlock === null) lockWord(this.a, this.s);
    else this.t.deadlock.lock(this.a, this.s, this.id);
  }

  unlock(): void {
    if (!this.held) throw notHeld(this.t.id, `unlocked mutex ${this.id}, which it does not hold`);
    this.held = false;
    if (this.t.deadlock !== null) this.t.deadlock.released(this.id);
    unlockWord(this.a, this.s);
    if (this.wakeAtUnlock) {
      // After the unlock's read-modify-write, which orders the replayed version's plain store before this look for waiters (step.ts).
      this.wakeAtUnlock = false;
      endStep(this.t, Mode.Replay, Kind.Lock, this.id, this.s + VERSION, this.version);
    }
  }

  /** True if this thread holds the mutex (condition.wait checks it). */
  get heldHere(): boolean {
    return this.held;
  }

  tryLock(): boolean {
    const t = this.t;
    const a = this.a;
    const s = this.s;
    const mode = t.current();
    if (mode === Mode.Off) {
      if (!tryLockWord(a, s)) return false;
    } else {
      const begun = beginTry(t, mode, Kind.TryOk, Kind.TryFail, this.id, s + VERSION, s);
      if (begun === TRY_FAILED) return false;
      if (mode === Mode.Record) {
        if (!tryLockWord(a, s)) {
          failedTry(t, mode, Kind.TryFail, this.id);
          return false;
        }
      } else {
        // The recording got the lock here: at this version it is free, or about to be.
        lockWord(a, s);
      }
      const version = takeStep(a, mode, s + VERSION, begun);
      if (mode === Mode.Record) endStep(t, mode, Kind.TryOk, this.id, s + VERSION, version);
      else this.replayedAt(version);
    }
    this.held = true;
    if (t.deadlock !== null) t.deadlock.acquired(this.id);
    return true;
  }

  /** Runs `fn` holding the lock. */
  with<T>(fn: () => T): T {
    this.lock();
    try {
      return fn();
    } finally {
      this.unlock();
    }
  }
}
