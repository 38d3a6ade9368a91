// The thread-scaling sweep for a many-core machine (issue 11: "run the thread scaling sweep there
// (1–16 threads) and publish it"): the four example programs (macro: seq, plain worker_threads
// where there is one, off, record, replay) and the document store service (off, record, replay)
// at 1, 2, 4, 8, 12 and 16 threads, one round each. Writes bench/results/scaling16/{macro,
// service}.json and scaling16.md (wall time or throughput per thread count, speed-up over one
// thread, record and replay against off). About 6 minutes on 16 cores; on 2 cores it runs, but
// says nothing about scaling.
//
//   npm run bench:scaling16
//   BENCH_SCALING16_THREADS=1,2,4,8,12,16   BENCH_MACRO_REPS=1   BENCH_SERVICE_REQUESTS=2000
//   BENCH_EXAMPLES=… and every other knob of the macro and service parts still apply.

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load1, machine } from './machine.js';
import { runMacro, type MacroCell, type MacroResult } from './macro/macro.bench.js';
import { runService, serviceMarkdown, type ServiceResult } from './service/service.bench.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = process.env.BENCH_RESULTS_DIR ? resolve(process.env.BENCH_RESULTS_DIR) : join(root, 'bench/results/scaling16');
const threads = process.env.BENCH_SCALING16_THREADS ?? '1,2,4,8,12,16';
// The sweep's defaults, unless set: one round, these thread counts, a load big enough for 16 workers.
const defaults: Record<string, string> = {
  BENCH_THREADS: threads, BENCH_MACRO_REPS: '1',
  BENCH_SERVICE_THREADS: threads, BENCH_SERVICE_REPS: '1', BENCH_SERVICE_REQUESTS: '2000', BENCH_SERVICE_VARIANTS: 'off,record,replay,rsm',
};
for (const [k, v] of Object.entries(defaults)) if (!process.env[k]) process.env[k] = v;

const say = (s: string): void => console.log(s);
const m = machine(root);
mkdirSync(out, { recursive: true });
say(`thread-scaling sweep on ${m.cpu}, ${m.cores} cores, Node ${m.node}, revision ${m.revision}, load ${m.loadAverage.before.toFixed(2)}; threads ${threads}`);
if (m.cores < 16) say(`(only ${m.cores} cores: the figures will not show scaling past ${m.cores} threads)`);
const t0 = Date.now();
say('macro:');
const macro = await runMacro(root, os.tmpdir(), say);
writeFileSync(join(out, 'macro.json'), JSON.stringify({ machine: { ...m, loadAverage: { before: m.loadAverage.before, after: load1() } }, ...macro }, null, 1) + '\n');
say('service:');
const service = await runService(root, os.tmpdir(), say);
m.loadAverage.after = load1();
writeFileSync(join(out, 'service.json'), JSON.stringify({ machine: m, ...service }, null, 1) + '\n');
const md = report(macro, service);
writeFileSync(join(out, 'scaling16.md'), md);
say('');
say(md);
say(`wrote ${out} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

function report(macro: MacroResult, service: ServiceResult): string {
  const counts = macro.settings.threadCounts as number[];
  const machineLine = `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, revision ${m.revision}, load average ${m.loadAverage.before.toFixed(1)} → ${m.loadAverage.after.toFixed(1)}, ${m.date}`;
  const lines = ['# Thread-scaling sweep', '', machineLine + '.', ''];
  lines.push('## The example programs (macro)', '');
  lines.push('Wall ms (start-up included) and, below it, speed-up of the net time over the sequential baseline; one round.', '');
  lines.push(`| workload | mode | ${counts.map((t) => `${t} thr`).join(' | ')} |`);
  lines.push(`|---|---|${counts.map(() => '---:').join('|')}|`);
  const get = (e: string, t: number, mode: string): MacroCell | undefined => macro.cells.find((c) => c.example === e && c.threads === t && c.mode === mode);
  for (const ex of macro.examples) {
    const seq = get(ex.name, 1, 'seq');
    lines.push(`| ${ex.name} | seq | ${seq ? seq.wallMs.median.toFixed(0) : '–'} ms |${counts.slice(1).map(() => ' |').join('')}`);
    for (const mode of ['plain', 'off', 'record', 'replay']) {
      if (!get(ex.name, counts[0]!, mode)) continue;
      lines.push(`| ${ex.name} | ${mode} | ${counts.map((t) => {
        const c = get(ex.name, t, mode);
        return c ? `${c.wallMs.median.toFixed(0)} ms (${c.netSpeedup.toFixed(2)}×)` : '–';
      }).join(' | ')} |`);
    }
    lines.push(`| ${ex.name} | record ÷ off, net | ${counts.map((t) => {
      const c = get(ex.name, t, 'record');
      return c?.netOverheadPct != null ? `${(1 + c.netOverheadPct / 100).toFixed(2)}×` : '–';
    }).join(' | ')} |`);
    lines.push(`| ${ex.name} | replay ÷ record, net | ${counts.map((t) => {
      const c = get(ex.name, t, 'replay');
      return c?.netReplayOverRecord != null ? `${c.netReplayOverRecord.toFixed(2)}×` : '–';
    }).join(' | ')} |`);
  }
  lines.push('', '## The document store (service)', '');
  lines.push(serviceMarkdown(service, machineLine).split('\n').slice(2).join('\n'));
  return lines.join('\n') + '\n';
}
