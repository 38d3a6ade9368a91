// For every sync object: a contended workload whose order-sensitive hash differs between runs in
// mode off (the nondeterminism is real), and whose every replay reproduces its recording's hash
// and digest exactly (rr's compare_test).

import { strict as assert } from 'node:assert';
import { distinct, runWorkload, tempLog } from './harness.js';

const workloads = [
  { kind: 'mutex', threads: 4, ops: 3000 },
  { kind: 'trylock', threads: 4, ops: 1500 },
  { kind: 'rwlock', threads: 4, ops: 2000 },
  { kind: 'semaphore', threads: 4, ops: 2000 },
  { kind: 'condition', threads: 4, ops: 1500 },
  { kind: 'barrier', threads: 4, ops: 200 },
  { kind: 'atomic', threads: 4, ops: 3000 },
  { kind: 'channel', threads: 4, ops: 1500 },
  { kind: 'poll', threads: 4, ops: 1500 },
];

describe('sync objects: record → replay → compare', function () {
  for (const w of workloads) {
    describe(w.kind, function () {
      it('is nondeterministic in mode off', async function () {
        const seen = await distinct(8, async () => (await runWorkload('off', undefined, w)).order);
        assert.ok(seen.size >= 2, `8 runs in mode off all gave the same interleaving for ${w.kind}`);
      });

      it('replays its recording exactly, twice', async function () {
        const log = tempLog(w.kind);
        const recorded = await runWorkload('record', log, w);
        assert.ok(recorded.result.events > w.ops, 'the recording holds events');
        for (let i = 0; i < 2; i++) {
          const replayed = await runWorkload('replay', log, w);
          assert.deepEqual(replayed.order, recorded.order, 'order-sensitive hashes');
          assert.equal(replayed.result.digest, recorded.result.digest, 'digest');
          assert.equal(replayed.result.recordedDigest, recorded.result.digest);
        }
      });
    });
  }
});
