// Timing of multi-threaded benchmark loops: for each scenario, a start line that every thread
// reaches before any starts its loop, and each thread's start and end time. A run of a scenario
// lasts from the first thread's start to the last thread's end.
//
// Layout of the control buffer (a SharedArrayBuffer outside lockstep's registered memory, so it
// is neither recorded nor part of the digest), for `scenarios` scenarios of `parties` threads:
//   Int32 s                       threads that have reached scenario s's start line
//   BigInt64 at ARRIVED_BYTES/8 + (s × parties + i) × 2      thread i's start time (ns)
//   BigInt64 … + 1                                         its end time
// process.hrtime.bigint() is one monotonic clock for the whole process, so times taken in
// different threads compare; performance.now() would not (each worker has its own origin).

export interface Stopwatch {
  buffer: SharedArrayBuffer;
  scenarios: number;
  parties: number;
}

function arrivedBytes(scenarios: number): number {
  return Math.ceil((scenarios * 4) / 8) * 8;
}

export function stopwatch(scenarios: number, parties: number): Stopwatch {
  const buffer = new SharedArrayBuffer(arrivedBytes(scenarios) + scenarios * parties * 16);
  return { buffer, scenarios, parties };
}

function times(w: Stopwatch): BigInt64Array {
  return new BigInt64Array(w.buffer, arrivedBytes(w.scenarios), w.scenarios * w.parties * 2);
}

/** Waits until all parties have reached scenario `s`'s start line (plain Atomics, never recorded). */
export function startLine(w: Stopwatch, s: number): void {
  const c = new Int32Array(w.buffer, 0, w.scenarios);
  if (Atomics.add(c, s, 1) + 1 === w.parties) {
    Atomics.notify(c, s);
    return;
  }
  for (let n = Atomics.load(c, s); n < w.parties; n = Atomics.load(c, s)) Atomics.wait(c, s, n);
}

/** Runs `loop` as thread `i`'s part of scenario `s`, timed after the start line. */
export function timed(w: Stopwatch, s: number, i: number, loop: () => void): void {
  const t = times(w);
  startLine(w, s);
  t[(s * w.parties + i) * 2] = process.hrtime.bigint();
  loop();
  t[(s * w.parties + i) * 2 + 1] = process.hrtime.bigint();
}

/** Nanoseconds from the first thread's start to the last thread's end in scenario `s`. */
export function elapsedNs(w: Stopwatch, s: number): number {
  const t = times(w);
  let first = t[s * w.parties * 2]!;
  let last = t[s * w.parties * 2 + 1]!;
  for (let i = 1; i < w.parties; i++) {
    const at = (s * w.parties + i) * 2;
    if (t[at]! < first) first = t[at]!;
    if (t[at + 1]! > last) last = t[at + 1]!;
  }
  return Number(last - first);
}
