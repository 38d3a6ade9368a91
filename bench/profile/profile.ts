// `npm run bench:profile`: the profiling pass. Runs each example program (at BENCH_PROFILE_THREADS
// threads, default 2) in modes off, record and replay under `node --cpu-prof` (workers inherit the
// flag and write their own profiles), then prints, per mode and thread role (main, drain, pool
// workers), where the time went: by category and the top functions by self time. Writes
// bench/results/profile.md; the raw .cpuprofile files stay in a temporary folder (printed) for
// DevTools. Profiles are wall-clock samples: waiting in Atomics.wait counts as the waiter's time.

import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, runChild } from '../child.js';
import { knob, knobList } from '../knobs.js';
import { machine } from '../machine.js';
import { EXAMPLE_NAMES, examples } from '../macro/examples.js';
import { merge, readProfile, roleOf, type Role, type ThreadProfile } from './cpu_profile.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const resultsDir = process.env.BENCH_RESULTS_DIR ? resolve(process.env.BENCH_RESULTS_DIR) : join(root, 'bench/results');
const threads = knob('BENCH_PROFILE_THREADS', 2);
const top = knob('BENCH_PROFILE_TOP', 12);
const names = knobList('BENCH_EXAMPLES', EXAMPLE_NAMES);
const modes = knobList('BENCH_PROFILE_MODES', ['off', 'record', 'replay'] as const);
const ROLES: Role[] = ['main', 'drain', 'pool worker', 'spawned thread'];

const tmp = mkdtempSync(join(os.tmpdir(), 'lockstep-profile-'));
const m = machine(root);
const out: string[] = ['# lockstep profile', '', `Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}; revision ${m.revision}; ${m.date}; load ${m.loadAverage.before.toFixed(2)}.`, '',
  `Each example at ${threads} threads under \`node --cpu-prof\` (every thread profiled). Self time in ms by thread role; ` +
  'waiting in Atomics.wait counts as the waiting function\'s time.', ''];
const ms = (x: number): string => x.toFixed(0);

for (const ex of examples(7, tmp).filter((e) => names.includes(e.name))) {
  const log = join(tmp, `${ex.name}.lsl`);
  for (const mode of modes) {
    const dir = join(tmp, `${ex.name}-${mode}`);
    mkdirSync(dir);
    const stdin = ex.stdin?.('full');
    const run = await runChild(join(root, 'dist/examples', ex.name, 'main.js'), [], {
      scratch: tmp,
      env: { ...ex.env(threads, 'full'), LOCKSTEP_MODE: mode, LOCKSTEP_LOG: log },
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
      ...(stdin ? { stdin } : {}),
    });
    check(run, `${ex.name} ${mode}`);
    const profiles: ThreadProfile[] = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => {
      // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile
      const threadId = Number(f.split('.')[4]);
      return readProfile(join(dir, f), roleOf(join(dir, f), threadId));
    });
    out.push(`## ${ex.name}, ${mode} (${(run.wallNs / 1e6).toFixed(0)} ms wall, ${run.userS !== undefined ? (run.userS + run.sysS!).toFixed(2) : '?'} s CPU)`, '');
    console.log(`${ex.name} ${mode}: ${(run.wallNs / 1e6).toFixed(0)} ms, ${profiles.length} profiles in ${dir}`);
    for (const role of ROLES) {
      const ps = profiles.filter((p) => p.role === role);
      if (ps.length === 0) continue;
      const g = merge(ps);
      const cats = [...g.byCategory].sort((a, b) => b[1] - a[1]).filter(([, v]) => v >= 1);
      out.push(`**${role}** (${ps.length} thread${ps.length > 1 ? 's' : ''}, ${ms(g.totalMs)} ms sampled): ${cats.map(([k, v]) => `${k} ${ms(v)}`).join(', ')}`, '');
      out.push('| self ms | % | function |', '|---:|---:|---|');
      for (const [k, v] of [...g.byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
        out.push(`| ${ms(v)} | ${((v / g.totalMs) * 100).toFixed(1)} | \`${k}\` |`);
      }
      out.push('');
    }
  }
}
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'profile.md'), out.join('\n'));
console.log(`wrote ${join(resultsDir, 'profile.md')}; raw profiles in ${tmp}`);
