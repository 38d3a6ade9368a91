// The scaling benchmark's workload, shared by its worker fixture and the calibration in the
// driver: `ops` acquisitions, each of one of `locks` mutexes picked by a fixed hash of (thread,
// iteration), holding it for a critical section of `spin` dependent multiply-adds on the lock's
// shared word. Order-sensitive, so a replay that took the locks in another order ends with
// another digest. `spin` sets the event rate: 0 is an empty critical section (the worst case for
// recording), 100 000 is about a tenth of a millisecond.

export interface Lock {
  lock(): void;
  unlock(): void;
}

/** Shared words per lock: one word used, padded to a 64-byte cache line. */
export const WORDS_PER_LOCK = 16;

export interface SpinConfig {
  threads: number;
  spin: number;
  opsPerThread: number;
  locks: number;
}

export function lockOf(id: number, i: number, locks: number): number {
  return (Math.imul(i, 0x9e3779b1) + Math.imul(id, 0x85ebca77)) >>> 0 >>> (32 - Math.log2(locks));
}

export function spinLoop(m: Lock[], data: Int32Array, id: number, ops: number, spin: number): void {
  const locks = m.length;
  for (let i = 0; i < ops; i++) {
    const k = lockOf(id, i, locks);
    const at = k * WORDS_PER_LOCK;
    m[k]!.lock();
    let x = data[at]!;
    for (let j = 0; j < spin; j++) x = (Math.imul(x, 31) + j) | 0;
    data[at] = (x + id) | 0;
    m[k]!.unlock();
  }
}
