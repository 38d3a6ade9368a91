// Mutex: a futex_lock word plus a version word. In record mode every acquisition takes the next
// version under the lock; in replay a thread waits for its recorded version before it locks, so
// threads acquire in the recorded order while running in parallel between acquisitions.
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

export class Mutex {
  static readonly SLOTS = 2;
  private readonly a: Int32Array;
  /** This thread holds the mutex (see the header: the object is per thread). */
  private held = false;

  constructor(private readonly t: Thread, readonly id: number, private readonly s: number) {
    this.a = t.a;
  }

  lock(): void {
    const a = this.a;
    const s = this.s;
    if (this.held) throw deadlock(this.t.id, `locked mutex ${this.id}, which it already holds`);
    const mode = this.t.current();
    if (mode === Mode.Off) {
      if (this.t.deadlock === null) lockWord(a, s);
      else this.t.deadlock.lock(a, s, this.id);
    } else if (mode === Mode.Record) {
      if (this.t.floors !== null) this.t.awaitFloor(this.id, s + 1);
      if (this.t.chaos !== null) this.t.chaos.point(s);
      this.t.ring!.ensure(2); // room for the event before the lock: never wait for the drain holding it
      if (this.t.deadlock === null) lockWord(a, s);
      else this.t.deadlock.lock(a, s, this.id);
      const version = a[s + 1]!;
      a[s + 1] = (version + 1) | 0;
      this.t.rec(Kind.Lock, this.id, version);
    } else {
      const version = this.t.expect(Kind.Lock, this.id);
      this.t.awaitVersion(s + 1, version, this.id);
      lockWord(a, s);
      this.t.publishVersion(s + 1, (version + 1) | 0);
    }
    this.held = true;
  }

  unlock(): void {
    if (!this.held) throw notHeld(this.t.id, `unlocked mutex ${this.id}, which it does not hold`);
    this.held = false;
    if (this.t.deadlock !== null) this.t.deadlock.released(this.id);
    unlockWord(this.a, this.s);
  }

  /** True if this thread holds the mutex (condition.wait checks it). */
  get heldHere(): boolean {
    return this.held;
  }

  tryLock(): boolean {
    const a = this.a;
    const s = this.s;
    const mode = this.t.current();
    if (mode === Mode.Off) {
      if (!tryLockWord(a, s)) return false;
      this.held = true;
      if (this.t.deadlock !== null) this.t.deadlock.acquired(this.id);
      return true;
    }
    if (mode === Mode.Record) {
      if (this.t.floors !== null) this.t.awaitFloor(this.id, s + 1);
      if (this.t.chaos !== null) this.t.chaos.point(s);
      if (!tryLockWord(a, s)) {
        this.t.rec(Kind.TryFail, this.id, 0);
        return false;
      }
      const version = a[s + 1]!;
      a[s + 1] = (version + 1) | 0;
      this.t.rec(Kind.TryOk, this.id, version);
      this.held = true;
      if (this.t.deadlock !== null) this.t.deadlock.acquired(this.id);
      return true;
    }
    const r = this.t.expectEither(Kind.TryOk, Kind.TryFail, this.id);
    if (!r.ok) return false;
    this.t.awaitVersion(s + 1, r.arg, this.id);
    lockWord(a, s);
    this.t.publishVersion(s + 1, (r.arg + 1) | 0);
    this.held = true;
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
