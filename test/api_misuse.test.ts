// Issue 10, item 14: misusing the API is a typed error with a stable code, in every mode, and
// never a hang, a RangeError, a silent wrap or a dead process. Each misuse is caught by the
// program and the run goes on: the checks come before anything is recorded, so a recording with
// caught misuses replays to the same digest.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { start, LockstepError, type Session } from '../runtime/index.js';
import { tempLog } from './harness.js';

const PROGRAM = fileURLToPath(import.meta.url);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof LockstepError, `expected a LockstepError, got ${(e as Error)?.stack ?? String(e)}`);
    return e.code;
  }
  return 'OK';
}

async function asyncCodeOf(p: () => Promise<unknown>): Promise<string> {
  try {
    await p();
  } catch (e) {
    assert.ok(e instanceof LockstepError, `expected a LockstepError, got ${(e as Error)?.stack ?? String(e)}`);
    return e.code;
  }
  return 'OK';
}

/** Every misuse on the main thread, each caught; returns the codes in order. */
async function misuse(session: Session): Promise<Record<string, string>> {
  const m = session.mutex('m');
  const other = session.mutex('other');
  const rw = session.rwlock('rw');
  const c = session.condition('c');
  const cells = session.atomics('cells', 2);
  const codes: Record<string, string> = {};
  codes.unlockNotHeld = codeOf(() => m.unlock());
  m.lock();
  codes.lockTwice = codeOf(() => m.lock());
  codes.tryLockHeld = String(m.tryLock());
  m.unlock();
  codes.unlockTwice = codeOf(() => m.unlock());
  codes.waitWithoutMutex = codeOf(() => c.wait(other, 1));
  codes.readUnlockNotHeld = codeOf(() => rw.readUnlock());
  codes.writeUnlockNotHeld = codeOf(() => rw.writeUnlock());
  rw.readLock();
  codes.writeWhileReading = codeOf(() => rw.writeLock());
  rw.readUnlock();
  rw.writeLock();
  codes.readWhileWriting = codeOf(() => rw.readLock());
  rw.writeUnlock();
  codes.semaphoreNegative = codeOf(() => session.semaphore('s-neg', -1));
  codes.semaphoreFraction = codeOf(() => session.semaphore('s-frac', 1.5));
  codes.releaseZero = codeOf(() => session.semaphore('s', 1).release(0));
  codes.atomicIndexHigh = codeOf(() => cells.add(2, 1));
  codes.atomicIndexNegative = codeOf(() => cells.load(-1));
  codes.atomicIndexFraction = codeOf(() => cells.store(0.5, 1));
  codes.poolNone = codeOf(() => session.pool(new URL('./fixtures/tasks.js', import.meta.url), { workers: 0 }));
  codes.poolTooMany = codeOf(() => session.pool(new URL('./fixtures/tasks.js', import.meta.url), { workers: 1000 }));
  codes.spawnTooMany = codeOf(() => session.spawn(new URL('./fixtures/tasks.js', import.meta.url), { count: 1000 }));
  codes.secondStart = await asyncCodeOf(() => start({ mode: 'off' }));
  // The run goes on after every caught misuse.
  m.with(() => cells.add(0, 1));
  return codes;
}

const expected = {
  unlockNotHeld: 'ERR_NOT_HELD',
  lockTwice: 'ERR_DEADLOCK',
  tryLockHeld: 'false',
  unlockTwice: 'ERR_NOT_HELD',
  waitWithoutMutex: 'ERR_NOT_HELD',
  readUnlockNotHeld: 'ERR_NOT_HELD',
  writeUnlockNotHeld: 'ERR_NOT_HELD',
  writeWhileReading: 'ERR_DEADLOCK',
  readWhileWriting: 'ERR_DEADLOCK',
  semaphoreNegative: 'ERR_USAGE',
  semaphoreFraction: 'ERR_USAGE',
  releaseZero: 'ERR_USAGE',
  atomicIndexHigh: 'ERR_USAGE',
  atomicIndexNegative: 'ERR_USAGE',
  atomicIndexFraction: 'ERR_USAGE',
  poolNone: 'ERR_USAGE',
  poolTooMany: 'ERR_LIMIT',
  spawnTooMany: 'ERR_LIMIT',
  secondStart: 'ERR_USAGE',
};

describe('API misuse (issue 10 item 14)', function () {
  const log = tempLog('misuse');
  const digests: Record<string, string> = {};
  for (const mode of ['off', 'record', 'replay'] as const) {
    it(`every misuse is a typed error in mode ${mode}, and the run goes on`, async function () {
      const session = await start({ mode, log: mode === 'off' ? undefined : log, program: PROGRAM, args: [] });
      let codes: Record<string, string>;
      try {
        codes = await misuse(session);
      } finally {
        digests[mode] = (await session.finish()).digest;
      }
      assert.deepEqual(codes, expected);
      // After finish(), every call is ERR_FINISHED.
      const after = {
        spawn: codeOf(() => session.spawn(new URL('./fixtures/tasks.js', import.meta.url))),
        pool: codeOf(() => session.pool(new URL('./fixtures/tasks.js', import.meta.url), { workers: 1 })),
        create: codeOf(() => session.mutex('late')),
        shared: codeOf(() => session.shared('late', Int32Array, 1)),
        lock: codeOf(() => session.mutex('m').lock()),
        random: codeOf(() => session.random()),
        output: codeOf(() => session.output('x', 1)),
        input: await asyncCodeOf(() => session.input(session.channel('late-ch'), () => 1)),
        finish: await asyncCodeOf(() => session.finish()),
      };
      for (const [call, code] of Object.entries(after)) assert.equal(code, 'ERR_FINISHED', call);
    });
  }

  it('the recording with caught misuses replays to the same digest', function () {
    assert.equal(digests.replay, digests.record);
  });

  it('bad limits are ERR_USAGE or ERR_LIMIT, never a RangeError', async function () {
    for (const limits of [{ arenaBytes: 2 ** 40 }, { arenaBytes: 4097 }, { stallMsMax: 2 ** 40 }, { threadsMax: 1e9 }]) {
      const code = await asyncCodeOf(() => start({ mode: 'off', limits }));
      assert.ok(['ERR_USAGE', 'ERR_LIMIT'].includes(code), `${JSON.stringify(limits)}: ${code}`);
    }
  });

  it('a second start() while a run is going is ERR_USAGE; after finish() start() works again', async function () {
    const first = await start({ mode: 'off' });
    try {
      assert.equal(await asyncCodeOf(() => start({ mode: 'off' })), 'ERR_USAGE');
    } finally {
      await first.finish();
    }
    const again = await start({ mode: 'off' });
    await again.finish();
  });

  it('an unknown name attached in a worker fails the run with ERR_UNKNOWN_OBJECT through exited and finish()', async function () {
    const session = await start({ mode: 'off' });
    const { exited } = session.spawn(new URL('./fixtures/unknown_name_worker.js', import.meta.url));
    assert.equal(await asyncCodeOf(() => exited), 'ERR_UNKNOWN_OBJECT');
    assert.equal(await asyncCodeOf(() => session.finish()), 'ERR_UNKNOWN_OBJECT');
  });
});
