// `npm run bench`: the whole overhead benchmark in one run, on this machine: micro (every sync
// object's hot operations), macro (the example programs at 1, 2 and 4 threads beside a
// sequential baseline), scaling (overhead and log size against threads and event rate) and
// service (the document store's throughput in record, replay and primary + backup, beside its
// single-threaded replicated version). Each part writes bench/results/<part>.json; then
// bench/results/bench.md (tables and targets) and bench/results/overhead.svg are made from
// whichever part files exist; the service part writes its own bench/results/service.md.
//
//   npm run bench                 about 18 minutes on a 2-core machine (the plain baselines and the service part added about 4)
//   BENCH_QUICK=1 npm run bench   about 2 minutes (npm run bench:quick); results in bench/results/quick/
//   BENCH_PARTS=macro,scaling     run only those parts (the report still uses the others' files)
//   BENCH_REPORT_ONLY=1           only remake bench.md and overhead.svg from the JSON files
//   BENCH_RESULTS_DIR=<dir>       write results elsewhere
// Every knob is listed at the top of its part (BENCH_MICRO_*, BENCH_MACRO_REPS, BENCH_THREADS,
// BENCH_EXAMPLES, BENCH_SCALING_*, …). Benchmarks are not tests: nothing here asserts on time;
// targets are reported as met or missed.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chart } from './chart.js';
import { QUICK, knobList } from './knobs.js';
import { load1, machine } from './machine.js';
import { macroCells, runMacro } from './macro/macro.bench.js';
import { runMicro } from './micro/micro.bench.js';
import { runScaling } from './scaling/scaling.bench.js';
import { runService, serviceMarkdown, type ServiceResult } from './service/service.bench.js';
import { markdown, targets, type Results } from './summary.js';

type Part = 'micro' | 'macro' | 'scaling' | 'service';
const PARTS: Part[] = ['micro', 'macro', 'scaling', 'service'];

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const resultsDir = process.env.BENCH_RESULTS_DIR ? resolve(process.env.BENCH_RESULTS_DIR) : join(root, 'bench/results', QUICK ? 'quick' : '');
const scratch = os.tmpdir();
const say = (s: string): void => console.log(s);

async function main(): Promise<void> {
  const started = Date.now();
  const m = machine(root);
  mkdirSync(resultsDir, { recursive: true });
  const only = process.env.BENCH_REPORT_ONLY === '1';
  const parts = only ? [] : knobList('BENCH_PARTS', PARTS);
  say(`lockstep benchmark${QUICK ? ' (quick)' : ''} on ${m.cpu}, ${m.cores} cores, Node ${m.node}, revision ${m.revision}, load ${m.loadAverage.before.toFixed(2)}`);
  say(`results: ${resultsDir}`);
  for (const part of parts) {
    say(`${part}:`);
    const t0 = Date.now();
    const partMachine = { ...machine(root) };
    const result = part === 'micro' ? await runMicro(join(root, 'dist/bench'), scratch, say)
      : part === 'macro' ? await runMacro(root, scratch, say)
        : part === 'scaling' ? await runScaling(root, scratch, say)
          : await runService(root, scratch, say);
    partMachine.loadAverage.after = load1();
    writeFileSync(join(resultsDir, `${part}.json`), JSON.stringify({ machine: partMachine, ...result }, null, 1) + '\n');
    if (part === 'service') {
      const m = partMachine;
      writeFileSync(join(resultsDir, 'service.md'), serviceMarkdown(result as ServiceResult, `${m.cpu}, ${m.cores} cores, Node ${m.node}, revision ${m.revision}, load average ${m.loadAverage.before.toFixed(1)} → ${m.loadAverage.after.toFixed(1)}`));
    }
    say(`  ${part} took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  m.loadAverage.after = load1();
  const results: Results = { machine: m };
  for (const part of PARTS) {
    const file = join(resultsDir, `${part}.json`);
    if (existsSync(file)) (results as unknown as Record<string, unknown>)[part] = JSON.parse(readFileSync(file, 'utf8'));
  }
  // The macro figures are remade from the runs, so that a report of older runs uses today's formulas.
  if (results.macro) results.macro.cells = macroCells(results.macro.runs, results.macro.examples, results.macro.settings.threadCounts as number[]);
  // With no part run now, the report describes the newest part's machine and time.
  if (parts.length === 0) {
    const newest = [results.micro, results.macro, results.scaling].filter((p) => p?.machine).sort((a, b) => b!.machine!.date.localeCompare(a!.machine!.date))[0];
    if (newest?.machine) results.machine = newest.machine;
  }
  const md = markdown(results);
  writeFileSync(join(resultsDir, 'bench.md'), md);
  writeFileSync(join(resultsDir, 'overhead.svg'), chart(results));
  say('');
  say('targets:');
  for (const t of targets(results)) say(`  ${t.met ? 'met   ' : 'MISSED'} ${t.target}: ${t.where}: ${t.measured} (${t.margin})`);
  say(`\nwrote ${join(resultsDir, 'bench.md')} and overhead.svg in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

await main();
