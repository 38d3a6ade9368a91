// Log fuzzer: structure-aware mutants of real logs (lying offsets, lengths, counts, kinds, thread
// ids, versions and header options, every frame's CRC kept valid; log_mutants.ts) go through the
// reader and every log tool, and a sample through full replay. The only allowed outcomes are a
// typed error, a divergence or a digest mismatch: never a hang, a crash or an untyped error.
// Seeded: rerun with LOGFUZZ_SEED=<seed>; LOGFUZZ_MUTANTS and LOGFUZZ_REPLAYS set the counts
// (npm run campaign:logfuzz runs a long campaign).

import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { LockstepError, start } from '../runtime/index.js';
import { PROGRAM, runWorkload, tempLog, type Workload } from './harness.js';
import { frameSpans, mutant } from './log_mutants.js';
import type { FuzzJob, FuzzMessage } from './fixtures/logfuzz_worker.js';

const seed = Number(process.env.LOGFUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const mutantsPerRun = Number(process.env.LOGFUZZ_MUTANTS ?? 2000);
const replays = Number(process.env.LOGFUZZ_REPLAYS ?? 8);
/** A mutant that takes this long is a hang (one takes milliseconds; this only ends a stuck run). */
const HANG_MS = Number(process.env.LOGFUZZ_HANG_MS ?? 60_000);

/** A program that logs values, channel polls, try results and atomics (the schedule fuzzer's worker). */
const valueOps = [[5], [8], [0, 0, 1], [9], [10], [14], [15], [4, 0, 1, 3], [12], [13, 0, 1], [6, 1], [2, 0, 1], [3]];

async function valuesRun(mode: 'record' | 'replay', log: string, stallMsMax = 20_000): Promise<string> {
  const session = await start({ mode, log, program: PROGRAM, args: [], limits: { stallMsMax } });
  try {
    session.shared('cells', Int32Array, 2);
    session.shared('rdata', Int32Array, 1);
    session.shared('results', Int32Array, 4);
    session.mutexes('m', 2);
    session.rwlocks('rw', 1);
    session.semaphore('sem', 2);
    session.atomics('atomics', 1);
    session.channel('ch', { capacity: 16, bytesMax: 64 });
    for (let t = 0; t < 2; t++) {
      const ops = [...Array(8)].flatMap(() => valueOps);
      if (t === 0) ops.push([11]);
      session.spawn(new URL('./fixtures/fuzz_worker.js', import.meta.url), { data: { ops, drain: true } });
    }
  } catch (e) {
    await session.finish().catch(() => {});
    throw e;
  }
  return (await session.finish()).digest;
}

/** A pool run: placement, completion order, failures and outputs (the issue's hang was in a pipeline log). */
async function poolRun(mode: 'record' | 'replay', log: string, stallMsMax = 20_000): Promise<string> {
  const session = await start({ mode, log, program: PROGRAM, args: [], limits: { stallMsMax } });
  try {
    session.shared('order', Int32Array, 1);
    session.mutex('m');
    const pool = session.pool(new URL('./fixtures/tasks.js', import.meta.url), { workers: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 5 === 4 ? pool.run(i, { name: 'fail' }) : pool.run({ n: 5, spin: 100 })).catch(() => {})));
  } catch (e) {
    await session.finish().catch(() => {});
    throw e;
  }
  return (await session.finish()).digest;
}

interface Source {
  bytes: Uint8Array;
  /** Null: not replayed (see the pool source below). */
  replay: ((log: string) => Promise<unknown>) | null;
}

