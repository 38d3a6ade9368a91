// The baseline every lockstep mutex benchmark compares against: the mutex a careful programmer
// writes by hand with Atomics, with no lockstep in sight. It is Ulrich Drepper's "mutex3" from
// "Futexes Are Tricky" (2011), transcribed to Atomics.compareExchange / exchange / sub / wait /
// notify, without any spinning before it parks (Drepper's version does not spin).
//
// Footprint: DrepperMutex.SLOTS = 1.
// Encoding: 0 unlocked, 1 locked with no waiters, 2 locked with possible waiters.

export class DrepperMutex {
  static readonly SLOTS = 1;

  constructor(private readonly a: Int32Array, private readonly i: number) {}

  lock(): void {
    const a = this.a;
    const i = this.i;
    let c = Atomics.compareExchange(a, i, 0, 1);
    if (c === 0) return;
    // Contended: announce a waiter (state 2) and sleep until the word is handed back at 0.
    if (c !== 2) c = Atomics.exchange(a, i, 2);
    while (c !== 0) {
      Atomics.wait(a, i, 2);
      c = Atomics.exchange(a, i, 2);
    }
  }

  unlock(): void {
    const a = this.a;
    const i = this.i;
    // From 1 to 0 means nobody waits; from 2 someone may be asleep and must be woken.
    if (Atomics.sub(a, i, 1) !== 1) {
      Atomics.store(a, i, 0);
      Atomics.notify(a, i, 1);
    }
  }
}
