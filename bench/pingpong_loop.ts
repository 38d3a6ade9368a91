// The contended ping-pong workload, shared by the hand-written and the lockstep worker fixtures so
// both run exactly the same loop: `ops` acquisitions of one mutex, each holding it for a critical
// section that folds the thread's id into `csWords` shared words (an order-sensitive hash, so a
// replay that took the lock in another order would end with another digest).
//
// Control block (`ctl`, a SharedArrayBuffer outside lockstep's registered memory, so it is neither
// recorded nor part of the digest):
//   Int32 0      threads that have arrived at the start line
//   BigInt64 1+i start time of the thread with spawn index i (process.hrtime.bigint(), ns)
//   BigInt64 1+parties+i its end time
// process.hrtime is one monotonic clock for the whole process, so times of different threads
// compare; performance.now() would not (each worker has its own timeOrigin).

export const CTL_ARRIVED = 0;
export const CTL_BYTES = (p: number): number => 8 + 16 * p;

export interface Lock {
  lock(): void;
  unlock(): void;
}

export interface PingPongData {
  ops: number;
  csWords: number;
  parties: number;
  ctl: SharedArrayBuffer;
}

/** What a hand-written (plain Worker) thread gets as workerData. */
export interface HandData extends PingPongData {
  /** Lock word at slot 0; the critical section's words from slot HAND_DATA_SLOT. */
  shared: SharedArrayBuffer;
  /** Spawn index: 0, 1, … (its id in the hash is index + 1, as lockstep's logical ids are). */
  index: number;
}

/** The hand-written run's data words start a cache line (64 bytes) after its lock word. */
export const HAND_DATA_SLOT = 16;

/** Waits until all `parties` threads have arrived, so no thread runs alone while another boots. */
export function startLine(ctl: SharedArrayBuffer, parties: number): void {
  const c = new Int32Array(ctl, 0, 1);
  if (Atomics.add(c, CTL_ARRIVED, 1) + 1 === parties) {
    Atomics.notify(c, CTL_ARRIVED);
    return;
  }
  for (let n = Atomics.load(c, CTL_ARRIVED); n < parties; n = Atomics.load(c, CTL_ARRIVED)) {
    Atomics.wait(c, CTL_ARRIVED, n);
  }
}

export function pingPong(m: Lock, data: Int32Array, id: number, ops: number, csWords: number): void {
  for (let i = 0; i < ops; i++) {
    m.lock();
    for (let k = 0; k < csWords; k++) data[k] = (Math.imul(data[k]!, 31) + id + k) | 0;
    m.unlock();
  }
}

/** Runs the timed part of one worker: start line, loop, and its start and end times into `ctl`. */
export function timedPingPong(m: Lock, data: Int32Array, id: number, index: number, d: PingPongData): void {
  const times = new BigInt64Array(d.ctl, 8, 2 * d.parties);
  startLine(d.ctl, d.parties);
  times[index] = process.hrtime.bigint();
  pingPong(m, data, id, d.ops, d.csWords);
  times[d.parties + index] = process.hrtime.bigint();
}

/** Nanoseconds from the first thread's start to the last thread's end. */
export function elapsedNs(ctl: SharedArrayBuffer, parties: number): number {
  const times = new BigInt64Array(ctl, 8, 2 * parties);
  let first = times[0]!;
  let last = times[parties]!;
  for (let i = 1; i < parties; i++) {
    if (times[i]! < first) first = times[i]!;
    if (times[parties + i]! > last) last = times[parties + i]!;
  }
  return Number(last - first);
}
