// Scaling benchmark: how record overhead and log size grow with the number of threads and with
// the event rate, on a synthetic lock workload (spin.ts) whose critical-section length is swept
// from empty to long. Each configuration runs in modes off, record and replay; each mode of each
// round is one child process (scaling_run.ts) running every configuration in its own session, and
// each round's replay replays that round's recordings. Figures are medians over the rounds.
//
// Configurations: threads 1, 2, 4, 8 at critical sections of 100 and 10 000 spins; critical
// sections of 0, 100, 300, 1k, 3k, 10k, 30k, 100k spins at 2 threads (both cores busy) and of 0,
// 100, 1k, 10k, 100k at 1 thread (a core left for the drain). Operation counts are set
// once, from a calibration of the spin loop, so that every configuration runs for about
// BENCH_SCALING_MS in mode off; all threads together do the same number of acquisitions at every
// thread count.

import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { check, lastJson, runChild } from '../child.js';
import { QUICK, knob, knobInts } from '../knobs.js';
import { load1 } from '../machine.js';
import { median, summarise, type Summary } from '../stats.js';
import type { ScalingChildOutput } from './scaling_run.js';
import { spinLoop, type SpinConfig } from './spin.js';

type Mode = 'off' | 'record' | 'replay';
const MODES: Mode[] = ['off', 'record', 'replay'];
const LOCKS = 16;
/** Below this overhead recording counts as free (the break-even). */
export const BREAK_EVEN_PCT = 5;

export interface ScalingPoint {
  sweep: 'threads' | 'critical section';
  config: SpinConfig;
  acquisitions: number;
  ns: Record<Mode, Summary>;
  /** record / off − 1 and replay / off − 1, in %, of the medians. */
  recordOverheadPct: number;
  replayOverheadPct: number;
  replayOverRecord: number;
  /** Acquisitions per second, all threads, in mode off. */
  eventsPerSec: number;
  /** Extra record time per acquisition of one thread: (record − off) × threads / acquisitions. */
  recordNsPerEvent: number;
  logBytes: number;
  logBytesPerAcquisition: number;
  /** The log of the same threads doing nothing: header, spawn and exit events, trailer. */
  fixedLogBytes: number;
  /** (logBytes − fixedLogBytes) / acquisitions: what each acquisition adds, frames included. */
  marginalLogBytesPerAcquisition: number;
}

export interface ScalingResult {
  settings: Record<string, unknown>;
  points: ScalingPoint[];
  /** Per thread count of the critical-section sweep; spin null when no length got under the threshold. */
  breakEven: { threads: number; spin: number | null; recordOverheadPct: number | null; eventsPerSec: number | null; eventsPerSecPerThread: number | null }[];
  loadByRound: number[];
  wallS: number;
}

/** ns per spin iteration and per empty acquisition on this machine, from a quick timed loop. */
function calibrate(): { perSpinNs: number; perOpNs: number } {
  const data = new Int32Array(LOCKS * 16);
  const free = { lock() {}, unlock() {} };
  const m = Array.from({ length: LOCKS }, () => free);
  const time = (ops: number, spin: number): number => {
    const t0 = process.hrtime.bigint();
    spinLoop(m, data, 1, ops, spin);
    return Number(process.hrtime.bigint() - t0);
  };
  time(20_000, 1000);
  const perSpinNs = time(2_000, 10_000) / (2_000 * 10_000);
  // An uncontended lockstep mutex in mode off costs about this much more than the free lock.
  const perOpNs = 150;
  return { perSpinNs, perOpNs };
}

