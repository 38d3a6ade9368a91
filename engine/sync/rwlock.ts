// Read-write lock. Read and write acquisitions are ordered on one version sequence, so replay
// admits readers and writers in the recorded order (readers still overlap when the log says they
// did). Unlocks are not ordered. Writers may starve under a steady stream of readers.
//
// Footprint: RwLock.SLOTS = 5.  0 guard, 1 version, 2 seq (guarded_object.ts), 3 readers, 4 writer (0/1).
//
// What this thread holds is kept in plain fields (the object is per thread, as for Mutex): a
// release of a hold it does not have is ERR_NOT_HELD, and asking for the write lock while holding
// either lock (or a read lock while writing) is ERR_DEADLOCK, since it would wait for itself.

import { deadlock, notHeld } from '../errors.js';
import { Kind } from '../event.js';
import type { Thread } from '../thread.js';
import { WaitHow } from '../deadlock.js';
import { GUARDED_SLOTS, ordered, orderedTry, update } from './guarded_object.js';

const READERS = GUARDED_SLOTS;
const WRITER = GUARDED_SLOTS + 1;

export class RwLock {
  static readonly SLOTS = GUARDED_SLOTS + 2;
  private readonly enterRead: () => boolean;
  private readonly enterWrite: () => boolean;
  /** Read holds and the write hold of this thread. */
  private reads = 0;
  private writing = false;

  constructor(private readonly t: Thread, readonly id: number, private readonly s: number) {
    const a = t.a;
    this.enterRead = () => {
      if (a[s + WRITER] !== 0) return false;
      a[s + READERS]!++;
      return true;
    };
    this.enterWrite = () => {
      if (a[s + WRITER] !== 0 || a[s + READERS] !== 0) return false;
      a[s + WRITER] = 1;
      return true;
    };
  }

  readLock(): void {
    if (this.writing) throw deadlock(this.t.id, `read-locked rwlock ${this.id} while it holds its write lock`);
    ordered(this.t, Kind.ReadLock, this.id, this.s, this.enterRead, WaitHow.Read);
    this.reads++;
  }

  writeLock(): void {
    if (this.writing || this.reads > 0) throw deadlock(this.t.id, `write-locked rwlock ${this.id} while it holds its ${this.writing ? 'write' : 'read'} lock`);
    ordered(this.t, Kind.WriteLock, this.id, this.s, this.enterWrite, WaitHow.Write);
    this.writing = true;
  }

  tryReadLock(): boolean {
    const ok = orderedTry(this.t, this.id, this.s, this.enterRead);
    if (ok) this.reads++;
    return ok;
  }

  tryWriteLock(): boolean {
    const ok = orderedTry(this.t, this.id, this.s, this.enterWrite);
    if (ok) this.writing = true;
    return ok;
  }

  readUnlock(): void {
    if (this.reads === 0) throw notHeld(this.t.id, `read-unlocked rwlock ${this.id} without holding a read lock`);
    this.reads--;
    const a = this.t.a;
    if (this.t.deadlock !== null) this.t.deadlock.released(this.id);
    update(a, this.s, () => {
      a[this.s + READERS]!--;
    });
  }

  writeUnlock(): void {
    if (!this.writing) throw notHeld(this.t.id, `write-unlocked rwlock ${this.id} without holding its write lock`);
    this.writing = false;
    const a = this.t.a;
    if (this.t.deadlock !== null) this.t.deadlock.released(this.id);
    update(a, this.s, () => {
      a[this.s + WRITER] = 0;
    });
  }

  withRead<T>(fn: () => T): T {
    this.readLock();
    try {
      return fn();
    } finally {
      this.readUnlock();
    }
  }

  withWrite<T>(fn: () => T): T {
    this.writeLock();
    try {
      return fn();
    } finally {
      this.writeUnlock();
    }
  }
}
