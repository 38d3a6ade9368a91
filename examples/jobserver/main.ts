// A long-running job server: reads jobs (one per line) from stdin and, with JOBSERVER_PORT set,
// from POST requests on a loopback HTTP endpoint (0 picks a free port, announced on stderr), and
// runs each on the pool against a key-value store in shared memory under a read-write lock
// (jobs.ts lists the jobs, store.ts the store). Every job's result is an output on "results",
// printed by the output sink as one JSON line on stdout with its deterministic output id; an HTTP
// client also gets its jobs' results as the response. The server ends at a "quit" job, or at the
// end of stdin when there is no HTTP endpoint, and then prints a JSON summary line.
//
// Every job is read inside session.input(): recording logs it at that point of the main thread;
// a replay takes the jobs from the log, never reads stdin or opens a port, and reproduces every
// output. Concurrent jobs race for the store, so results (incr, sum) and the store's journal
// depend on the interleaving; a replay reproduces those too.
//
// Sizes: JOBSERVER_WORKERS (default 4), JOBSERVER_INFLIGHT jobs submitted and not yet finished
// (default 16; reading waits while that many run), JOBSERVER_KEYS store slots (default 1,024).

import { start } from 'lockstep';
import { envInt } from '../env.js';
import type { Job, Result } from './jobs.js';
import { JobSource } from './source.js';
import { Store } from './store.js';

const LINE_BYTES_MAX = 200;
const workers = envInt('JOBSERVER_WORKERS', 4, 1, 32);
const inflightMax = envInt('JOBSERVER_INFLIGHT', 16, 1, 1024);
const keys = envInt('JOBSERVER_KEYS', 1024, 1, 1 << 20);
const port = process.env.JOBSERVER_PORT ? envInt('JOBSERVER_PORT', 0, 0, 65_535) : undefined;

const session = await start();
Store.create(session, keys);
// The channel never fills: at most inflightMax jobs are submitted and not yet taken by a task.
const jobs = session.channel<Job>('jobs', { capacity: inflightMax, bytesMax: 2 * LINE_BYTES_MAX + 64 });

// A replay must not read the source: its jobs come from the log.
const source = session.mode === 'replay' ? null : new JobSource(process.stdin, port);
const url = await source?.listen();
if (url) console.error(`jobserver: listening on ${url}`);

const replies = new Map<number, (result: unknown) => void>();
let outputs = 0;
session.onOutput((o) => {
  if (o.channel !== 'results') return;
  const result = o.value as Result;
  outputs++;
  process.stdout.write(`${JSON.stringify({ output: o.id, ...result })}\n`);
  replies.get(result.id)?.(result);
  replies.delete(result.id);
});

/** Record and mode off: the next job from the source; the end of the input is an implicit quit. */
let nextId = 0;
async function read(): Promise<Job> {
  const request = await source!.next();
  const id = nextId++;
  if (request === null) return { id, line: 'quit' };
  if (request.reply) replies.set(id, request.reply);
  if (request.line.length > LINE_BYTES_MAX) {
    return { id, line: `${request.line.slice(0, LINE_BYTES_MAX)}…`, error: `a job is at most ${LINE_BYTES_MAX} characters` };
  }
  return { id, line: request.line };
}

const pool = session.pool(new URL('./jobs.js', import.meta.url), { workers });
const running = new Set<Promise<void>>();
const failures: unknown[] = [];
let served = 0;
// A job task that fails (not a bad job: those are results) stops the server: fail-stop.
for (let quit = false; !quit && failures.length === 0;) {
  // The main thread's waits depend only on completions, whose order a replay reproduces.
  while (running.size >= inflightMax) await Promise.race(running);
  const job = await session.input(jobs, read);
  quit = job.error === undefined && job.line.trim() === 'quit';
  served++;
  const task: Promise<void> = pool.run<number>(null).then(
    () => undefined,
    (e: unknown) => {
      failures.push(e);
      console.error(`jobserver: a job task failed: ${e instanceof Error ? e.stack : String(e)}`);
      source?.close(); // a read waiting for stdin or HTTP ends now
    },
  ).finally(() => running.delete(task));
  running.add(task);
}
await Promise.all(running);
source?.close();
if (failures.length > 0) throw failures[0];

const result = await session.finish();
console.log(JSON.stringify({
  mode: result.mode,
  digest: result.digest,
  jobs: served,
  outputs,
  threads: result.threads,
  events: result.events,
  logBytes: result.logBytes,
}));
