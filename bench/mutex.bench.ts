// Mutex overhead: lockstep's Mutex in modes off, record and replay beside a hand-written Drepper
// mutex, uncontended on the main thread and contended between two worker threads, all in one
// process run. Prints a table and the ratios the targets are set on, and writes
// bench/results/mutex.json and bench/results/mutex.md.
//
//   npm run bench:mutex  (builds, then runs dist/bench/mutex.bench.js; npm run bench runs run.ts)
//
// Knobs (environment): BENCH_UNCONTENDED_OPS (per sample, default 1e6), BENCH_CONTENDED_OPS (per
// thread, default 200000), BENCH_ROUNDS (default 7), BENCH_MAX_TIME_S (benchmark.js, default 1).
//
// How each figure is taken:
// - Uncontended, hand-written and off: benchmark.js, 3 alternated runs each; the table shows the
//   run with the median mean (its mean, its ±%, its samples for min–max).
// - Uncontended, all four: fixed-count timed loops of BENCH_UNCONTENDED_OPS lock/unlock pairs,
//   ROUNDS rounds interleaved (hand, off, record, replay, big-ring record, hand, …); median,
//   min–max. Record and replay need fixed counts: a replay must run exactly the operations its
//   recording logged, and benchmark.js runs a count of its own choosing. Each round's replay
//   replays that round's recording. The ratios use these loops, so all four are measured alike.
// - Contended: two workers take one mutex BENCH_CONTENDED_OPS times each; each worker times its
//   loop with process.hrtime after a start line both reach, and a run lasts from the first start
//   to the last end. ROUNDS rounds interleaved as above; median, min–max.
// - A fifth, diagnostic variant records with 16 MiB rings that never fill, to separate the cost of
//   waiting for the drain from the rest of record's cost. No target applies to it.
// Record and replay sessions run with patchGlobals: false (the timings must not become recorded
// events) and a 16 MiB arena; every other limit is the default, ring and drain included.

import Benchmark from 'benchmark';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { start, type Mutex, type RunResult, type Session, type StartOptions } from 'lockstep';
import { DrepperMutex } from './drepper_mutex.js';
import { CTL_BYTES, HAND_DATA_SLOT, elapsedNs, type HandData, type PingPongData } from './pingpong_loop.js';
import { median, summarise, type Summary } from './stats.js';
import { writeReport, type Ratio, type Report, type Row } from './report.js';

type Variant = 'hand' | 'off' | 'record' | 'replay' | 'recordBigRing';
const VARIANTS: Variant[] = ['hand', 'off', 'record', 'replay', 'recordBigRing'];
const VARIANT_LABEL: Record<Variant, string> = {
  hand: 'hand-written Drepper',
  off: 'lockstep off',
  record: 'lockstep record',
  replay: 'lockstep replay',
  recordBigRing: 'lockstep record, 16 MiB rings (diagnostic)',
};

const UNCONTENDED_OPS = knob('BENCH_UNCONTENDED_OPS', 1_000_000, true);
const CONTENDED_OPS = knob('BENCH_CONTENDED_OPS', 200_000, true);
const ROUNDS = knob('BENCH_ROUNDS', 7, true);
const MAX_TIME_S = knob('BENCH_MAX_TIME_S', 1, false);
/** benchmark.js runs per variant; the table shows the one with the median mean. */
const BENCHMARK_JS_RUNS = 3;
const PARTIES = 2;
/** Lock/unlock pairs each uncontended sample runs untimed before its timed loop. */
const UNCONTENDED_WARM_OPS = 100_000;

/** Record and replay must name the same program; this file is it. */
const PROGRAM = fileURLToPath(import.meta.url);
const RESULTS = resolve(dirname(PROGRAM), '../../bench/results');
const LIMITS = { arenaBytes: 16 << 20 };
/** The diagnostic variant's rings: 2 Mi events per thread, more than any run here logs. */
const BIG_RING_LIMITS = { arenaBytes: 64 << 20, ringBytes: 16 << 20 };
const tmp = mkdtempSync(join(os.tmpdir(), 'lockstep-bench-'));

