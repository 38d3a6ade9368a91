// Macro benchmark: every example program at 1, 2 and 4 threads in modes off, record and replay,
// the same work done sequentially on one thread (the single-threaded baseline that a multi-core
// replay must beat) and, where the example has one, the same program written with plain
// worker_threads + Atomics ("plain", bench/macro/plain: what mode off must cost no more than),
// each run a separate process timed from outside.
//
// Runs are interleaved: for each repetition, for each example, the sequential baseline, then for
// each thread count off, record, replay (replaying that repetition's recording), and the same
// again at the empty size. One warm-up run of each example comes first and is not counted. Every
// figure is the median of the repetitions, with min–max. "Net" figures subtract the empty run of
// the same example, thread count, mode and repetition (macroCells): what the work itself cost,
// without start-up and shut-down.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { check, runChild, type ChildRun } from '../child.js';
import { QUICK, knob, knobInts, knobList } from '../knobs.js';
import { load1 } from '../machine.js';
import { median } from '../stats.js';
import { EXAMPLE_NAMES, examples, type Example, type ExampleName, type Size } from './examples.js';

export type MacroMode = 'seq' | 'plain' | 'off' | 'record' | 'replay';
const MODES: MacroMode[] = ['off', 'record', 'replay'];

export interface MacroRun {
  example: ExampleName;
  threads: number;
  mode: MacroMode;
  size: Size;
  rep: number;
  wallMs: number;
  maxRssMiB: number | null;
  cpuS: number | null;
  events: number | null;
  logBytes: number | null;
  digest: string | null;
  load1: number;
  /** Null when the run agreed with the sequential baseline (full runs only), else what differed. */
  mismatch: string | null;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface MacroCell {
  example: ExampleName;
  threads: number;
  mode: MacroMode;
  wallMs: Spread;
  emptyMs: number;
  netMs: number;
  throughput: number;
  netThroughput: number;
  maxRssMiB: number | null;
  cpuS: number | null;
  events: number | null;
  logBytes: number | null;
  /** Record and replay: wall (and net) relative to off at the same thread count, minus 1, in %. */
  overheadPct: number | null;
  netOverheadPct: number | null;
  /** Replay: replay time / record time (wall and net). */
  replayOverRecord: number | null;
  netReplayOverRecord: number | null;
  /** Off: off time ÷ plain worker_threads time (wall, net) and start-up over plain (empty runs, ms); null without a plain version. */
  offOverPlain?: number | null;
  netOffOverPlain?: number | null;
  startupOverPlainMs?: number | null;
  /** Sequential baseline time / this time (wall and net). */
  speedup: number;
  netSpeedup: number;
  /** Record: events per second of net run time; log bytes per event; log bandwidth over the net run time. */
  eventsPerSec: number | null;
  bytesPerEvent: number | null;
  logMbitPerSec: number | null;
}

export interface MacroResult {
  settings: Record<string, unknown>;
  examples: { name: ExampleName; unit: string; work: number; what: string; parallel: boolean; poolWorkers: Record<number, number> }[];
  cells: MacroCell[];
  runs: MacroRun[];
  mismatches: string[];
  wallS: number;
}

const spread = (xs: number[]): Spread => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

export async function runMacro(root: string, scratch: string, say: (s: string) => void): Promise<MacroResult> {
  const started = Date.now();
  const reps = knob('BENCH_MACRO_REPS', 5, 2);
  const threadCounts = knobInts('BENCH_THREADS', [1, 2, 4], [1, 2]);
  const names = knobList('BENCH_EXAMPLES', EXAMPLE_NAMES);
  const seed = knob('BENCH_SEED', 7);
  const tmp = mkdtempSync(join(scratch, 'macro-'));
  const all = examples(seed, tmp).filter((e) => names.includes(e.name));
  const runs: MacroRun[] = [];
  const mismatches: string[] = [];
  const seqOut = new Map<ExampleName, string>();

  async function one(ex: Example, threads: number, mode: MacroMode, size: Size, rep: number): Promise<MacroRun> {
    const log = join(tmp, `${ex.name}-${threads}-${size}-${rep}.lsl`);
    const resultFile = join(tmp, `result-${mode}.json`);
    const seq = mode === 'seq';
    const plain = mode === 'plain';
    const script = seq ? join(root, 'dist/bench/macro', `seq_${ex.name}.js`)
      : plain ? join(root, 'dist/bench/macro/plain', ex.plain!) : join(root, 'dist/examples', ex.name, 'main.js');
    const env: Record<string, string> = seq ? { ...ex.seqEnv(size) } : plain ? { ...ex.env(threads, size) } : { ...ex.env(threads, size), LOCKSTEP_MODE: mode, LOCKSTEP_RESULT_FILE: resultFile };
    if (mode === 'record' || mode === 'replay') env.LOCKSTEP_LOG = log;
    const load = load1();
    rmSync(resultFile, { force: true });
    const stdin = ex.stdin?.(size);
    const run: ChildRun = await runChild(script, [], { scratch: tmp, env, ...(stdin ? { stdin } : {}), stdoutBytesMax: 4 << 20 });
    check(run, `${ex.name} ${mode} at ${threads} threads (${size})`);
    let result: { ok: boolean; events?: number; logBytes?: number; digest?: string; message?: string } | null = null;
    if (!seq && !plain) {
      result = JSON.parse(readFileSync(resultFile, 'utf8'));
      if (!result!.ok) throw new Error(`${ex.name} ${mode}: ${result!.message}`);
    }
    if (mode === 'replay') rmSync(log, { force: true });
    let mismatch: string | null = null;
    if (size === 'full' && rep >= 0) {
      if (seq) seqOut.set(ex.name, run.stdout);
      else mismatch = ex.verify(run.stdout, seqOut.get(ex.name)!, threads, mode);
      if (mismatch) mismatches.push(`${ex.name} ${mode} ${threads} threads rep ${rep}: ${mismatch}`);
    }
    return {
      example: ex.name, threads, mode, size, rep, wallMs: run.wallNs / 1e6,
      maxRssMiB: run.maxRssKiB !== undefined ? run.maxRssKiB / 1024 : null,
      cpuS: run.userS !== undefined ? run.userS + run.sysS! : null,
      events: mode === 'record' || mode === 'replay' ? result!.events ?? null : null,
      logBytes: mode === 'record' ? result!.logBytes ?? null : null,
      digest: result?.digest ?? null, load1: load, mismatch,
    };
  }

  // Warm-up: one untimed run of each example (file caches, the first compile of each module).
  for (const ex of all) await one(ex, threadCounts[threadCounts.length - 1]!, 'off', 'full', -1);
  for (let rep = 0; rep < reps; rep++) {
    for (const ex of all) {
      const line: string[] = [];
      for (const size of ['full', 'empty'] as const) {
        const s = await one(ex, 1, 'seq', size, rep);
        runs.push(s);
        if (size === 'full') line.push(`seq ${s.wallMs.toFixed(0)}`);
        for (const threads of threadCounts) {
          for (const mode of ex.plain ? (['plain', ...MODES] as MacroMode[]) : MODES) {
            const r = await one(ex, threads, mode, size, rep);
            runs.push(r);
            if (size === 'full') line.push(`${mode[0]}${threads} ${r.wallMs.toFixed(0)}`);
          }
        }
      }
      say(`  ${ex.name}, rep ${rep + 1}/${reps} (load ${load1().toFixed(2)}): ${line.join(' ')} ms`);
    }
  }
  rmSync(tmp, { recursive: true, force: true });

  const cells = macroCells(runs, all, threadCounts);
  return {
    settings: { quick: QUICK, reps, threadCounts, seed },
    examples: all.map((e) => ({ name: e.name, unit: e.unit, work: e.work, what: e.what, parallel: e.parallel,
      poolWorkers: Object.fromEntries(threadCounts.map((t) => [t, e.poolWorkers(t)])) })),
    cells, runs, mismatches, wallS: (Date.now() - started) / 1000,
  };
}

/**
 * The figures of each (example, threads, mode) from the runs. Net times pair each full run with
 * the empty run of the same repetition (same example, threads and mode), which ran moments
 * later, and take the median of those differences: the machine's load drifts between
 * repetitions, and on a small workload (the bank's sequential baseline does its work in tens of
 * milliseconds) the difference of two independent medians would mostly be that drift.
 */
export function macroCells(runs: MacroRun[], all: { name: ExampleName; work: number }[], threadCounts: number[]): MacroCell[] {
  const cells: MacroCell[] = [];
  const pick = (e: ExampleName, t: number, m: MacroMode, size: Size): MacroRun[] =>
    runs.filter((r) => r.example === e && r.threads === t && r.mode === m && r.size === size);
  const medianOf = (rs: MacroRun[], f: (r: MacroRun) => number | null): number | null => {
    const xs = rs.map(f).filter((x): x is number => x !== null);
    return xs.length ? median(xs) : null;
  };
  const paired = (e: ExampleName, t: number, m: MacroMode): { emptyMs: number; netMs: number } => {
    const full = pick(e, t, m, 'full');
    const empty = pick(e, t, m, 'empty');
    const nets = full.flatMap((f) => empty.filter((x) => x.rep === f.rep).map((x) => f.wallMs - x.wallMs));
    return { emptyMs: median(empty.map((r) => r.wallMs)), netMs: median(nets) };
  };
  for (const ex of all) {
    const seqWall = median(pick(ex.name, 1, 'seq', 'full').map((r) => r.wallMs));
    const seqNet = paired(ex.name, 1, 'seq').netMs;
    const cell = (threads: number, mode: MacroMode): MacroCell => {
      const full = pick(ex.name, threads, mode, 'full');
      const wall = spread(full.map((r) => r.wallMs));
      const { emptyMs, netMs } = paired(ex.name, threads, mode);
      return {
        example: ex.name, threads, mode, wallMs: wall, emptyMs, netMs,
        throughput: ex.work / (wall.median / 1e3), netThroughput: ex.work / (netMs / 1e3),
        maxRssMiB: medianOf(full, (r) => r.maxRssMiB), cpuS: medianOf(full, (r) => r.cpuS),
        events: medianOf(full, (r) => r.events), logBytes: medianOf(full, (r) => r.logBytes),
        overheadPct: null, netOverheadPct: null, replayOverRecord: null, netReplayOverRecord: null,
        speedup: seqWall / wall.median, netSpeedup: seqNet / netMs,
        eventsPerSec: null, bytesPerEvent: null, logMbitPerSec: null,
      };
    };
    cells.push(cell(1, 'seq'));
    for (const threads of threadCounts) {
      const [off, record, replay] = MODES.map((m) => cell(threads, m)) as [MacroCell, MacroCell, MacroCell];
      if (pick(ex.name, threads, 'plain', 'full').length > 0) {
        const plain = cell(threads, 'plain');
        off.offOverPlain = off.wallMs.median / plain.wallMs.median;
        off.netOffOverPlain = off.netMs / plain.netMs;
        off.startupOverPlainMs = off.emptyMs - plain.emptyMs;
        cells.push(plain);
      }
      for (const c of [record, replay]) {
        c.overheadPct = (c.wallMs.median / off.wallMs.median - 1) * 100;
        c.netOverheadPct = (c.netMs / off.netMs - 1) * 100;
      }
      replay.replayOverRecord = replay.wallMs.median / record.wallMs.median;
      replay.netReplayOverRecord = replay.netMs / record.netMs;
      if (record.events !== null && record.logBytes !== null) {
        record.eventsPerSec = record.events / (record.netMs / 1e3);
        record.bytesPerEvent = record.logBytes / record.events;
        record.logMbitPerSec = (record.logBytes * 8) / (record.netMs / 1e3) / 1e6;
      }
      cells.push(off, record, replay);
    }
  }
  return cells;
}
