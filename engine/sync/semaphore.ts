// Counting semaphore. acquire is ordered (the recorded order is the order permits were taken);
// release is not: given the acquire order, every thread's releases happen at the same points of
// its own program, so replay reproduces them without help.
//
// Footprint: Semaphore.SLOTS = 4.  0 guard, 1 version, 2 seq (guarded_object.ts), 3 permits.

import { usage } from '../errors.js';
import { Kind, ValueKind } from '../event.js';
import type { Thread } from '../thread.js';
import { WaitHow } from '../deadlock.js';
import { GUARDED_SLOTS, ordered, orderedTry, update } from './guarded_object.js';

const PERMITS = GUARDED_SLOTS;

export class Semaphore {
  static readonly SLOTS = GUARDED_SLOTS + 1;
  private readonly take: () => boolean;

  constructor(private readonly t: Thread, readonly id: number, private readonly s: number) {
    const a = t.a;
    this.take = () => {
      if (a[s + PERMITS]! <= 0) return false;
      a[s + PERMITS]!--;
      return true;
    };
  }

  static init(a: Int32Array, s: number, permits: number): void {
    a[s + PERMITS] = permits;
  }

  acquire(): void {
    ordered(this.t, Kind.SemAcquire, this.id, this.s, this.take, WaitHow.Semaphore);
  }

  tryAcquire(): boolean {
    return orderedTry(this.t, this.id, this.s, this.take);
  }

  release(permits = 1): void {
    if (!(Number.isInteger(permits) && permits > 0)) throw usage(`semaphore.release(n) needs a positive integer, got ${permits}`);
    const a = this.t.a;
    if (this.t.deadlock !== null) for (let k = 0; k < permits; k++) this.t.deadlock.released(this.id);
    update(a, this.s, () => {
      a[this.s + PERMITS] = a[this.s + PERMITS]! + permits;
    });
  }

  /**
   * Permits available now. The count races with other threads, so a recorded run logs what it
   * read and replay returns that (a program may branch on it).
   */
  get available(): number {
    return this.t.float(ValueKind.Permits, () => Atomics.load(this.t.a, this.s + PERMITS));
  }
}
