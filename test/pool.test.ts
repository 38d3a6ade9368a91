// The pool: task placement, per-worker order, completion order, failures, outputs and aborts are
// recorded and replayed; a changed worker count is a typed error.

import { strict as assert } from 'node:assert';
import { start, LockstepError, type Session } from '../runtime/index.js';
import { PROGRAM, tempLog } from './harness.js';

const tasks = new URL('./fixtures/tasks.js', import.meta.url);

async function session(mode: 'off' | 'record' | 'replay', log?: string): Promise<Session> {
  return start({ mode, log, program: PROGRAM, args: [], limits: { stallMsMax: 20_000 } });
}

/** 20 contending tasks on 3 workers, every 5th failing; returns what the main thread saw, in order. */
async function contended(mode: 'off' | 'record' | 'replay', log?: string, workers = 3) {
  const s = await session(mode, log);
  const order = s.shared('order', Int32Array, 1);
  s.mutex('m');
  const outputs: string[] = [];
  s.onOutput((o) => outputs.push(`${o.id} ${o.channel} ${JSON.stringify(o.value)}`));
  const pool = s.pool(tasks, { workers });
  const seen: string[] = [];
  await Promise.all(Array.from({ length: 20 }, (_, i) =>
    (i % 5 === 4 ? pool.run(i, { name: 'fail' }) : pool.run({ n: 30, spin: 2000 })).then(
      (v) => seen.push(`${i} ok ${v}`),
      (e: Error) => seen.push(`${i} failed ${e.message}`),
    )));
  const hash = order[0];
  const result = await s.finish();
  return { seen, hash, outputs: outputs.sort(), digest: result.digest };
}

