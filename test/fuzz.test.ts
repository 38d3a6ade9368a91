// Seeded schedule fuzzer: random programs (threads, objects, operation mixes, random spins) are
// recorded and replayed on real threads; results and digests must match. The seed is printed;
// rerun one with FUZZ_SEED=<seed>, and run more programs with FUZZ_RUNS=<n>.

import { strict as assert } from 'node:assert';
import { start } from '../runtime/index.js';
import { PROGRAM, tempLog } from './harness.js';
import { prng } from './prng.js';

interface Program {
  threads: number;
  mutexes: number;
  rwlocks: number;
  cells: number;
  ops: number[][][];
  /** Every thread ends with a poll-until-closed loop on the channel that thread 0 closes. */
  drain: boolean;
}

/** Sends are capped so that a send never waits (the channel never fills): no deadlock by design. */
export const CHANNEL_CAPACITY = 16;

/**
 * Op encoding: [0,m,x] lock m; [1,a,b] nested locks a<b; [2,r,write] rwlock; [3] semaphore;
 * [4,cell,kind,x] atomic; [5] t.random(); [6,m] tryLock; [7,n] spin; [8] Math.random();
 * [9] channel send (a typed error once closed); [10] channel poll; [11] close (thread 0 only, once);
 * [12] semaphore tryAcquire; [13,r,write] rwlock try-lock; [14] semaphore.available;
 * [15] atomics snapshot. Every result (value, empty, closed, ok, count) is folded into the hash.
 */
export function generate(seed: number): Program {
  const r = prng(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const threads = 2 + int(5);
  const mutexes = 2 + int(4);
  const rwlocks = 1 + int(2);
  const cells = 1 + int(3);
  const ops: number[][][] = [];
  let sends = 0;
  for (let t = 0; t < threads; t++) {
    const list: number[][] = [];
    const n = 50 + int(400);
    for (let i = 0; i < n; i++) {
      switch (int(16)) {
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
        case 8: list.push([8]); break;
        case 9: if (sends < CHANNEL_CAPACITY) { sends++; list.push([9]); } break;
        case 10: list.push([10]); break;
        case 12: list.push([12]); break;
        case 13: list.push([13, int(rwlocks), int(2)]); break;
        case 14: list.push([14]); break;
        case 15: list.push([15]); break;
        default: list.push([5]);
      }
    }
    if (t === 0) list.splice(int(list.length + 1), 0, [11]);
    ops.push(list);
  }
  return { threads, mutexes, rwlocks, cells, ops, drain: int(2) === 0 };
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
  session.channel('ch', { capacity: CHANNEL_CAPACITY, bytesMax: 64 });
  for (let t = 0; t < p.threads; t++) {
    session.spawn(new URL('./fixtures/fuzz_worker.js', import.meta.url), { data: { ops: p.ops[t], drain: p.drain } });
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
