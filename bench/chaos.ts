// How much faster chaos recording finds the bugs in examples/bugs/ than plain recording (not a
// test). Per bug and per base seed, `lockstep hunt`'s own loop records until the first failure,
// once under chaos (up to CHAOS_RUNS_MAX runs) and once plain (up to PLAIN_RUNS_MAX); the table
// gives, per bug, the median runs to the first failure over the seeds (a hunt that found nothing
// counts as more than its cap, and the median is then a lower bound, written ">N"), the ratio,
// and the median time to a first failing log under chaos.
//
// Run: npm run bench:chaos. Knobs: CHAOS_SEEDS (base seeds, default 5), CHAOS_RUNS_MAX (100),
// PLAIN_RUNS_MAX (200), CHAOS_JOBS (parallel recordings, default 2), CHAOS_BUGS (comma list),
// CHAOS_STRENGTH (default 0.5). Results: bench/results/chaos.json and chaos.md.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { huntLoop, recordOnce, type RecordOnce } from '../cli/hunt.js';

const BUGS = ['atomicity', 'order_violation', 'check_then_act', 'lock_order', 'missed_notify', 'barrier_misuse', 'unregistered_race', 'use_after_close'];
const bugs = process.env.CHAOS_BUGS ? process.env.CHAOS_BUGS.split(',') : BUGS;
const seeds = Number(process.env.CHAOS_SEEDS ?? 5);
const chaosMax = Number(process.env.CHAOS_RUNS_MAX ?? 100);
const plainMax = Number(process.env.PLAIN_RUNS_MAX ?? 200);
const jobs = Number(process.env.CHAOS_JOBS ?? 2);
const strength = process.env.CHAOS_STRENGTH;
const TIMEOUT_MS = 30_000;

interface Trial { runs: number; found: boolean; ms: number }

const median = (xs: number[]): number => xs.slice().sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;

async function trial(program: string, chaos: boolean, seed: bigint, max: number, dir: string): Promise<Trial> {
  const spec: RecordOnce = { program, args: [], chaos: chaos ? (strength ? `on:${strength}` : 'on') : null, timeoutMs: TIMEOUT_MS, failIf: null };
  const report = await huntLoop({ runs: max, timeS: null, jobs, firstSeed: seed, all: false }, async (_run, s) => {
    const log = join(dir, `${s}-${chaos ? 'c' : 'p'}.lsl`);
    try {
      return await recordOnce(spec, s, log);
    } finally {
      rmSync(log, { force: true });
    }
  });
  return report.first ? { runs: report.first.run + 1, found: true, ms: report.first.atMs } : { runs: max + 1, found: false, ms: report.elapsedMs };
}

const dir = mkdtempSync(join(tmpdir(), 'lockstep-bench-chaos-'));
const rows: Record<string, unknown>[] = [];
const out = new URL('../../bench/results/', import.meta.url);

/** Written after every bug, so a bench cut short still leaves what it measured. */
function save(): void {
  writeFileSync(new URL('chaos.json', out), JSON.stringify({ seeds, chaosMax, plainMax, jobs, strength: strength ?? 'default', rows }, null, 2) + '\n');
  const md = ['| bug | chaos runs (median) | plain runs (median) | ratio | time to first failing log (chaos, median) |', '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.bug} | ${r.chaosMedian} | ${r.plainMedian} | ${r.ratio} | ${r.chaosFirstFailMsMedian} ms |`)].join('\n');
  writeFileSync(new URL('chaos.md', out), md + '\n');
}
try {
  console.log(`bench:chaos — ${seeds} seeds per bug, chaos ≤ ${chaosMax} runs, plain ≤ ${plainMax} runs, ${jobs} jobs; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}`);
  for (const bug of bugs) {
    const program = new URL(`../examples/bugs/${bug}.js`, import.meta.url).pathname;
    const chaos: Trial[] = [];
    const plain: Trial[] = [];
    for (let k = 0; k < seeds; k++) {
      const seed = BigInt(1000 * (k + 1));
      chaos.push(await trial(program, true, seed, chaosMax, dir));
      plain.push(await trial(program, false, seed, plainMax, dir));
    }
    const c = median(chaos.map((t) => t.runs));
    const p = median(plain.map((t) => t.runs));
    const row = {
      bug,
      chaosRuns: chaos.map((t) => (t.found ? t.runs : null)),
      plainRuns: plain.map((t) => (t.found ? t.runs : null)),
      chaosMedian: c > chaosMax ? `>${chaosMax}` : c,
      plainMedian: p > plainMax ? `>${plainMax}` : p,
      ratio: `${p > plainMax ? '≥' : ''}${(p / c).toFixed(1)}`,
      chaosFirstFailMsMedian: Math.round(median(chaos.filter((t) => t.found).map((t) => t.ms)) || 0),
    };
    rows.push(row);
    save();
    console.log(`${bug.padEnd(18)} chaos ${String(row.chaosMedian).padStart(5)} runs  plain ${String(row.plainMedian).padStart(5)} runs  ratio ${row.ratio.padStart(6)}  first failing log ${row.chaosFirstFailMsMedian} ms  (chaos ${JSON.stringify(row.chaosRuns)}, plain ${JSON.stringify(row.plainRuns)})`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
