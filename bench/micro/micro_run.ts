// One child process of the micro benchmark (micro.bench.ts starts it): one variant (hand-written,
// or lockstep in mode off, record or replay) of one part (uncontended fixed-count loops, contended
// loops on two workers, or benchmark.js). It prints one JSON line: ns per operation for every
// operation, and the session's result. A replay child must get the same settings as the record
// child whose log it replays, and it does: both come from the same environment.
//
// Environment: MICRO_PART (uncontended | contended | benchmarkjs), MICRO_VARIANT (hand | off |
// record | replay), MICRO_LOG (record, replay), MICRO_N (iterations of a scale-1 operation; per
// thread when contended), MICRO_MAX_TIME_S (benchmark.js), MICRO_BURSTS (uncontended: the fastest of
// this many bursts; see timeBursts).

import Benchmark from 'benchmark';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { start, type RunResult, type Session } from 'lockstep';
import { elapsedNs, stopwatch } from '../stopwatch.js';
import { contended, createObjects, handOf, HAND_SLOTS, uncontended, type Objects } from './ops.js';
import { iterations, type ContendedData, type HandData } from './run_data.js';

type Part = 'uncontended' | 'contended' | 'benchmarkjs';
type Variant = 'hand' | 'off' | 'record' | 'replay';

export interface BenchmarkJsFigure {
  meanNs: number;
  rmePct: number;
  samples: number;
  minNs: number;
  maxNs: number;
}

export interface MicroChildOutput {
  part: Part;
  variant: Variant;
  /** Operation name → ns per operation (per unit, contended). */
  ns: Record<string, number>;
  benchmarkJs?: Record<string, BenchmarkJsFigure>;
  result?: RunResult;
}

const PROGRAM = fileURLToPath(import.meta.url);
const PARTIES = 2;
/** Record and replay run without patched globals: the timings must not become recorded events. */
const LIMITS = { arenaBytes: 16 << 20 };

const part = process.env.MICRO_PART as Part;
const variant = process.env.MICRO_VARIANT as Variant;
const n = Number(process.env.MICRO_N);
const maxTimeS = Number(process.env.MICRO_MAX_TIME_S ?? 0.5);
if (!['uncontended', 'contended', 'benchmarkjs'].includes(part) || !['hand', 'off', 'record', 'replay'].includes(variant) || !(n > 0)) {
  throw new Error(`micro_run: bad MICRO_PART/MICRO_VARIANT/MICRO_N: ${part}/${variant}/${process.env.MICRO_N}`);
}

function open(): Promise<Session> {
  const mode = variant === 'hand' ? 'off' : variant;
  const log = process.env.MICRO_LOG;
  if (mode !== 'off' && !log) throw new Error('micro_run: record and replay need MICRO_LOG');
  return start({ mode, ...(mode === 'off' ? {} : { log }), program: PROGRAM, args: [], patchGlobals: false, limits: LIMITS });
}

const nap = new Int32Array(new SharedArrayBuffer(4));
const WARM_FIRST = 100_000;
const DRAIN_START_MS = 250;
/** Lets the drain catch up between loops, so one loop's backlog does not slow the next one down. */
function pause(): void {
  Atomics.wait(nap, 0, 0, 10);
}

function time(loop: () => void): number {
  const t0 = process.hrtime.bigint();
  loop();
  return Number(process.hrtime.bigint() - t0);
}

/**
 * MICRO_BURSTS=b (uncontended, b > 1): the k iterations run as b bursts, and the figure is the
 * fastest burst's ns per iteration (times k, as time() returns the whole loop's ns). On a loaded
 * machine a whole loop is preempted many times over; the fastest of many short bursts ran whole.
 */
const bursts = Number(process.env.MICRO_BURSTS ?? 1);

function timeBursts(loop: (k: number) => void, k: number): number {
  if (!(bursts > 1) || k < bursts) return time(() => loop(k));
  const each = Math.floor(k / bursts);
  let best = Infinity;
  for (let b = 0; b < bursts; b++) {
    const n = b === bursts - 1 ? k - each * (bursts - 1) : each;
    best = Math.min(best, time(() => loop(n)) / n);
  }
  return best * k;
}

