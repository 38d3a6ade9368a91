// The job server (examples/jobserver) written with plain worker_threads + Atomics, no lockstep:
// jobs from stdin, at most JOBSERVER_INFLIGHT running on JOBSERVER_WORKERS workers, each run by
// the example's own job code against the example's own store code (Store.over) under a plain
// read-write lock; each result printed as one JSON line as the server prints it (stdin only: no
// HTTP endpoint).

import { createInterface } from 'node:readline';
import { envInt } from '../../../examples/env.js';
import type { Result } from '../../../examples/jobserver/jobs.js';
import { PlainPool } from './pool.js';
import { storeBytes } from './jobserver_store.js';

const LINE_BYTES_MAX = 200;
const workers = envInt('JOBSERVER_WORKERS', 4, 1, 32);
const inflightMax = envInt('JOBSERVER_INFLIGHT', 16, 1, 1024);
const keys = envInt('JOBSERVER_KEYS', 1024, 1, 1 << 20);

const sab = new SharedArrayBuffer(storeBytes(keys));
const pool = new PlainPool(new URL('./jobserver_worker.js', import.meta.url), workers, { sab, keys });
const running = new Set<Promise<void>>();
let id = 0;
let outputs = 0;
const submit = (line: string, error?: string): void => {
  const job = { id: id++, line, ...(error ? { error } : {}) };
  const task: Promise<void> = pool.run<Result>(job).then((r) => {
    outputs++;
    process.stdout.write(`${JSON.stringify({ output: `plain:${outputs}`, ...r })}\n`);
  }).finally(() => running.delete(task));
  running.add(task);
};
let quit = false;
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === '' || line.trimStart().startsWith('#')) continue; // as the example's source skips them
  while (running.size >= inflightMax) await Promise.race(running);
  if (line.length > LINE_BYTES_MAX) submit(`${line.slice(0, LINE_BYTES_MAX)}…`, `a job is at most ${LINE_BYTES_MAX} characters`);
  else submit(line);
  if (line.trim() === 'quit') {
    quit = true;
    break;
  }
}
if (!quit) submit('quit');
await Promise.all(running);
await pool.close();
console.log(JSON.stringify({ mode: 'plain', jobs: id, outputs }));
