// A mutex on one Int32 word, after Ulrich Drepper, "Futexes Are Tricky" (2011), mutex3, with a
// short spin before parking because with more threads than cores a parked waiter costs a context
// switch, and unbounded spinning starves the holder.
//
// Encoding: 0 unlocked, 1 locked with no waiters, 2 locked with possible waiters.

const SPIN_MAX = 64;

export function lockWord(a: Int32Array, i: number): void {
  if (Atomics.compareExchange(a, i, 0, 1) === 0) return;
  lockWordSlow(a, i);
}

function lockWordSlow(a: Int32Array, i: number): void {
  if (spinLockWord(a, i)) return;
  let c = Atomics.exchange(a, i, 2);
  while (c !== 0) {
    Atomics.wait(a, i, 2);
    c = Atomics.exchange(a, i, 2);
  }
}

/**
 * The spin before parking: tries to take the word while it is held for a short while, as a
 * holder on another core releases it. True if taken. Callers that park their own way (deadlock
 * detection's watched wait) spin here first too.
 */
export function spinLockWord(a: Int32Array, i: number): boolean {
  for (let spin = 0; spin < SPIN_MAX; spin++) {
    if (Atomics.load(a, i) === 0 && Atomics.compareExchange(a, i, 0, 1) === 0) return true;
  }
  return false;
}

export function tryLockWord(a: Int32Array, i: number): boolean {
  return Atomics.compareExchange(a, i, 0, 1) === 0;
}

export function unlockWord(a: Int32Array, i: number): void {
  if (Atomics.sub(a, i, 1) !== 1) {
    Atomics.store(a, i, 0);
    Atomics.notify(a, i, 1);
  }
}
