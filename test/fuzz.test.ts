// Seeded schedule fuzzer: random programs (threads, objects, operation mixes, random spins) are
// recorded and replayed on real threads; results and digests must match. The seed is printed;
// rerun one with FUZZ_SEED=<seed>, and run more programs with FUZZ_RUNS=<n>.

import { strict as assert } from 'node:assert';
import { start } from '../engine/index.js';
import { PROGRAM, tempLog } from './harness.js';
import { prng } from './prng.js';

interface Program {
  threads: number;
  mutexes: number;
  rwlocks: number;
  cells: number;
  ops: number[][][];
}

/**
 * Op encoding: [0,m,x] lock m; [1,a,b] nested locks a<b; [2,r,write] rwlock; [3] semaphore;
 * [4,cell,kind,x] atomic; [5] t.random(); [6,m] tryLock; [7,n] spin; [8] Math.random().
 */
export function generate(seed: number): Program {
  const r = prng(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const threads = 2 + int(5);
  const mutexes = 2 + int(4);
  const rwlocks = 1 + int(2);
  const cells = 1 + int(3);
  const ops: number[][][] = [];
  for (let t = 0; t < threads; t++) {
    const list: number[][] = [];
    const n = 50 + int(400);
    for (let i = 0; i < n; i++) {
      switch (int(9)) {
        case 0: list.push([0, int(mutexes), int(100)]); break;
        case 1: {
          const a = int(mutexes - 1);
          list.push([1, a, a + 1 + int(mutexes - a - 1)]);
          break;
        }
        case 2: list.push([2, int(rwlocks), int(3) === 0 ? 1 : 0]); break;
        case 3: list.push([3]); break;
        case 4: list.push([4, int(cells), int(4), int(10)]); break;
        case 5: list.push([5]); break;
        case 6: list.push([6, int(mutexes)]); break;
        case 7: list.push([7, int(20_000)]); break;
        default: list.push([8]);
      }
    }
    ops.push(list);
  }
  return { threads, mutexes, rwlocks, cells, ops };
}

async function run(mode: 'record' | 'replay', log: string, p: Program): Promise<{ digest: string; results: number[] }> {
  const stallMsMax = Number(process.env.FUZZ_STALL_MS ?? 20_000);
  const session = await start({ mode, log, program: PROGRAM, args: [], limits: { stallMsMax } });
  session.shared('cells', Int32Array, p.mutexes);
  session.shared('rdata', Int32Array, p.rwlocks);
  const results = session.shared('results', Int32Array, p.threads + 1);
  session.mutexes('m', p.mutexes);
  session.rwlocks('rw', p.rwlocks);
  session.semaphore('sem', 2);
  session.atomics('atomics', p.cells);
  for (let t = 0; t < p.threads; t++) {
    session.spawn(new URL('./fixtures/fuzz_worker.js', import.meta.url), { data: { ops: p.ops[t] } });
  }
  const result = await session.finish();
  return { digest: result.digest, results: Array.from(results) };
}

describe('schedule fuzzer', function () {
  const base = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const runs = Number(process.env.FUZZ_RUNS ?? 6);
  for (let i = 0; i < runs; i++) {
    const seed = base + i;
    it(`random program, seed ${seed} (rerun: FUZZ_SEED=${seed} FUZZ_RUNS=1)`, async function () {
      console.log(`      fuzz seed ${seed}`);
      const p = generate(seed);
      const log = tempLog(`fuzz-${seed}`);
      const recorded = await run('record', log, p);
      const replayed = await run('replay', log, p).catch((e: Error) => {
        e.message += ` (seed ${seed}, log kept at ${log})`;
        throw e;
      });
      assert.deepEqual(replayed.results, recorded.results, `per-thread observations (seed ${seed})`);
      assert.equal(replayed.digest, recorded.digest, `digest (seed ${seed})`);
    });
  }
});
