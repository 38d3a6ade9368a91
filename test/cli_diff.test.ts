// `lockstep diff` as a subprocess: two recordings of the racy bank differ; a recording and itself
// do not; and on handoff.js, whose order is decided by the seed rather than by timing, the first
// difference is found at a known object and version, and same-parity seeds give no difference.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DiffReport } from '../cli/first_difference.js';
import type { InspectReport } from '../cli/log_stats.js';
import { BANK, BANK_ENV, HANDOFF, lines, lockstep, tempDir } from './fixtures/cli/helpers.js';

describe('lockstep diff', function () {
  const dir = tempDir();
  const log = (name: string): string => join(dir, `${name}.lsl`);

  before(async function () {
    const runs = await Promise.all([
      lockstep(['record', '-o', log('bank-a'), BANK], BANK_ENV),
      lockstep(['record', '-o', log('bank-b'), BANK], BANK_ENV),
      // The event indices checked below are exact: no checkpoint cuts in these (recorder/checkpoint.ts)…
      lockstep(['record', '-o', log('handoff-2'), '--seed', '2', HANDOFF], { LOCKSTEP_CHECKPOINT_MS: '0' }),
      lockstep(['record', '-o', log('handoff-3'), '--seed', '3', HANDOFF], { LOCKSTEP_CHECKPOINT_MS: '0' }),
      // …but many in this one: where cuts fall is timing, not a difference.
      lockstep(['record', '-o', log('handoff-4'), '--seed', '4', HANDOFF], { LOCKSTEP_CHECKPOINT_MS: '1' }),
    ]);
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
  });

  it('finds where two recordings of the bank differ: exit 1', async function () {
    const r = await lockstep(['diff', log('bank-a'), log('bank-b')]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, new RegExp(`^${log('bank-a')} and ${log('bank-b')} differ$`, 'm'));
    // The tellers draw unseeded random numbers, so a teller's first random value differs.
    assert.match(r.stdout, /^first difference: thread [1-4], event \d+: the same event saw different data \(value\)$/m);
    assert.match(r.stdout, new RegExp(`^ {2}${log('bank-a')}: value\\(random\\) = 0\\.\\d+`, 'm'));
    assert.match(r.stdout, new RegExp(`^ {2}${log('bank-b')}: value\\(random\\) = 0\\.\\d+`, 'm'));
    assert.match(r.stdout, /^threads that differ: \d of 5$/m);
  });

  it('reports no difference between a recording and itself: exit 0', async function () {
    const r = await lockstep(['diff', log('bank-a'), log('bank-a')]);
    assert.equal(r.code, 0, r.stderr);
    const { run } = JSON.parse((await lockstep(['inspect', '--json', log('bank-a')])).stdout) as InspectReport;
    assert.deepEqual(lines(r.stdout), [
      `no difference: ${log('bank-a')} and ${log('bank-a')} took the same path ` +
        `(${run.events.toLocaleString('en-US')} events in 5 threads, same order, same values, digest ${run.digest.slice(0, 16)}…)`,
    ]);
  });

  it('names the object, version and threads where a race went the other way', async function () {
    const ids = JSON.parse((await lockstep(['inspect', '--json', log('handoff-2')])).stdout) as InspectReport;
    const id = (type: string): number => ids.objects.find((o) => o.type === type)!.object;

    const r = await lockstep(['diff', '--json', log('handoff-2'), log('handoff-3')]);
    assert.equal(r.code, 1, r.stderr);
    const d = JSON.parse(r.stdout) as DiffReport;
    assert.equal(d.identical, false);
    assert.equal(d.sameProgram, true);
    // Seed 2 lets thread 1 go first, seed 3 thread 2: the semaphore thread 1 never waits on with
    // seed 2 is the earliest object whose version 0 went to another thread.
    assert.deepEqual(
      { kind: d.first!.kind, object: d.first!.object, version: d.first!.version, a: d.first!.a!.thread, b: d.first!.b!.thread },
      { kind: 'order', object: id('semaphore'), version: 0, a: 2, b: 1 },
    );
    assert.equal(d.first!.a!.text, `semaphore-acquire(object ${id('semaphore')}, version 0)`);
    const mutex = d.objects.find((o) => o.object === id('mutex'))!;
    assert.deepEqual({ version: mutex.version, a: mutex.a!.thread, b: mutex.b!.thread }, { version: 0, a: 1, b: 2 });
    assert.deepEqual(d.threads.map((t) => t.firstDifference), [5, 0, 0]); // main: after the worker module's identity and its spawns

    const human = await lockstep(['diff', log('handoff-2'), log('handoff-3')]);
    assert.equal(human.code, 1);
    assert.match(human.stdout, new RegExp(`^first difference: object ${id('semaphore')}, version 0 was taken by different threads \\(order\\)$`, 'm'));
    assert.match(human.stdout, new RegExp(`^ {2}${log('handoff-2')}: thread 2 took it at its event 0: semaphore-acquire`, 'm'));
    assert.match(human.stdout, new RegExp(`^ {2}${log('handoff-3')}: thread 1 took it at its event 0: semaphore-acquire`, 'm'));
    assert.match(human.stdout, /^objects taken in a different order: 3$/m);
  });

  it('two separate recordings that took the same path have no difference', async function () {
    const r = await lockstep(['diff', log('handoff-2'), log('handoff-4')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^no difference: /);
  });

  it('says when the logs are of different programs', async function () {
    const r = await lockstep(['diff', log('handoff-2'), log('bank-a')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^note: the logs are of different programs/);
    assert.match(r.stdout, /^first difference: thread 0, event 0: the threads did different things \(path\)$/m);
  });
});