async function runUncontended(): Promise<MicroChildOutput> {
  const ns: Record<string, number> = {};
  if (variant === 'hand') {
    const h = handOf(new SharedArrayBuffer(HAND_SLOTS * 4));
    for (const op of uncontended) {
      if (!op.hand) continue;
      const k = iterations(n, op.scale);
      op.hand.loop(h, Math.max(1, k >> 3));
      ns[op.name] = timeBursts((m) => op.hand!.loop(h, m), k) / k;
    }
    return { part, variant, ns };
  }
  const s = await open();
  const o = createObjects(s, 'u', 1);
  // A first warm-up, then a pause: recording needs the drain worker running, or the first timed
  // loop would wait for it to start (a one-off cost a long-running program does not see).
  uncontended[0]!.loop(o, WARM_FIRST);
  Atomics.wait(nap, 0, 0, DRAIN_START_MS);
  for (const op of uncontended) {
    const k = iterations(n, op.scale);
    // The warm-up is recorded and replayed like the rest; it also covers the drain worker's start.
    op.loop(o, Math.max(1, k >> 3));
    pause();
    ns[op.name] = timeBursts((m) => op.loop(o, m), k) / k;
    pause();
  }
  return { part, variant, ns, result: await s.finish() };
}

function exited(w: Worker): Promise<void> {
  return new Promise((done, fail) => {
    w.on('error', fail);
    w.on('exit', (code) => (code === 0 ? done() : fail(new Error(`hand worker exited with code ${code}`))));
  });
}

async function runContended(): Promise<MicroChildOutput> {
  const watch = stopwatch(contended.length, PARTIES);
  let result: RunResult | undefined;
  if (variant === 'hand') {
    const buffer = new SharedArrayBuffer(HAND_SLOTS * 4);
    const workers = Array.from({ length: PARTIES }, (_, index) => {
      const workerData: HandData = { watch, n, buffer, index };
      return new Worker(new URL('./hand_worker.js', import.meta.url), { workerData });
    });
    await Promise.all(workers.map(exited));
  } else {
    const s = await open();
    createObjects(s, 'c', PARTIES);
    Atomics.wait(nap, 0, 0, DRAIN_START_MS); // the drain worker starts meanwhile, as above
    const data: ContendedData = { watch, n };
    const spawned = s.spawn(new URL('./contended_worker.js', import.meta.url), { count: PARTIES, data });
    for (const e of await spawned.exited) if (!e.ok) throw e.error ?? new Error(`thread ${e.thread} failed`);
    result = await s.finish();
  }
  const ns: Record<string, number> = {};
  contended.forEach((op, i) => {
    if (variant === 'hand' && !op.hand) return;
    ns[op.name] = elapsedNs(watch, i) / op.units(iterations(n, op.scale), PARTIES);
  });
  return { part, variant, ns, ...(result ? { result } : {}) };
}

function benchmarkJs(fn: () => void): BenchmarkJsFigure {
  const b = new Benchmark('op', fn, { maxTime: maxTimeS });
  b.run();
  if (b.error) throw b.error;
  const samples = b.stats.sample.map((x) => x * 1e9);
  return { meanNs: b.stats.mean * 1e9, rmePct: b.stats.rme, samples: samples.length, minNs: Math.min(...samples), maxNs: Math.max(...samples) };
}

async function runBenchmarkJs(): Promise<MicroChildOutput> {
  const figures: Record<string, BenchmarkJsFigure> = {};
  if (variant === 'hand') {
    const h = handOf(new SharedArrayBuffer(HAND_SLOTS * 4));
    for (const op of uncontended) if (op.hand) figures[op.name] = benchmarkJs(() => op.hand!.once(h));
  } else if (variant === 'off') {
    const s = await open();
    const o: Objects = createObjects(s, 'u', 1);
    for (const op of uncontended) figures[op.name] = benchmarkJs(() => op.once(o));
    await s.finish();
  } else {
    throw new Error('benchmark.js runs only hand and off: a replay must replay a fixed count');
  }
  const ns = Object.fromEntries(Object.entries(figures).map(([k, f]) => [k, f.meanNs]));
  return { part, variant, ns, benchmarkJs: figures };
}

const out = part === 'uncontended' ? await runUncontended() : part === 'contended' ? await runContended() : await runBenchmarkJs();
process.stdout.write(JSON.stringify(out) + '\n');