function knob(name: string, fallback: number, integer: boolean): number {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!(n > 0) || (integer && !Number.isInteger(n))) {
    throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  }
  return n;
}

function open(variant: Exclude<Variant, 'hand'>, log: string): Promise<Session> {
  const big = variant === 'recordBigRing';
  const options: StartOptions = {
    mode: big ? 'record' : variant,
    program: PROGRAM,
    args: [],
    patchGlobals: false,
    limits: big ? BIG_RING_LIMITS : LIMITS,
  };
  if (variant !== 'off') options.log = big ? `${log}.big` : log;
  return start(options);
}

// ---- uncontended, main thread ----

// One timed loop per mutex class, so each call site sees one class only.
function loopHand(m: DrepperMutex, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    m.lock();
    m.unlock();
  }
  return Number(process.hrtime.bigint() - t0);
}

function loopLockstep(m: Mutex, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    m.lock();
    m.unlock();
  }
  return Number(process.hrtime.bigint() - t0);
}

interface RunOutcome {
  ns: number;
  result?: RunResult;
}

const handWord = new Int32Array(new SharedArrayBuffer(4 * DrepperMutex.SLOTS));
const handMutex = new DrepperMutex(handWord, 0);

async function uncontended(variant: Variant, log: string): Promise<RunOutcome> {
  if (variant === 'hand') {
    loopHand(handMutex, UNCONTENDED_WARM_OPS);
    return { ns: loopHand(handMutex, UNCONTENDED_OPS) };
  }
  const s = await open(variant, log);
  const m = s.mutex('uncontended');
  // Untimed, but recorded and replayed like the rest: it covers the drain worker's start (until
  // it runs, a full ring stalls the recording thread) and gives replay the same warm-up.
  loopLockstep(m, UNCONTENDED_WARM_OPS);
  const ns = loopLockstep(m, UNCONTENDED_OPS);
  return { ns, result: await s.finish() };
}

function benchmarkJs(name: string, fn: () => void): Summary {
  const b = new Benchmark(name, fn, { maxTime: MAX_TIME_S });
  b.run();
  if (b.error) throw b.error;
  const samplesNs = b.stats.sample.map((s) => s * 1e9);
  const nsPerOp = b.stats.mean * 1e9;
  return {
    nsPerOp,
    minNs: Math.min(...samplesNs),
    maxNs: Math.max(...samplesNs),
    rmePct: b.stats.rme,
    opsPerSec: b.hz,
    samplesNs,
  };
}

function benchmarkJsHand(): Summary {
  return benchmarkJs('hand-written Drepper', () => {
    handMutex.lock();
    handMutex.unlock();
  });
}

async function benchmarkJsOff(): Promise<Summary> {
  const s = await open('off', '');
  const m = s.mutex('uncontended');
  const summary = benchmarkJs('lockstep off', () => {
    m.lock();
    m.unlock();
  });
  await s.finish();
  return summary;
}

/** Of several benchmark.js runs, the one with the median mean (load from elsewhere comes and goes). */
function medianRun(runs: Summary[]): Summary {
  return [...runs].sort((x, y) => x.nsPerOp - y.nsPerOp)[runs.length >> 1]!;
}

// ---- contended ping-pong, two workers ----

function exited(w: Worker): Promise<void> {
  return new Promise((done, fail) => {
    w.on('error', fail);
    w.on('exit', (code) => (code === 0 ? done() : fail(new Error(`ping-pong worker exited with code ${code}`))));
  });
}