describe('pool', function () {
  it('is nondeterministic in mode off (completion order and lock order)', async function () {
    const runs = new Set<string>();
    for (let i = 0; i < 6 && runs.size < 2; i++) runs.add(JSON.stringify(await contended('off')));
    assert.ok(runs.size >= 2, 'six runs in mode off gave the same completion and lock order');
  });

  it('replays placement, lock order, completion order, failures and outputs', async function () {
    const log = tempLog('pool');
    const recorded = await contended('record', log);
    assert.equal(recorded.seen.filter((x) => x.includes('failed on purpose')).length, 4);
    assert.equal(recorded.outputs.length, 16);
    for (let i = 0; i < 2; i++) {
      const replayed = await contended('replay', log);
      assert.deepEqual(replayed.seen, recorded.seen, 'the main thread observes results in the recorded order');
      assert.equal(replayed.hash, recorded.hash);
      assert.deepEqual(replayed.outputs, recorded.outputs);
      assert.equal(replayed.digest, recorded.digest);
    }
  });

  it('a main thread reacting to the first finished task (Promise.race) takes the same branch', async function () {
    const branches = new Set<string>();
    for (let r = 0; r < 4; r++) {
      const log = tempLog(`race-${r}`);
      const run = async (mode: 'record' | 'replay') => {
        const s = await session(mode, log);
        const winner = s.shared('winner', Int32Array, 1);
        const pool = s.pool(tasks, { workers: 2 });
        const first = await Promise.race([pool.run<string>('left', { name: 'race' }), pool.run<string>('right', { name: 'race' })]);
        winner[0] = first === 'left' ? 1 : 2; // the branch taken
        await s.finish();
        return first;
      };
      const recorded = await run('record');
      branches.add(recorded);
      assert.equal(await run('replay'), recorded);
    }
    console.log(`      branches seen while recording: ${[...branches].join(', ')}`);
  });

  it('completions() yields in the recorded completion order', async function () {
    const log = tempLog('completions');
    const run = async (mode: 'record' | 'replay') => {
      const s = await session(mode, log);
      const pool = s.pool(tasks, { workers: 3 });
      const order: number[] = [];
      for await (const c of pool.completions(['a', 'b', 'c', 'd', 'e', 'f'], { name: 'race' })) order.push(c.index);
      await s.finish();
      return order;
    };
    const recorded = await run('record');
    assert.deepEqual(recorded.slice().sort(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(await run('replay'), recorded);
  });

  it('a task aborted before it started is replayed as aborted and never runs', async function () {
    const log = tempLog('abort');
    const run = async (mode: 'record' | 'replay') => {
      const s = await session(mode, log);
      s.shared('order', Int32Array, 1);
      s.mutex('m');
      const pool = s.pool(tasks, { workers: 1 });
      const controller = new AbortController();
      const first = pool.run({ n: 50, spin: 5000 });
      const second = pool.run({ n: 1, spin: 0 }, { signal: controller.signal });
      controller.abort();
      const outcome = await second.then(() => 'ran', (e: Error) => e.name);
      await first;
      await s.finish();
      return outcome;
    };
    assert.equal(await run('record'), 'AbortError');
    assert.equal(await run('replay'), 'AbortError');
  });

  it('a worker runs its tasks one at a time, in submission order', async function () {
    // These tasks await between start and end: a pool that handed a worker several tasks at once
    // (as piscina would run them, several at once) fails here.
    const log = tempLog('ahead');
    for (const mode of ['off', 'record', 'replay'] as const) {
      const s = await session(mode, log);
      const cells = s.shared('overlap', Int32Array, 3 + 20);
      const pool = s.pool(tasks, { workers: 1 });
      const results = await pool.map(Array.from({ length: 20 }, (_, i) => i), { name: 'overlap' });
      await s.finish();
      assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => i), mode);
      assert.equal(cells[1], 1, `${mode}: ${cells[1]} tasks ran at once on one worker`);
      assert.deepEqual([...cells.subarray(3, 23)], Array.from({ length: 20 }, (_, i) => i), `${mode}: start order`);
    }
  });

  it('tasks assigned behind one with an abort signal wait for it, and go on in order once it runs or is aborted', async function () {
    // A worker is handed tasks ahead of time, except one with a signal: it is handed over only
    // when the worker is idle (so it can be aborted until then), and those after it wait too.
    const log = tempLog('behind-signal');
    for (const mode of ['off', 'record', 'replay'] as const) {
      const s = await session(mode, log);
      const cells = s.shared('overlap', Int32Array, 3 + 20);
      const pool = s.pool(tasks, { workers: 1 });
      const aborted = new AbortController();
      const kept = new AbortController();
      const outcomes = await Promise.all([
        pool.run(0, { name: 'overlap' }),
        pool.run(1, { name: 'overlap', signal: aborted.signal }),
        pool.run(2, { name: 'overlap' }),
        pool.run(3, { name: 'overlap', signal: kept.signal }),
        pool.run(4, { name: 'overlap' }),
      ].map((p, i) => {
        if (i === 1) aborted.abort();
        return p.then((v) => v, (e: Error) => e.name);
      }));
      await s.finish();
      assert.deepEqual(outcomes, [0, 'AbortError', 2, 3, 4], mode);
      assert.equal(cells[1], 1, `${mode}: ${cells[1]} tasks ran at once on one worker`);
      assert.deepEqual([...cells.subarray(3, 3 + cells[2]!)], [0, 2, 3, 4], `${mode}: start order`);
    }
  });

  it('a task whose result cannot be sent to the main thread fails the run with a typed error', async function () {
    const s = await session('record', tempLog('unclonable'));
    const pool = s.pool(tasks, { workers: 1 });
    const typed = (e: LockstepError) => e.code === 'ERR_THREAD_FAILED' && /task 0's result cannot be sent/.test(e.message);
    await assert.rejects(pool.run(null, { name: 'unclonable' }), typed);
    await assert.rejects(s.finish(), typed);
  });

  it('a task payload that cannot be sent to a worker fails the run with a typed error', async function () {
    const s = await session('record', tempLog('unclonable-payload'));
    const pool = s.pool(tasks, { workers: 1 });
    const typed = (e: LockstepError) => e.code === 'ERR_THREAD_FAILED' && /task 0's payload cannot be sent/.test(e.message);
    await assert.rejects(pool.run({ f: () => 1 }), typed);
    await assert.rejects(s.finish(), typed);
  });

  it('replaying with a different worker count is ERR_POOL_SIZE', async function () {
    const log = tempLog('pool-size');
    await contended('record', log, 3);
    await assert.rejects(contended('replay', log, 2), (e: LockstepError) => e.code === 'ERR_POOL_SIZE' && /recorded with 3 pool workers/.test(e.message));
  });

  it('a worker that dies fails the run with a typed error instead of being respawned behind our back', async function () {
    const s = await session('record', tempLog('crash'));
    const pool = s.pool(tasks, { workers: 2 });
    const typed = (e: LockstepError) => e.code === 'ERR_THREAD_FAILED' && /died running task 0/.test(e.message);
    await assert.rejects(pool.run(null, { name: 'crash' }), typed);
    await assert.rejects(s.finish(), typed);
    // The failed run destroyed the pool: closing it now settles (it waited for answers that never came).
    await pool.close();
  });
});