describe('log fuzzer', function () {
  const sources: Source[] = [];
  let read: number[] = [];

  before(async function () {
    console.log(`      log fuzz seed ${seed} (rerun: LOGFUZZ_SEED=${seed})`);
    const workloads: Workload[] = [{ kind: 'mutex', threads: 3, ops: 40 }, { kind: 'condition', threads: 2, ops: 40 }];
    for (const w of workloads) {
      const log = tempLog(`logfuzz-${w.kind}`);
      await runWorkload('record', log, w);
      sources.push({ bytes: new Uint8Array(readFileSync(log)), replay: (l) => runWorkload('replay', l, w, { limits: { stallMsMax: 3000 } }) });
    }
    const log = tempLog('logfuzz-values');
    await valuesRun('record', log);
    sources.push({ bytes: new Uint8Array(readFileSync(log)), replay: (l) => valuesRun('replay', l, 3000) });
    const poolLog = tempLog('logfuzz-pool');
    await poolRun('record', poolLog);
    // Read and inspected, not replayed: a mutated pool log can make a pool worker die and be
    // respawned, and that failure escapes as an uncaught error that leaves the session running
    // (a known gap in the pool's failure path, reported; poolRun('replay', …) shows it).
    sources.push({ bytes: new Uint8Array(readFileSync(poolLog)), replay: null });
  });

  it(`${mutantsPerRun} mutants through the reader and the log tools: a typed error or a good read, never a hang or a crash`, async function () {
    this.timeout(0); // the watchdog below bounds each mutant
    const job: FuzzJob = { logs: sources.map((s) => s.bytes), seed, from: 0, count: mutantsPerRun };
    const worker = new Worker(new URL('./fixtures/logfuzz_worker.js', import.meta.url), { workerData: job, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    const bad: string[] = [];
    let current = { n: -1, what: 'loading' };
    try {
      const done = await new Promise<Extract<FuzzMessage, { type: 'done' }>>((resolve, reject) => {
        let watchdog = setTimeout(() => reject(hang()), HANG_MS);
        const hang = (): Error => new Error(`mutant ${current.n} (${current.what}) ran past ${HANG_MS} ms: a hang (seed ${seed})`);
        worker.on('message', (m: FuzzMessage) => {
          clearTimeout(watchdog);
          watchdog = setTimeout(() => reject(hang()), HANG_MS);
          if (m.type === 'start') current = m;
          else if (m.type === 'bad') bad.push(`mutant ${m.n} (${m.what}): ${m.error}`);
          else {
            clearTimeout(watchdog);
            resolve(m);
          }
        });
        worker.on('error', (e) => {
          clearTimeout(watchdog);
          reject(new Error(`the fuzz worker died on mutant ${current.n} (${current.what}), seed ${seed}: ${e.stack ?? e}`));
        });
        worker.on('exit', (code) => {
          clearTimeout(watchdog);
          reject(new Error(`the fuzz worker exited (${code}) on mutant ${current.n} (${current.what}), seed ${seed}`));
        });
      });
      read = done.read;
      console.log(`      outcomes: ${JSON.stringify(done.outcomes)}; slowest: ${done.slowest.map((x) => `mutant ${x.n} ${x.ms} ms`).join(', ')}`);
      assert.deepEqual(bad.slice(0, 5), [], `${bad.length} mutants gave an untyped error or a crash (seed ${seed})`);
      assert.equal(Object.values(done.outcomes).reduce((x, y) => x + y, 0), mutantsPerRun);
    } finally {
      await worker.terminate();
    }
  });

  it(`a sample of ${replays} mutants through full replay: a typed error, a divergence or a digest mismatch`, async function () {
    this.timeout(60_000 + replays * 30_000); // each replay is bounded by its 3 s stall limit
    // Mutants the reader accepted are the ones that reach the program; then some it refused.
    const replayable = (n: number): boolean => sources[n % sources.length]!.replay !== null;
    const sample = [
      ...read.filter(replayable).slice(0, replays - Math.floor(replays / 4)),
      ...[...Array(mutantsPerRun).keys()].filter((n) => replayable(n) && !read.includes(n)).slice(0, Math.floor(replays / 4)),
    ];
    const spans = sources.map((s) => frameSpans(s.bytes));
    const seen: Record<string, number> = {};
    for (const n of sample) {
      const source = n % sources.length;
      const m = mutant(sources[source]!.bytes, spans[source]!, seed, n);
      const path = tempLog(`mutant-${n}`); // kept: a failure names it
      writeFileSync(path, m.bytes);
      let outcome = 'replayed';
      try {
        await sources[source]!.replay!(path);
      } catch (e) {
        assert.ok(e instanceof LockstepError, `mutant ${n} (${m.what}, at ${path}), seed ${seed}: replay failed with an untyped error: ${(e as Error)?.stack ?? e}`);
        outcome = e.code;
      }
      seen[outcome] = (seen[outcome] ?? 0) + 1;
    }
    console.log(`      replay outcomes: ${JSON.stringify(seen)}`);
  });
});
