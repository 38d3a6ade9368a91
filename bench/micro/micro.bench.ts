// Micro benchmark: the hot operation of every sync object, uncontended (the main thread alone)
// and contended (two workers on one object), in modes off, record and replay, beside hand-written
// equivalents (Drepper's mutex, bare Atomics). Each variant of each round runs in its own child
// process (micro_run.ts), so modes never share JIT feedback or a heap.
//
// How figures are taken:
// - Fixed-count loops (all variants): ROUNDS rounds after one warm-up round, interleaved hand,
//   off, record, replay; each round's replay replays that round's recording. ns/op is the median
//   over the rounds, with min–max and the 95% margin of error of the mean (±%). Record and replay
//   need fixed counts: a replay must run exactly the operations its recording logged.
// - benchmark.js (uncontended, hand-written and off only): BJS_RUNS alternated runs; the figure is
//   the run with the median mean (its mean, its ±%).
// - Contended: each thread times its own loop after a start line both reach; a run lasts from the
//   first thread's start to the last one's end, divided by the operation's units.

import { mkdtempSync, rmSync } from 'node:fs';

import { join } from 'node:path';
import { check, lastJson, runChild } from '../child.js';
import { QUICK, knob } from '../knobs.js';
import { load1 } from '../machine.js';
import { median, summarise, type Summary } from '../stats.js';
import type { MicroChildOutput, BenchmarkJsFigure } from './micro_run.js';
import { contended, uncontended } from './ops.js';

export type MicroVariant = 'hand' | 'off' | 'record' | 'replay';
const VARIANTS: MicroVariant[] = ['hand', 'off', 'record', 'replay'];

export interface MicroRow {
  part: 'uncontended' | 'contended';
  op: string;
  object: string;
  unit: string;
  variant: MicroVariant;
  method: 'fixed count' | 'benchmark.js';
  summary: Summary;
}

export interface MicroRatio {
  part: 'uncontended' | 'contended';
  op: string;
  offOverHand: number | null;
  recordOverOff: number;
  replayOverRecord: number;
}

export interface MicroResult {
  settings: Record<string, unknown>;
  rows: MicroRow[];
  ratios: MicroRatio[];
  /** Events and log bytes of each record child, and the load average at each round. */
  records: { part: string; events: number; logBytes: number }[];
  loadByRound: number[];
  /** Distinct digests of the contended off runs: the interleaving recorded is nondeterministic. */
  offDistinctDigests: number;
  wallS: number;
}