async function contended(variant: Variant, csWords: number, log: string): Promise<RunOutcome> {
  const ctl = new SharedArrayBuffer(CTL_BYTES(PARTIES));
  const d: PingPongData = { ops: CONTENDED_OPS, csWords, parties: PARTIES, ctl };
  if (variant === 'hand') {
    const shared = new SharedArrayBuffer((HAND_DATA_SLOT + csWords) * 4);
    const workers: Worker[] = [];
    for (let index = 0; index < PARTIES; index++) {
      const workerData: HandData = { ...d, shared, index };
      workers.push(new Worker(new URL('./pingpong_hand.js', import.meta.url), { workerData }));
    }
    await Promise.all(workers.map(exited));
    return { ns: elapsedNs(ctl, PARTIES) };
  }
  const s = await open(variant, log);
  s.shared('pingpong.data', Int32Array, csWords);
  s.mutex('pingpong.lock');
  const spawned = s.spawn(new URL('./pingpong_lockstep.js', import.meta.url), { count: PARTIES, data: d });
  for (const e of await spawned.exited) if (!e.ok) throw e.error ?? new Error(`thread ${e.thread} failed`);
  const result = await s.finish();
  return { ns: elapsedNs(ctl, PARTIES), result };
}

// ---- rounds ----

interface Scenario {
  name: string;
  /** Acquisitions in the timed part of one run. */
  acquisitions: number;
  /** Acquisitions one run logs (timed and untimed). */
  logged: number;
  run: (variant: Variant, log: string) => Promise<RunOutcome>;
}

interface Collected {
  nsPerOp: Record<Variant, number[]>;
  logBytesPerAcq: number[];
  eventsPerAcq: number[];
  offDigests: string[];
}

/** A warm-up round, then ROUNDS rounds of hand, off, record, replay (replaying that round's log). */
async function rounds(sc: Scenario): Promise<Collected> {
  const c: Collected = { nsPerOp: { hand: [], off: [], record: [], replay: [], recordBigRing: [] }, logBytesPerAcq: [], eventsPerAcq: [], offDigests: [] };
  for (let round = -1; round < ROUNDS; round++) {
    const log = join(tmp, `${sc.name.replace(/\W+/g, '-')}-${round + 1}.lsl`);
    const line: string[] = [];
    for (const variant of VARIANTS) {
      const out = await sc.run(variant, log);
      const ns = out.ns / sc.acquisitions;
      line.push(`${variant} ${ns.toFixed(1)}`);
      if (round < 0) continue;
      c.nsPerOp[variant].push(ns);
      if (variant === 'off' && out.result) c.offDigests.push(out.result.digest);
      if (variant === 'record' && out.result) {
        c.logBytesPerAcq.push(out.result.logBytes! / sc.logged);
        c.eventsPerAcq.push(out.result.events / sc.logged);
      }
    }
    rmSync(log, { force: true });
    rmSync(`${log}.big`, { force: true });
    console.log(`  ${sc.name}, ${round < 0 ? 'warm-up' : `round ${round + 1}/${ROUNDS}`}: ${line.join(', ')} ns/op`);
  }
  return c;
}

function rows(scenario: string, c: Collected): Row[] {
  return VARIANTS.map((v) => ({ scenario, variant: VARIANT_LABEL[v], method: 'fixed count', ...summarise(c.nsPerOp[v]) }));
}

function ratio(name: string, num: number, den: number, target: number | null, note: string): Ratio {
  const value = num / den;
  return { name, value, target, met: target === null ? null : value <= target, note };
}

function bytesRatio(name: string, c: Collected, note: string): Ratio {
  const value = median(c.logBytesPerAcq);
  return { name, value, target: 8, met: value <= 8, note };
}

