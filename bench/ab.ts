// A/B comparison of two builds of lockstep on the example programs, in one process run: each
// (example, threads, mode) runs once per build per round, the builds interleaved (A, B, A, B…) so
// that the shared machine's load falls on both alike; it prints medians, min–max and the B ÷ A
// ratio. A "build" is a folder holding a package.json and the dist/ that `npm run build` made
// (copy them aside before a change: `mkdir /tmp/base && cp -r dist package.json /tmp/base &&
// ln -s $PWD/node_modules /tmp/base/`). Each replay replays the same build's recording of the
// same round.
//
//   AB_A=/tmp/base AB_B=. AB_CASES=wordcount:2,bank:2 AB_MODES=off,record,replay AB_ROUNDS=5 \
//     node dist/bench/ab.js
//
// Knobs: AB_A, AB_B (build folders; B defaults to this checkout), AB_CASES (example:threads,…),
// AB_MODES (default record,replay; `plain` runs the example's plain worker_threads version from
// bench/macro/plain, what mode off is measured against), AB_ROUNDS (default 5), AB_SIZE (full or empty: the start-up and
// shut-down alone; default full); the examples' BENCH_* size knobs apply.

import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, runChild } from './child.js';
import { knob } from './knobs.js';
import { EXAMPLE_NAMES, examples, type ExampleName } from './macro/examples.js';
import { median } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const checkout = resolve(here, '../..');
const builds = { A: resolve(process.env.AB_A ?? checkout), B: resolve(process.env.AB_B ?? checkout) };
const rounds = knob('AB_ROUNDS', 5);
const modes = (process.env.AB_MODES ?? 'record,replay').split(',') as ('plain' | 'off' | 'record' | 'replay')[];
const cases = (process.env.AB_CASES ?? 'wordcount:2').split(',').map((c) => {
  const [name, threads] = c.split(':');
  if (!EXAMPLE_NAMES.includes(name as ExampleName)) throw new Error(`AB_CASES: unknown example ${name}`);
  return { name: name as ExampleName, threads: Number(threads ?? 2) };
});
const size = (process.env.AB_SIZE ?? 'full') as 'full' | 'empty';
const tmp = mkdtempSync(join(os.tmpdir(), 'lockstep-ab-'));
const all = examples(7, tmp);

console.log(`A = ${builds.A}\nB = ${builds.B}\nsize ${size}; load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${rounds} rounds`);
for (const c of cases) {
  const ex = all.find((e) => e.name === c.name)!;
  const wall: Record<string, number[]> = {};
  const rss: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const build of ['A', 'B'] as const) {
      const log = join(tmp, `${c.name}-${c.threads}-${build}-${round}.lsl`);
      for (const mode of modes) {
        const stdin = ex.stdin?.(size);
        if (mode === 'plain' && !ex.plain) throw new Error(`AB_MODES: ${c.name} has no plain version`);
        const script = mode === 'plain' ? join(builds[build], 'dist/bench/macro/plain', ex.plain!) : join(builds[build], 'dist/examples', ex.name, 'main.js');
        const run = await runChild(script, [], {
          scratch: tmp,
          env: mode === 'plain' ? ex.env(c.threads, size) : { ...ex.env(c.threads, size), LOCKSTEP_MODE: mode, LOCKSTEP_LOG: log },
          ...(stdin ? { stdin } : {}),
        });
        check(run, `${c.name} ${mode} (${build})`);
        (wall[`${build} ${mode}`] ??= []).push(run.wallNs / 1e6);
        if (run.maxRssKiB !== undefined) (rss[`${build} ${mode}`] ??= []).push(run.maxRssKiB / 1024);
        if (run.userS !== undefined) (cpu[`${build} ${mode}`] ??= []).push((run.userS + run.sysS!) * 1000);
      }
    }
  }
  const med = (k: string): number => median(wall[k]!);
  const line = (k: string): string => `${med(k).toFixed(0)} ms [${Math.min(...wall[k]!).toFixed(0)}–${Math.max(...wall[k]!).toFixed(0)}]` +
    (cpu[k] ? `, CPU ${median(cpu[k]!).toFixed(0)} ms` : '') + (rss[k] ? `, RSS ${median(rss[k]!).toFixed(0)} MiB` : '');
  console.log(`\n${c.name} at ${c.threads} threads`);
  for (const mode of modes) {
    const cpuRatio = cpu[`A ${mode}`] ? `, CPU B÷A ${(median(cpu[`B ${mode}`]!) / median(cpu[`A ${mode}`]!)).toFixed(3)}` : '';
    console.log(`  ${mode.padEnd(7)} A ${line(`A ${mode}`)}\n          B ${line(`B ${mode}`)}   wall B÷A ${(med(`B ${mode}`) / med(`A ${mode}`)).toFixed(3)}${cpuRatio}`);
  }
  for (const b of ['A', 'B']) {
    const r: string[] = [];
    if (wall[`${b} off`] && wall[`${b} plain`]) r.push(`off÷plain ${(med(`${b} off`) / med(`${b} plain`)).toFixed(3)}, off−plain ${(med(`${b} off`) - med(`${b} plain`)).toFixed(0)} ms`);
    if (cpu[`${b} off`] && cpu[`${b} plain`]) r.push(`off÷plain CPU ${(median(cpu[`${b} off`]!) / median(cpu[`${b} plain`]!)).toFixed(3)}`);
    if (wall[`${b} off`] && wall[`${b} record`]) r.push(`record÷off ${(med(`${b} record`) / med(`${b} off`)).toFixed(3)}`);
    if (cpu[`${b} off`] && cpu[`${b} record`]) r.push(`record÷off CPU ${(median(cpu[`${b} record`]!) / median(cpu[`${b} off`]!)).toFixed(3)}`);
    if (wall[`${b} record`] && wall[`${b} replay`]) r.push(`replay÷record ${(med(`${b} replay`) / med(`${b} record`)).toFixed(3)}`);
    if (rss[`${b} record`] && rss[`${b} replay`]) r.push(`replay÷record RSS ${(median(rss[`${b} replay`]!) / median(rss[`${b} record`]!)).toFixed(3)}`);
    if (r.length) console.log(`  ${b}: ${r.join(', ')}`);
  }
}
console.log(`\nload ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
