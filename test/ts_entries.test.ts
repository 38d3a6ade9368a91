// TypeScript entries load through tsx inside recorded threads. Nothing of lockstep's own or of its
// loaders may draw from the program's recorded values (tsx's registration calls randomUUID, its
// caches call Date.now): otherwise what the program sees shifts by a value, and replay diverges
// in some runs only. Records and replays a .ts pool task and a .ts spawned worker many times.
// Seeded (the per-run task and thread counts): rerun with TS_SEED=<seed>, more runs with TS_RUNS.

import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readLog, start } from '../runtime/index.js';
import { Kind, ValueKind, kindOf, objectOf } from '../engine/event.js';
import { PROGRAM, tempLog } from './harness.js';
import { prng } from './prng.js';
import { lockstep } from './fixtures/cli/helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TASK_TS = join(ROOT, 'test/fixtures/ts_task.ts');
const WORKER_TS = join(ROOT, 'test/fixtures/ts_worker.ts');
const MAIN_TS = join(ROOT, 'test/fixtures/ts_main.ts');

/**
 * Ambient values in a log (clock, random, ids; not lockstep's own module hashes): exactly the
 * program's own draws (3 per task iteration, 4 per worker one).
 */
function values(log: string): number {
  let n = 0;
  for (const s of readLog(log).streams) {
    for (let p = 0; p < s.events.length; p += 2) if (kindOf(s.events[p]!) === Kind.Value && objectOf(s.events[p]!) !== ValueKind.Module) n++;
  }
  return n;
}

interface Shape {
  workers: number;
  tasks: number;
  threads: number;
  n: number;
}

async function run(mode: 'record' | 'replay', log: string, s: Shape): Promise<{ digest: string; seen: number[]; results: number[] }> {
  const session = await start({ mode, log, program: PROGRAM, args: [], limits: { stallMsMax: 20_000 } });
  let seen: number[] = [];
  let results: Int32Array;
  try {
    session.shared('order', Int32Array, 1);
    results = session.shared('results', Int32Array, s.threads + 1);
    session.mutex('m');
    const pool = session.pool(TASK_TS, { workers: s.workers });
    const threads = session.spawn(WORKER_TS, { count: s.threads, data: { n: s.n } });
    seen = await Promise.all(Array.from({ length: s.tasks }, () => pool.run({ n: s.n }, { name: 'work' }) as Promise<number>));
    for (const e of await threads.exited) if (!e.ok) throw e.error;
  } catch (e) {
    await session.finish().catch(() => {});
    throw e;
  }
  const digest = (await session.finish()).digest;
  return { digest, seen, results: Array.from(results) };
}

describe('TypeScript entries (tsx) in recorded threads', function () {
  const seed = Number(process.env.TS_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const runs = Number(process.env.TS_RUNS ?? 3);
  it(`a .ts pool task and a .ts worker replay exactly, ${runs} recordings (seed ${seed})`, async function () {
    console.log(`      ts entries seed ${seed} (rerun: TS_SEED=${seed})`);
    const r = prng(seed);
    for (let i = 0; i < runs; i++) {
      const shape: Shape = { workers: 1 + Math.floor(r() * 3), tasks: 1 + Math.floor(r() * 6), threads: 1 + Math.floor(r() * 2), n: 5 + Math.floor(r() * 20) };
      const log = tempLog(`ts-${seed}-${i}`);
      const recorded = await run('record', log, shape);
      assert.equal(values(log), shape.tasks * shape.n * 3 + shape.threads * shape.n * 4, `recorded values, run ${i}: only the program's own`);
      const replayed = await run('replay', log, shape).catch((e: Error) => {
        e.message += ` (run ${i} of seed ${seed}, ${JSON.stringify(shape)}, log kept at ${log})`;
        throw e;
      });
      assert.deepEqual(replayed.seen, recorded.seen, `task results, run ${i}`);
      assert.deepEqual(replayed.results, recorded.results, `worker results, run ${i}`);
      assert.equal(replayed.digest, recorded.digest, `digest, run ${i}`);
    }
  });

  it(`a .ts program run by the CLI (tsx in every thread) records only its own values and replays, ${runs} recordings`, async function () {
    for (let i = 0; i < runs; i++) {
      const log = tempLog(`ts-cli-${i}`);
      const rec = await lockstep(['record', '-o', log, MAIN_TS]);
      assert.equal(rec.code, 0, rec.stderr);
      assert.equal(values(log), 4 * 10 * 3 + 2 * 10 * 4, `recorded values, run ${i}: only the program's own`);
      const rep = await lockstep(['replay', log]);
      assert.equal(rep.code, 0, `run ${i}: ${rep.stderr} (log kept at ${log})`);
    }
  });
});
