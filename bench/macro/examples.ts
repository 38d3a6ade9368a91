// The four example programs as the macro benchmark runs them: how each is sized for a thread
// count, what its sequential baseline is, how much work a run does (for throughput), and how a
// run's output is checked against the baseline's.
//
// "Threads" means the pool workers that do the parallel part: tellers (bank), counting workers
// (wordcount), transformers (pipeline: plus one producer and one consumer, each on its own pool
// worker, so 2 more workers) and job workers (jobserver). The total work is the same at every
// thread count (bank: the transfers are split among the tellers), so wall times compare directly.
// An "empty" run is the same program at the smallest size: its wall time is the start-up and
// shut-down cost (Node, workers, pool, drain), which the "net" figures subtract.

import { join } from 'node:path';
import { knob } from '../knobs.js';
import { resultsHash, writeJobScript } from './jobs_script.js';

export type ExampleName = 'bank' | 'wordcount' | 'pipeline' | 'jobserver';
export const EXAMPLE_NAMES: ExampleName[] = ['bank', 'wordcount', 'pipeline', 'jobserver'];
export type Size = 'full' | 'empty';

export interface Example {
  name: ExampleName;
  /** What the throughput counts, and how many of them a full run does. */
  unit: string;
  work: number;
  /** One line on what the workload stresses. */
  what: string;
  /** True for the data-parallel workloads the 1.7× speed-up target applies to. */
  parallel: boolean;
  env(threads: number, size: Size): Record<string, string>;
  seqEnv(size: Size): Record<string, string>;
  /**
   * The same program written with plain worker_threads + Atomics (no lockstep): its script under
   * dist/bench/macro/plain, run with env() at the same thread count (issue 11, target 3).
   */
  plain?: string;
  stdin?(size: Size): string;
  /** Pool workers a run with `threads` threads starts. */
  poolWorkers(threads: number): number;
  /**
   * Compares a full run's stdout with the sequential baseline's: null if they agree as they must,
   * else what differs. `threads` and `mode` say which agreement to expect.
   */
  verify(stdout: string, seqStdout: string, threads: number, mode: string): string | null;
}

/** The example's final JSON line on stdout. */
function summary(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]!.startsWith('{')) return JSON.parse(lines[i]!) as Record<string, unknown>;
  }
  throw new Error('no JSON summary on stdout');
}

export function examples(seed: number, scratch: string): Example[] {
  const bankTransfers = knob('BENCH_BANK_TRANSFERS', 300_000, 100_000);
  const bankBatches = 4;
  const wcBytes = knob('BENCH_WORDCOUNT_BYTES', 4 << 20, 2 << 20);
  const pipeItems = knob('BENCH_PIPELINE_ITEMS', 2_000, 600);
  const pipeWork = knob('BENCH_PIPELINE_WORK', 50_000);
  const jobs = knob('BENCH_JOBSERVER_JOBS', 3_000, 1_000);
  const spinRounds = knob('BENCH_JOBSERVER_SPIN', 100_000);
  const jobFile = writeJobScript(join(scratch, 'jobs.txt'), { jobs, spinRounds, keys: 64, seed });
  const seedEnv = { LOCKSTEP_SEED: String(seed) };
  return [
    {
      name: 'bank', unit: 'transfers', work: bankTransfers, parallel: true,
      what: `${bankTransfers} random transfers between 64 accounts, two account mutexes each (5 events a transfer: 2 locks, 3 random values)`,
      env: (threads, size) => ({
        ...seedEnv, BANK_TELLERS: String(threads), BANK_BATCHES: String(bankBatches),
        BANK_TRANSFERS: String(size === 'empty' ? bankBatches : Math.round(bankTransfers / threads)),
      }),
      seqEnv: (size) => ({ BANK_TELLERS: '1', BANK_TRANSFERS: String(size === 'empty' ? bankBatches : bankTransfers) }),
      plain: 'bank.js',
      poolWorkers: (t) => t,
      verify: (out, seq) => {
        const a = summary(out);
        const b = summary(seq);
        return a.total === b.total && a.transfers === b.transfers ? null : `total ${a.total}/${b.total}, transfers ${a.transfers}/${b.transfers}`;
      },
    },
    {
      name: 'wordcount', unit: 'MB', work: wcBytes / 1e6, parallel: true,
      what: `${(wcBytes / 2 ** 20).toFixed(0)} MiB seeded corpus counted in 64 KiB chunks into a shared hash table under 64 striped mutexes`,
      env: (threads, size) => ({ ...seedEnv, WORDCOUNT_WORKERS: String(threads), WORDCOUNT_BYTES: String(size === 'empty' ? 1024 : wcBytes) }),
      seqEnv: (size) => ({ ...seedEnv, WORDCOUNT_BYTES: String(size === 'empty' ? 1024 : wcBytes) }),
      plain: 'wordcount.js',
      poolWorkers: (t) => t,
      verify: (out, seq) => {
        const a = summary(out);
        const b = summary(seq);
        return JSON.stringify(a.top) === JSON.stringify(b.top) && a.words === b.words ? null : 'top 20 or word count differs';
      },
    },
    {
      name: 'pipeline', unit: 'items', work: pipeItems, parallel: false,
      what: `1 producer → bounded buffer (mutex + 2 conditions) → N transformers (${pipeWork} mixing rounds an item) → channel → 1 consumer; ${pipeItems} items`,
      env: (threads, size) => ({
        PIPELINE_PRODUCERS: '1', PIPELINE_TRANSFORMERS: String(threads), PIPELINE_ITEMS: String(size === 'empty' ? 1 : pipeItems),
        PIPELINE_WORK: String(pipeWork), PIPELINE_CAPACITY: '16',
      }),
      seqEnv: (size) => ({ PIPELINE_PRODUCERS: '1', PIPELINE_ITEMS: String(size === 'empty' ? 1 : pipeItems), PIPELINE_WORK: String(pipeWork) }),
      plain: 'pipeline.js',
      poolWorkers: (t) => t + 2,
      verify: (out, seq, threads) => {
        const a = summary(out);
        const b = summary(seq);
        if (a.sum !== b.sum || a.items !== b.items) return `sum ${a.sum}/${b.sum}, items ${a.items}/${b.items}`;
        // One transformer keeps FIFO order, so the order-sensitive checksum must agree too.
        if (threads === 1 && a.checksum !== b.checksum) return `checksum ${a.checksum}/${b.checksum} with one transformer`;
        return null;
      },
    },
    {
      name: 'jobserver', unit: 'jobs', work: jobs + 1, parallel: true,
      what: `${jobs} jobs from stdin (35% incr, 30% get, 10% sum, 25% spin ${spinRounds}) on a key-value store under one rwlock, results as outputs`,
      env: (threads) => ({ JOBSERVER_WORKERS: String(threads), JOBSERVER_INFLIGHT: '16' }),
      seqEnv: () => ({}),
      plain: 'jobserver.js',
      stdin: (size) => (size === 'empty' ? '/dev/null' : jobFile),
      poolWorkers: (t) => t,
      verify: (out, seq, threads) => {
        const a = resultsHash(out);
        const b = summary(seq) as { jobs: number; results: string };
        if (a.jobs !== b.jobs) return `${a.jobs} results, the baseline has ${b.jobs}`;
        // One worker runs the jobs in input order, as the baseline does: the same results.
        if (threads === 1 && a.hash !== b.results) return `results differ from the sequential run with one worker`;
        return null;
      },
    },
  ];
}

