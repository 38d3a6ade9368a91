// A read-write lock for the plain worker_threads baselines, on one Int32 word with Atomics:
// readers CAS the count up while no writer holds it, a writer CASes 0 → -1; whoever finds the
// word taken sleeps on it until it changes, and every release wakes all sleepers (a jobserver's
// critical sections are short; no writer preference, so a reader stream may delay a writer).
//
// Footprint: PlainRwLock.SLOTS = 1. Encoding: 0 free, n > 0 held by n readers, -1 held by a writer.

export class PlainRwLock {
  static readonly SLOTS = 1;

  constructor(private readonly a: Int32Array, private readonly i: number) {}

  withRead<T>(fn: () => T): T {
    const a = this.a;
    const i = this.i;
    for (;;) {
      const s = Atomics.load(a, i);
      if (s >= 0) {
        if (Atomics.compareExchange(a, i, s, s + 1) === s) break;
      } else Atomics.wait(a, i, s);
    }
    try {
      return fn();
    } finally {
      if (Atomics.sub(a, i, 1) === 1) Atomics.notify(a, i);
    }
  }

  withWrite<T>(fn: () => T): T {
    const a = this.a;
    const i = this.i;
    for (;;) {
      const s = Atomics.compareExchange(a, i, 0, -1);
      if (s === 0) break;
      Atomics.wait(a, i, s);
    }
    try {
      return fn();
    } finally {
      Atomics.store(a, i, 0);
      Atomics.notify(a, i);
    }
  }
}
