// A job worker of the plain job server (jobserver.ts): the example's job code on the shared store.

import { parentPort, workerData } from 'node:worker_threads';
import { run, type Job, type Result } from '../../../examples/jobserver/jobs.js';
import { StoreError } from '../../../examples/jobserver/store.js';
import { attachStore } from './jobserver_store.js';
import { serveTasks } from './pool.js';

const { sab, keys } = workerData as { sab: SharedArrayBuffer; keys: number };
const store = attachStore(sab, keys);

serveTasks((p): Result => {
  const job = p as Job;
  if (job.error !== undefined) return { id: job.id, job: job.line, error: job.error };
  try {
    return { id: job.id, job: job.line, value: run(job.line, store, Math.random) };
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    return { id: job.id, job: job.line, error: e.message };
  }
}, parentPort!);