export async function runScaling(root: string, scratch: string, say: (s: string) => void): Promise<ScalingResult> {
  const started = Date.now();
  const rounds = knob('BENCH_SCALING_ROUNDS', 5, 2);
  const targetMs = knob('BENCH_SCALING_MS', 250, 100);
  const threadsSweep = knobInts('BENCH_SCALING_THREADS', [1, 2, 4, 8], [1, 2, 4]);
  const threadsSpins = knobInts('BENCH_SCALING_THREAD_SPINS', [100, 10_000], [100]);
  const csSweep = knobInts('BENCH_SCALING_SPINS', [0, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000], [0, 100, 1_000, 10_000, 100_000]);
  const csSweepOne = knobInts('BENCH_SCALING_SPINS_1', [0, 100, 1_000, 10_000, 100_000], [0, 1_000, 100_000]);
  const opsMax = knob('BENCH_SCALING_OPS_MAX', 600_000, 200_000);
  const cal = calibrate();
  const acquisitionsFor = (spin: number, parallel: number): number => {
    const perOpNs = cal.perOpNs + spin * cal.perSpinNs;
    return Math.max(400, Math.min(opsMax, Math.round((targetMs * 1e6 * parallel) / perOpNs)));
  };
  const points: { sweep: ScalingPoint['sweep']; config: SpinConfig }[] = [];
  // The thread sweep keeps the total fixed (two threads on two cores finish it in about half the
  // time of one); the one-thread sweep does half as much, so that it too takes about targetMs.
  const configFor = (threads: number, spin: number, parallel = 2): SpinConfig => ({
    threads, spin, locks: LOCKS, opsPerThread: Math.max(1, Math.round(acquisitionsFor(spin, parallel) / threads)),
  });
  for (const spin of threadsSpins) for (const threads of threadsSweep) points.push({ sweep: 'threads', config: configFor(threads, spin) });
  for (const spin of csSweep) points.push({ sweep: 'critical section', config: configFor(2, spin) });
  // The same sweep at one thread: the drain then has a core of its own on a 2-core machine.
  for (const spin of csSweepOne) points.push({ sweep: 'critical section', config: configFor(1, spin, 1) });
  // One empty configuration per thread count: its log is the fixed part (header, spawn and exit
  // events, trailer with the names) that the marginal bytes per acquisition leave out.
  const threadCounts = [...new Set(points.map((p) => p.config.threads))];
  const empties: SpinConfig[] = threadCounts.map((threads) => ({ threads, spin: 0, locks: LOCKS, opsPerThread: 0 }));
  const configs = [...points.map((p) => p.config), ...empties];

  const script = join(root, 'dist/bench/scaling/scaling_run.js');
  const samples: Record<Mode, number[][]> = { off: configs.map(() => []), record: configs.map(() => []), replay: configs.map(() => []) };
  const logBytes: number[][] = configs.map(() => []);
  const events: number[][] = configs.map(() => []);
  const loadByRound: number[] = [];
  for (let round = 0; round < rounds; round++) {
    loadByRound.push(load1());
    const logDir = mkdtempSync(join(scratch, 'scaling-'));
    const line: string[] = [];
    for (const mode of MODES) {
      const run = await runChild(script, [], {
        scratch: logDir,
        env: { SCALING_MODE: mode, SCALING_CONFIGS: JSON.stringify(configs), SCALING_LOGDIR: logDir },
      });
      check(run, `scaling ${mode}`);
      const out = lastJson<ScalingChildOutput>(run.stdout);
      if (!out || out.configs.length !== configs.length) throw new Error(`scaling ${mode} printed no result`);
      out.configs.forEach((c, i) => {
        samples[mode][i]!.push(c.ns);
        if (mode === 'record') {
          logBytes[i]!.push(c.logBytes ?? 0);
          events[i]!.push(c.events);
        }
      });
      line.push(`${mode} ${(run.wallNs / 1e9).toFixed(1)} s`);
    }
    rmSync(logDir, { recursive: true, force: true });
    say(`  scaling round ${round + 1}/${rounds} (load ${load1().toFixed(2)}): ${line.join(', ')}`);
  }

  const fixedBytes = new Map(threadCounts.map((t, k) => [t, median(logBytes[points.length + k]!)]));
  const result: ScalingPoint[] = points.map((p, i) => {
    const acquisitions = p.config.threads * p.config.opsPerThread;
    const ns = {
      off: summarise(samples.off[i]!.map((x) => x / acquisitions)),
      record: summarise(samples.record[i]!.map((x) => x / acquisitions)),
      replay: summarise(samples.replay[i]!.map((x) => x / acquisitions)),
    };
    const bytes = median(logBytes[i]!);
    return {
      sweep: p.sweep, config: p.config, acquisitions, ns,
      recordOverheadPct: (ns.record.nsPerOp / ns.off.nsPerOp - 1) * 100,
      replayOverheadPct: (ns.replay.nsPerOp / ns.off.nsPerOp - 1) * 100,
      replayOverRecord: ns.replay.nsPerOp / ns.record.nsPerOp,
      eventsPerSec: 1e9 / ns.off.nsPerOp,
      recordNsPerEvent: (ns.record.nsPerOp - ns.off.nsPerOp) * p.config.threads,
      logBytes: bytes,
      logBytesPerAcquisition: bytes / acquisitions,
      fixedLogBytes: fixedBytes.get(p.config.threads)!,
      marginalLogBytesPerAcquisition: (bytes - fixedBytes.get(p.config.threads)!) / acquisitions,
    };
  });
  // Per thread count: the shortest critical section from which on every longer one records under
  // the threshold.
  const breakEven: ScalingResult['breakEven'] = [];
  for (const threads of [...new Set(result.filter((p) => p.sweep === 'critical section').map((p) => p.config.threads))].sort()) {
    const cs = result.filter((p) => p.sweep === 'critical section' && p.config.threads === threads).sort((a, b) => a.config.spin - b.config.spin);
    let b: ScalingResult['breakEven'][number] = { threads, spin: null, recordOverheadPct: null, eventsPerSec: null, eventsPerSecPerThread: null };
    for (let i = cs.length - 1; i >= 0 && cs[i]!.recordOverheadPct < BREAK_EVEN_PCT; i--) {
      const p = cs[i]!;
      b = { threads, spin: p.config.spin, recordOverheadPct: p.recordOverheadPct, eventsPerSec: p.eventsPerSec, eventsPerSecPerThread: p.eventsPerSec / threads };
    }
    breakEven.push(b);
  }
  return {
    settings: { quick: QUICK, rounds, targetMs, locks: LOCKS, opsMax, calibration: cal, threadsSweep, threadsSpins, csSweep, csSweepOne, arenaBytes: 16 << 20, patchGlobals: false },
    points: result, breakEven, loadByRound, wallS: (Date.now() - started) / 1000,
  };
}
