// Replaying a changed program stops with ERR_DIVERGENCE at the exact thread and event where it
// first differs, naming what the log expected and what the program did.

import { strict as assert } from 'node:assert';
import { LockstepError } from '../runtime/index.js';
import { runWorkload, tempLog } from './harness.js';

async function rejects(p: Promise<unknown>): Promise<LockstepError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LockstepError, `expected a LockstepError, got ${(e as Error)?.stack ?? e}`);
    return e;
  }
  assert.fail('replay of a changed program succeeded');
}

describe('divergence', function () {
  const w = { kind: 'mutex', threads: 3, ops: 300 };
  const log = tempLog('divergence');
  before(async function () {
    await runWorkload('record', log, w);
  });

  it('a worker that does another operation fails at that thread and event', async function () {
    const e = await rejects(runWorkload('replay', log, { ...w, divergeAt: { thread: 2, iteration: 120 } }));
    assert.equal(e.code, 'ERR_DIVERGENCE');
    assert.equal(e.details.thread, 2);
    assert.equal(e.details.index, 120, 'one lock event per iteration, so iteration 120 is event 120');
    assert.match(String(e.details.expected), /^lock\(object 1, version \d+\)$/);
    assert.match(String(e.details.actual), /^try-acquire/);
    assert.match(e.message, /thread 2 at event 120/);
  });

  it('a main thread that spawns fewer threads fails on the main thread', async function () {
    const e = await rejects(runWorkload('replay', log, { ...w, threads: 2 }, { limits: { stallMsMax: 2000 } }));
    assert.equal(e.code, 'ERR_DIVERGENCE');
    assert.equal(e.details.thread, 0);
    assert.equal(e.details.index, 3, 'event 0 is the worker module\'s identity, events 1 and 2 the two spawns that did happen');
    assert.match(String(e.details.expected), /spawn\(thread 3\)/);
  });

  it('a worker that runs longer than recorded fails at the end of its log', async function () {
    const e = await rejects(runWorkload('replay', log, { ...w, ops: 301 }));
    assert.equal(e.code, 'ERR_DIVERGENCE');
    assert.equal(e.details.index, 300);
    assert.match(String(e.details.expected), /exit/);
  });

  it('a different workload fails at the first event', async function () {
    const e = await rejects(runWorkload('replay', log, { ...w, kind: 'semaphore' }));
    assert.equal(e.code, 'ERR_DIVERGENCE');
  });
});

describe('more threads than cores', function () {
  for (const kind of ['mutex', 'condition', 'rwlock', 'atomic']) {
    it(`8 threads on ${kind} replay without deadlock or starvation`, async function () {
      const w = { kind, threads: 8, ops: 1000 };
      const log = tempLog(`eight-${kind}`);
      const recorded = await runWorkload('record', log, w);
      const replayed = await runWorkload('replay', log, w);
      assert.deepEqual(replayed.order, recorded.order);
      assert.equal(replayed.result.digest, recorded.result.digest);
    });
  }
});

describe('replay progress', function () {
  it('reports every replayed event by the end ($LOCKSTEP_PROGRESS_FILE, for the CLI bar)', async function () {
    const { readFileSync } = await import('node:fs');
    const w = { kind: 'semaphore', threads: 3, ops: 700 };
    const log = tempLog('progress');
    const recorded = await runWorkload('record', log, w);
    const file = tempLog('progress-json');
    process.env.LOCKSTEP_PROGRESS_FILE = file;
    try {
      await runWorkload('replay', log, w);
    } finally {
      delete process.env.LOCKSTEP_PROGRESS_FILE;
    }
    const p = JSON.parse(readFileSync(file, 'utf8')) as { events: number; total: number };
    assert.equal(p.total, recorded.result.events);
    assert.equal(p.events, p.total, 'every recorded event, the end event included');
  });
});
