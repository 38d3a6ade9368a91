// Read-write lock. Read and write acquisitions are ordered on one version sequence, so replay
// admits readers and writers in the recorded order (readers still overlap when the log says they
// did). Unlocks are not ordered. Writers may starve under a steady stream of readers.
//
// Footprint: RwLock.SLOTS = 5.  0 guard, 1 version, 2 seq (guarded.ts), 3 readers, 4 writer (0/1).

import { Kind } from '../event.js';
import type { Thread } from '../thread.js';
import { WaitHow } from '../deadlock.js';
import { GUARDED_SLOTS, ordered, orderedTry, update } from './guarded.js';

const READERS = GUARDED_SLOTS;
const WRITER = GUARDED_SLOTS + 1;

export class RwLock {
  static readonly SLOTS = GUARDED_SLOTS + 2;
  private readonly enterRead: () => boolean;
  private readonly enterWrite: () => boolean;

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
    ordered(this.t, Kind.ReadLock, this.id, this.s, this.enterRead, WaitHow.Read);
  }

  writeLock(): void {
    ordered(this.t, Kind.WriteLock, this.id, this.s, this.enterWrite, WaitHow.Write);
  }

  tryReadLock(): boolean {
    return orderedTry(this.t, this.id, this.s, this.enterRead);
  }

  tryWriteLock(): boolean {
    return orderedTry(this.t, this.id, this.s, this.enterWrite);
  }

  readUnlock(): void {
    const a = this.t.a;
    if (this.t.deadlock !== null) this.t.deadlock.released(this.id);
    update(a, this.s, () => {
      a[this.s + READERS]!--;
    });
  }

  writeUnlock(): void {
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
