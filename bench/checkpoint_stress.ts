// Checkpoint cuts while pools run (not a test: it takes minutes). Records the bank and wordcount
// examples (pool programs) with a cut every CKPT_STRESS_MS ms and replays each log, many times:
// every replay must end with the recorded digest and every checkpoint compared must match. A
// failure prints the run's seed and keeps its log; `lockstep record --seed S --checkpoint-ms M`
// records that schedule's start again (the interleaving itself is the machine's).
//
// This is how the lost checkpoint-mark was found (recorder/checkpoint.ts's header): before the
// fix, 3 of 4 bank replays with cuts every 3 ms stalled for stallMsMax.
//
// Run: node dist/bench/checkpoint_stress.js. Knobs: CKPT_STRESS_RUNS (per program and period,
// default 10), CKPT_STRESS_MS (comma list, default "1,3"), CKPT_STRESS_SEED (base seed, default
// random, printed), CKPT_STRESS_PROGRAMS (comma list, default "bank,wordcount").

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const runs = Number(process.env.CKPT_STRESS_RUNS ?? 10);
const periods = (process.env.CKPT_STRESS_MS ?? '1,3').split(',').map(Number);
const programs = (process.env.CKPT_STRESS_PROGRAMS ?? 'bank,wordcount').split(',');
const base = BigInt(process.env.CKPT_STRESS_SEED ?? Math.floor(Math.random() * 2 ** 40));
/** Small enough for a run in seconds on a loaded machine, big enough for tens of cuts. */
const SIZES: Record<string, Record<string, string>> = { bank: { BANK_TRANSFERS: '5000' }, wordcount: { WORDCOUNT_BYTES: String(1 << 20) } };
const TIMEOUT_MS = 180_000;

function lockstep(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: TIMEOUT_MS, maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, stdout, stderr });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'lockstep-ckpt-stress-'));
console.log(`base seed ${base} (CKPT_STRESS_SEED=${base} repeats the seeds); logs in ${dir}`);
let failed = 0;
let n = 0;
for (const program of programs) {
  for (const ms of periods) {
    for (let i = 0; i < runs; i++, n++) {
      const seed = (base + BigInt(n)).toString();
      const log = join(dir, `${program}-${ms}-${seed}.lsl`);
      const env = SIZES[program] ?? {};
      const rec = await lockstep(['record', '--json', '--seed', seed, '--checkpoint-ms', String(ms), '-o', log, '--', join(ROOT, `dist/examples/${program}/main.js`)], env);
      const rep = rec.code === 0 ? await lockstep(['replay', '--json', log], env) : null;
      let verdict = rec.code !== 0 ? `record failed (exit ${rec.code}): ${rec.stderr.trim().slice(0, 300)}` : '';
      let cuts = '';
      if (rep) {
        try {
          const out = JSON.parse(rep.stdout) as { ok?: boolean; message?: string; checkpoints?: { compared: number; matched: number } };
          cuts = out.checkpoints ? `${out.checkpoints.matched}/${out.checkpoints.compared} checkpoints matched` : '';
          if (rep.code !== 0) verdict = `replay failed (exit ${rep.code}): ${out.message ?? ''}`;
          else if (!out.checkpoints || out.checkpoints.matched !== out.checkpoints.compared) verdict = `replay matched, but ${cuts}`;
        } catch {
          verdict = `replay failed (exit ${rep.code}): ${rep.stderr.trim().slice(0, 300)}`;
        }
      }
      if (verdict) failed++;
      else rmSync(log, { force: true });
      console.log(`${program} ms=${ms} seed ${seed}: ${verdict || `ok, ${cuts}`}`);
    }
  }
}
console.log(`${n - failed} of ${n} runs replayed with every checkpoint matching${failed ? `; failing logs kept in ${dir}` : ''}`);
if (!failed) rmSync(dir, { recursive: true, force: true });
process.exitCode = failed ? 1 : 0;
