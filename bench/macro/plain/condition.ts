// A condition variable for the plain worker_threads baselines: a sequence word that waiters sleep
// on (Atomics.wait) and notifiers bump; a waiter that saw the old value before it let go of the
// lock cannot miss a notify that comes after (the bump changes the word it waits on). Waiters
// recheck their predicate in a loop, so spurious wake-ups are harmless. The usual futex condition
// variable (Drepper, "Futexes Are Tricky", section 8, without the requeue optimisation).
//
// Footprint: PlainCondition.SLOTS = 1. Encoding: a wrapping sequence number.

import type { DrepperMutex } from '../../drepper_mutex.js';

export class PlainCondition {
  static readonly SLOTS = 1;

  constructor(private readonly a: Int32Array, private readonly i: number) {}

  wait(lock: DrepperMutex): void {
    const seen = Atomics.load(this.a, this.i);
    lock.unlock();
    Atomics.wait(this.a, this.i, seen);
    lock.lock();
  }

  notify(): void {
    Atomics.add(this.a, this.i, 1);
    Atomics.notify(this.a, this.i, 1);
  }

  notifyAll(): void {
    Atomics.add(this.a, this.i, 1);
    Atomics.notify(this.a, this.i);
  }
}