export async function runMicro(distBench: string, scratch: string, say: (s: string) => void): Promise<MicroResult> {
  const started = Date.now();
  const rounds = knob('BENCH_MICRO_ROUNDS', 5, 2);
  const nUnc = knob('BENCH_MICRO_OPS', 500_000, 100_000);
  const nCont = knob('BENCH_MICRO_CONTENDED_OPS', 100_000, 20_000);
  const bjsRuns = knob('BENCH_MICRO_BJS_RUNS', 3, 1);
  const maxTimeS = knob('BENCH_MAX_TIME_S', 0.5, 0.1, false);
  const script = join(distBench, 'micro', 'micro_run.js');
  const tmp = mkdtempSync(join(scratch, 'micro-'));

  async function child(part: string, variant: MicroVariant, n: number, log: string): Promise<MicroChildOutput> {
    const run = await runChild(script, [], {
      scratch: tmp,
      env: { MICRO_PART: part, MICRO_VARIANT: variant, MICRO_N: String(n), MICRO_LOG: log, MICRO_MAX_TIME_S: String(maxTimeS) },
    });
    check(run, `micro ${part} ${variant}`);
    const out = lastJson<MicroChildOutput>(run.stdout);
    if (!out) throw new Error(`micro ${part} ${variant} printed no result`);
    return out;
  }

  const samples = new Map<string, number[]>();
  const key = (part: string, op: string, v: MicroVariant): string => `${part}\u0000${op}\u0000${v}`;
  const records: MicroResult['records'] = [];
  const loadByRound: number[] = [];
  const offDigests = new Set<string>();

  // benchmark.js, uncontended, hand-written and off alternated.
  const bjs: Record<'hand' | 'off', MicroChildOutput[]> = { hand: [], off: [] };
  for (let r = 0; r < bjsRuns; r++) {
    for (const v of ['hand', 'off'] as const) bjs[v].push(await child('benchmarkjs', v, 1, ''));
    say(`  benchmark.js run ${r + 1}/${bjsRuns}: mutex hand ${bjs.hand[r]!.ns['mutex lock+unlock']!.toFixed(1)}, off ${bjs.off[r]!.ns['mutex lock+unlock']!.toFixed(1)} ns/op`);
  }

  for (let round = -1; round < rounds; round++) {
    loadByRound.push(load1());
    for (const [part, n] of [['uncontended', nUnc], ['contended', nCont]] as const) {
      const log = join(tmp, `${part}-${round + 1}.lsl`);
      const line: string[] = [];
      for (const v of VARIANTS) {
        const out = await child(part, v, n, log);
        if (round < 0) continue; // the warm-up round's figures are dropped
        for (const [op, ns] of Object.entries(out.ns)) {
          const k = key(part, op, v);
          if (!samples.has(k)) samples.set(k, []);
          samples.get(k)!.push(ns);
        }
        if (v === 'record' && out.result) records.push({ part, events: out.result.events, logBytes: out.result.logBytes ?? 0 });
        if (v === 'off' && part === 'contended' && out.result) offDigests.add(out.result.digest);
        const first = Object.values(out.ns)[0]!;
        line.push(`${v} ${first.toFixed(0)}`);
      }
      rmSync(log, { force: true });
      say(`  ${part}, ${round < 0 ? 'warm-up round' : `round ${round + 1}/${rounds} (load ${load1().toFixed(2)}): mutex ${line.join(', ')} ns`}`);
    }
  }
  rmSync(tmp, { recursive: true, force: true });

  const rows: MicroRow[] = [];
  const ratios: MicroRatio[] = [];
  const med = (part: string, op: string, v: MicroVariant): number | null => {
    const xs = samples.get(key(part, op, v));
    return xs ? median(xs) : null;
  };
  for (const op of uncontended) {
    for (const v of ['hand', 'off'] as const) {
      const runs = bjs[v].map((o) => o.benchmarkJs?.[op.name]).filter((f): f is BenchmarkJsFigure => f !== undefined);
      if (runs.length === 0) continue;
      const f = [...runs].sort((a, b) => a.meanNs - b.meanNs)[runs.length >> 1]!;
      rows.push({ part: 'uncontended', op: op.name, object: op.object, unit: 'op', variant: v, method: 'benchmark.js',
        summary: { nsPerOp: f.meanNs, minNs: f.minNs, maxNs: f.maxNs, rmePct: f.rmePct, opsPerSec: 1e9 / f.meanNs, samplesNs: runs.map((x) => x.meanNs) } });
    }
  }
  const parts = [
    ['uncontended', uncontended.map((o) => ({ name: o.name, object: o.object, unit: 'op' }))],
    ['contended', contended.map((o) => ({ name: o.name, object: o.object, unit: o.unit }))],
  ] as const;
  for (const [part, ops] of parts) {
    for (const op of ops) {
      for (const v of VARIANTS) {
        const xs = samples.get(key(part, op.name, v));
        if (xs) rows.push({ part, op: op.name, object: op.object, unit: op.unit, variant: v, method: 'fixed count', summary: summarise(xs) });
      }
      const hand = med(part, op.name, 'hand');
      const off = med(part, op.name, 'off')!;
      const record = med(part, op.name, 'record')!;
      const replay = med(part, op.name, 'replay')!;
      ratios.push({ part, op: op.name, offOverHand: hand === null ? null : off / hand, recordOverOff: record / off, replayOverRecord: replay / record });
    }
  }
  return {
    settings: { quick: QUICK, rounds, uncontendedOps: nUnc, contendedOpsPerThread: nCont, benchmarkJsRuns: bjsRuns, benchmarkJsMaxTimeS: maxTimeS,
      scales: Object.fromEntries([...uncontended, ...contended].map((o) => [o.name, o.scale])), arenaBytes: 16 << 20, patchGlobals: false },
    rows, ratios, records, loadByRound, offDistinctDigests: offDigests.size, wallS: (Date.now() - started) / 1000,
  };
}

