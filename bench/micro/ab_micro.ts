// A/B comparison of two builds of lockstep on the micro benchmark's operations, in one process
// run, the way bench/ab.ts compares the examples: each (part, variant) runs once per build per
// round, builds interleaved (A, B, A, B…) so the shared machine's load falls on both alike; each
// replay replays the same build's recording of the same round. Prints per operation the median
// ns/op of each build and the B ÷ A ratio.
//
//   ABM_A=/work/base ABM_B=. ABM_PARTS=uncontended,contended ABM_VARIANTS=off,record,replay \
//     ABM_ROUNDS=5 ABM_N=1000000 ABM_OPS=mutex node dist/bench/micro/ab_micro.js
//
// Knobs: ABM_A, ABM_B (build folders holding package.json and dist/; B defaults to this
// checkout), ABM_PARTS, ABM_VARIANTS, ABM_ROUNDS (default 5), ABM_N (iterations of a scale-1
// operation, per thread when contended; default 1000000 uncontended, 200000 contended), ABM_OPS
// (print only operations whose name contains one of these words; default all), ABM_BURSTS
// (uncontended: each figure is the fastest of this many bursts, micro_run.ts's MICRO_BURSTS; for
// a loaded machine; default 1). A build whose micro_run.js predates MICRO_BURSTS ignores it: copy
// this build's dist/bench/micro/*.js into a copy of that build to compare bursts with bursts.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, lastJson, runChild } from '../child.js';
import { knob } from '../knobs.js';
import { median } from '../stats.js';
import type { MicroChildOutput } from './micro_run.js';

const here = dirname(fileURLToPath(import.meta.url));
const checkout = resolve(here, '../../..');
const builds = { A: resolve(process.env.ABM_A ?? checkout), B: resolve(process.env.ABM_B ?? checkout) };
const parts = (process.env.ABM_PARTS ?? 'uncontended,contended').split(',') as ('uncontended' | 'contended')[];
const variants = (process.env.ABM_VARIANTS ?? 'off,record,replay').split(',') as ('off' | 'record' | 'replay')[];
const rounds = knob('ABM_ROUNDS', 5);
const opsFilter = (process.env.ABM_OPS ?? '').split(',').filter((s) => s !== '');
// Medians, and minima: on a loaded shared machine the minimum is the steadier estimate of an
// operation's own cost.
const stats: [string, (xs: readonly number[]) => number][] = [['median', median], ['minimum', (xs) => Math.min(...xs)]];
const tmp = mkdtempSync(join(os.tmpdir(), 'lockstep-abm-'));

console.log(`A = ${builds.A}\nB = ${builds.B}\nload ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${rounds} rounds`);
try {
  for (const part of parts) {
    const n = knob('ABM_N', part === 'uncontended' ? 1_000_000 : 200_000);
    // op → "variant build" → ns per round
    const ns = new Map<string, Record<string, number[]>>();
    for (let round = 0; round < rounds; round++) {
      for (const build of ['A', 'B'] as const) {
        const log = join(tmp, `${part}-${build}-${round}.lsl`);
        for (const variant of variants) {
          const script = join(builds[build], 'dist/bench/micro/micro_run.js');
          const env = { MICRO_PART: part, MICRO_VARIANT: variant, MICRO_N: String(n), MICRO_LOG: log, MICRO_BURSTS: String(knob('ABM_BURSTS', 1)) };
          const run = await runChild(script, [], { env, scratch: tmp });
          check(run, `${build} ${part} ${variant}`);
          const out = lastJson<MicroChildOutput>(run.stdout);
          if (out === null) throw new Error(`${build} ${part} ${variant}: no JSON line in its output`);
          for (const [op, v] of Object.entries(out.ns)) {
            if (opsFilter.length > 0 && !opsFilter.some((f) => op.includes(f))) continue;
            const row = ns.get(op) ?? {};
            (row[`${variant} ${build}`] ??= []).push(v);
            ns.set(op, row);
          }
        }
        rmSync(log, { force: true });
      }
    }
    for (const [statName, stat] of stats) {
      console.log(`\n## ${part} (n ${n}), ns/op, ${statName} of ${rounds}`);
      console.log(`| operation | ${variants.map((v) => `${v} A | ${v} B | B÷A`).join(' | ')} |`);
      console.log(`|---|${variants.map(() => '---:|---:|---:').join('|')}|`);
      for (const [op, row] of ns) {
        const cells = variants.map((v) => {
          const as = row[`${v} A`] ?? [];
          const bs = row[`${v} B`] ?? [];
          if (as.length === 0 || bs.length === 0) return '– | – | –';
          const a = stat(as);
          const b = stat(bs);
          return `${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}`;
        });
        console.log(`| ${op} | ${cells.join(' | ')} |`);
      }
    }
  }
  console.log(`\nload after ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