/** The commit the run measured, with "+dirty" when the working tree differs from it. */
function revision(): string {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: dirname(PROGRAM), encoding: 'utf8' }).trim();
  try {
    return git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? '+dirty' : '');
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    revision: revision(),
    /** The 1-minute load average before and after the run: other work on the machine shows here. */
    loadAverage: { before: os.loadavg()[0]!, after: 0 },
  };
  console.log(`lockstep mutex benchmark on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);
  const table: Row[] = [];

  // benchmark.js first, before any record or replay session has run lock()'s other branches.
  // Alternated, BENCHMARK_JS_RUNS times each, so both see the same share of any outside load.
  console.log(`uncontended, benchmark.js (${BENCHMARK_JS_RUNS} alternated runs each):`);
  const handRuns: Summary[] = [];
  const offRuns: Summary[] = [];
  for (let run = 0; run < BENCHMARK_JS_RUNS; run++) {
    handRuns.push(benchmarkJsHand());
    offRuns.push(await benchmarkJsOff());
    console.log(`  run ${run + 1}: hand ${handRuns[run]!.nsPerOp.toFixed(2)} ±${handRuns[run]!.rmePct.toFixed(1)}%, ` +
      `off ${offRuns[run]!.nsPerOp.toFixed(2)} ±${offRuns[run]!.rmePct.toFixed(1)}% ns/op`);
  }
  const bjsHand = medianRun(handRuns);
  const bjsOff = medianRun(offRuns);
  table.push({ scenario: 'uncontended', variant: 'hand-written Drepper', method: 'benchmark.js', ...bjsHand });
  table.push({ scenario: 'uncontended', variant: 'lockstep off', method: 'benchmark.js', ...bjsOff });

  console.log(`uncontended, fixed count (${UNCONTENDED_OPS} lock/unlock per sample):`);
  const unc = await rounds({
    name: 'uncontended',
    acquisitions: UNCONTENDED_OPS,
    logged: UNCONTENDED_WARM_OPS + UNCONTENDED_OPS,
    run: uncontended,
  });
  table.push(...rows('uncontended', unc));

  console.log(`contended ping-pong, ${PARTIES} workers × ${CONTENDED_OPS} acquisitions:`);
  const acquisitions = PARTIES * CONTENDED_OPS;
  const pp = await rounds({ name: 'ping-pong', acquisitions, logged: acquisitions, run: (v, log) => contended(v, 1, log) });
  table.push(...rows('ping-pong', pp));
  const ppShort = await rounds({ name: 'ping-pong, short critical section', acquisitions, logged: acquisitions, run: (v, log) => contended(v, 32, log) });
  table.push(...rows('ping-pong, short critical section (32 words)', ppShort));

  // One benchmark.js pass of mode off after record and replay ran in this process: shows whether
  // lock() got slower once its record and replay branches were taken (they share one function).
  const afterRuns: Summary[] = [];
  for (let run = 0; run < BENCHMARK_JS_RUNS; run++) afterRuns.push(await benchmarkJsOff());
  const bjsOffAfter = medianRun(afterRuns);
  table.push({ scenario: 'uncontended', variant: 'lockstep off (after record/replay ran)', method: 'benchmark.js', ...bjsOffAfter });

  const med = (c: Collected, v: Variant): number => median(c.nsPerOp[v]);
  const ratios: Ratio[] = [
    ratio('off / hand-written, uncontended (benchmark.js)', bjsOff.nsPerOp, bjsHand.nsPerOp, 1.1, 'means'),
    ratio('off / hand-written, uncontended (fixed count)', med(unc, 'off'), med(unc, 'hand'), 1.1, 'medians'),
    ratio('off / hand-written, ping-pong', med(pp, 'off'), med(pp, 'hand'), 1.1, 'medians'),
    ratio('off / hand-written, ping-pong short CS', med(ppShort, 'off'), med(ppShort, 'hand'), 1.1, 'medians'),
    ratio('record / off, ping-pong', med(pp, 'record'), med(pp, 'off'), 1.3, 'medians'),
    ratio('record / off, ping-pong short CS', med(ppShort, 'record'), med(ppShort, 'off'), 1.3, 'medians'),
    ratio('record / off, uncontended', med(unc, 'record'), med(unc, 'off'), null, 'medians; no target'),
    ratio('record with 16 MiB rings / off, ping-pong', med(pp, 'recordBigRing'), med(pp, 'off'), null, 'medians; diagnostic'),
    ratio('record with 16 MiB rings / off, uncontended', med(unc, 'recordBigRing'), med(unc, 'off'), null, 'medians; diagnostic'),
    ratio('off after record/replay ran / off before, uncontended (benchmark.js)', bjsOffAfter.nsPerOp, bjsOff.nsPerOp, null,
      'means; no target: lock() once its record and replay branches have run'),
    ratio('replay / record, uncontended', med(unc, 'replay'), med(unc, 'record'), 2, 'medians'),
    ratio('replay / record, ping-pong', med(pp, 'replay'), med(pp, 'record'), 2, 'medians'),
    ratio('replay / record, ping-pong short CS', med(ppShort, 'replay'), med(ppShort, 'record'), 2, 'medians'),
    bytesRatio('log bytes / acquisition, uncontended', unc, 'logBytes / acquisitions, median of rounds'),
    bytesRatio('log bytes / acquisition, ping-pong', pp, 'logBytes / acquisitions, median of rounds'),
    bytesRatio('log bytes / acquisition, ping-pong short CS', ppShort, 'logBytes / acquisitions, median of rounds'),
  ];
  const distinct = (c: Collected): number => new Set(c.offDigests).size;
  const notes = [
    `Uncontended benchmark.js rows: of ${BENCHMARK_JS_RUNS} runs (hand-written and off alternated), the one with the median ` +
      `mean; ns/op is its mean, ±% its relative margin of error, min–max over its samples.`,
    `Fixed-count rows: the median of ${ROUNDS} rounds (after one warm-up round), rounds interleaved hand, off, record, replay, record with 16 MiB rings; ` +
      `±% is the 95% margin of error of the mean over the rounds. Uncontended: ${UNCONTENDED_OPS} timed lock/unlock pairs ` +
      `after ${UNCONTENDED_WARM_OPS} untimed ones in the same session (recorded and replayed too).`,
    `Contended: ${PARTIES} workers × ${CONTENDED_OPS} acquisitions of one mutex; ns/op is the time from the first worker's ` +
      `start to the last worker's end (process.hrtime) divided by all ${acquisitions} acquisitions. The critical section folds ` +
      `the thread id into 1 shared word (ping-pong) or 32 (short CS).`,
    `Each replay replays the recording of its own round and ended with the recorded digest (finish() throws otherwise). ` +
      `Mode off ended with ${distinct(pp)} distinct digests in ${ROUNDS} ping-pong runs and ${distinct(ppShort)} in ${ROUNDS} ` +
      `short-CS runs: the interleaving being recorded is really nondeterministic.`,
    `"16 MiB rings" is a diagnostic record run (limits.ringBytes 16 MiB instead of the default 256 KiB) whose rings hold ` +
      `the whole run, so no thread ever waits for the drain; the drain still runs beside the program, but may finish ` +
      `its work after the timed part, in finish().`,
    `The hand-written mutex is Drepper's mutex3 and never spins; lockstep's futex lock spins 64 times before it parks.`,
  ];

  const report: Report = {
    machine,
    settings: { uncontendedOps: UNCONTENDED_OPS, contendedOpsPerThread: CONTENDED_OPS, threads: PARTIES, rounds: ROUNDS, benchmarkJsMaxTimeS: MAX_TIME_S, limits: LIMITS, patchGlobals: false },
    rows: table,
    ratios,
    notes,
    eventsPerAcquisition: { uncontended: median(unc.eventsPerAcq), pingPong: median(pp.eventsPerAcq) },
    logBytesPerAcquisition: { uncontended: unc.logBytesPerAcq, pingPong: pp.logBytesPerAcq, pingPongShort: ppShort.logBytesPerAcq },
    offDistinctDigests: { pingPong: new Set(pp.offDigests).size, pingPongShort: new Set(ppShort.offDigests).size, of: ROUNDS },
  };
  machine.loadAverage.after = os.loadavg()[0]!;
  const md = writeReport(RESULTS, report);
  console.log('\n' + md);
}

try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
