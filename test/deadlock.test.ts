// Deadlock detection: the wait-for graph's cycle finder, and end to end on real worker threads:
// two threads that take a mutex, a read-write lock or a semaphore and a mutex in opposite orders
// get ERR_DEADLOCK naming both threads, what each waits for and who holds it (instead of a hang),
// in record and in mode off when asked; the log replays to the same report.

import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { start, type LockstepError, type StartOptions } from '../runtime/index.js';
import { cycleThrough } from '../engine/wait_for.js';
import { tempLog } from './harness.js';

const PROGRAM = fileURLToPath(import.meta.url);

async function run(kind: string, options: StartOptions): Promise<LockstepError> {
  const session = await start({ program: PROGRAM, args: [], ...options, limits: { stallMsMax: 20_000 } });
  if (kind === 'mutex') session.mutex('first');
  else if (kind === 'rwlock') session.rwlock('first');
  else session.semaphore('first', 1);
  session.mutex('other');
  session.barrier('meet', 2);
  const spawned = session.spawn(new URL('./fixtures/deadlock.js', import.meta.url), { count: 2, data: { kind } });
  const e = await spawned.exited.then(() => null, (err: LockstepError) => err);
  await session.finish().catch(() => {});
  assert.ok(e, 'the run failed');
  return e;
}

const names: Record<string, string> = { mutex: 'mutex "first"', rwlock: 'read-write lock (to write) "first"', semaphore: 'semaphore "first"' };

describe('deadlock detection', function () {
  describe('wait-for graph', function () {
    it('finds the cycle through a thread, and only among blocked threads', function () {
      const blocked = [
        { thread: 1, waitsFor: 20, holds: [10] },
        { thread: 2, waitsFor: 30, holds: [20] },
        { thread: 3, waitsFor: 10, holds: [30] },
        { thread: 4, waitsFor: 10, holds: [] },
      ];
      assert.deepEqual(cycleThrough(1, blocked)?.map((b) => b.thread), [1, 2, 3]);
      assert.deepEqual(cycleThrough(2, blocked)?.map((b) => b.thread), [2, 3, 1]);
      assert.equal(cycleThrough(4, blocked), null, 'thread 4 waits on the cycle but is not in it');
      assert.equal(cycleThrough(1, blocked.filter((b) => b.thread !== 3)), null, 'a running holder breaks the cycle');
      assert.deepEqual(cycleThrough(5, [{ thread: 5, waitsFor: 7, holds: [7] }])?.map((b) => b.thread), [5], 'relocking what it holds');
    });
  });

  for (const kind of ['mutex', 'rwlock', 'semaphore']) {
    it(`reports a ${kind} and a mutex taken in opposite orders, and the log replays to the same report`, async function () {
      const log = tempLog(`deadlock-${kind}`);
      const recorded = await run(kind, { mode: 'record', log });
      assert.equal(recorded.code, 'ERR_DEADLOCK', recorded.message);
      const cycle = recorded.details.cycle as { thread: number; object: string; heldBy: number }[];
      assert.deepEqual(cycle.map((c) => c.thread).sort(), [1, 2]);
      for (const c of cycle) assert.equal(c.heldBy, c.thread === 1 ? 2 : 1);
      assert.match(recorded.message, new RegExp(`${names[kind]!.replace(/[()]/g, '\\$&')} \\(object \\d+\\), held by thread`));
      assert.match(recorded.message, /mutex "other" \(object \d+\), held by thread/);
      const replayed = await run(kind, { mode: 'replay', log });
      assert.equal(replayed.code, 'ERR_DEADLOCK', replayed.message);
      assert.equal(replayed.message, recorded.message);
    });
  }

  it('works in mode off when asked', async function () {
    const e = await run('mutex', { mode: 'off', deadlock: true });
    assert.equal(e.code, 'ERR_DEADLOCK', e.message);
  });
});
