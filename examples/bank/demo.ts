// `npm start`: records the bank example, replays the recording, and prints both digests and
// whether they match. Each run is a separate process, as it would be on a primary and a backup.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.js', import.meta.url));
const log = process.argv[2] ?? 'bank.lsl';
const scratch = mkdtempSync(join(tmpdir(), 'lockstep-bank-'));

function run(mode: 'record' | 'replay'): { ok: boolean; digest?: string; events?: number; logBytes?: number; threads?: number; message?: string } {
  const resultFile = join(scratch, `${mode}.json`);
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, [main], {
    env: { ...process.env, LOCKSTEP_MODE: mode, LOCKSTEP_LOG: log, LOCKSTEP_RESULT_FILE: resultFile },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  let result;
  try {
    result = JSON.parse(readFileSync(resultFile, 'utf8'));
  } catch {
    result = { ok: false, message: `the ${mode} run exited with status ${child.status} and left no result` };
  }
  console.log(`${mode.padEnd(6)} ${result.ok ? `digest ${result.digest}  ${result.events} events, ${result.threads} threads, ${result.logBytes} log bytes, ${ms.toFixed(0)} ms` : `FAILED: ${result.message}`}`);
  return result;
}

console.log(`lockstep bank demo: 4 tellers, 64 accounts, per-account mutexes; log ${log}`);
const recorded = run('record');
const replayed = recorded.ok ? run('replay') : { ok: false };
const match = recorded.ok && replayed.ok && recorded.digest === replayed.digest;
console.log(match ? 'digests match: the replay reproduced the recording bit for bit' : 'digests DO NOT match');
process.exit(match ? 0 : 1);
