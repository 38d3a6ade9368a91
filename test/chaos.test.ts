// Chaos recording: the decision core is a pure function of (seed, thread, what it saw); a chaos
// recording of every sync object replays exactly, with no chaos in replay (rr's compare_test);
// and chaos really changes the schedule. Seed: $CHAOS_TEST_SEED (printed).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { ChaosCore, Step, parseChaos } from '../engine/chaos.js';
import { distinct, runWorkload, tempLog } from './harness.js';

const seed = BigInt(process.env.CHAOS_TEST_SEED ?? Math.floor(Math.random() * 2 ** 32));

const parse = (s: number | bigint | string): bigint => BigInt(s);

describe('chaos recording', function () {
  before(() => console.log(`      chaos seed ${seed} (CHAOS_TEST_SEED=${seed} repeats it)`));

  describe('decision core', function () {
    const steps = (core: ChaosCore, n: number): string => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const s = core.next(i % 7 === 0);
        out.push(s === Step.None ? '-' : `${s}:${core.amount.toFixed(3)}:${core.ticks}`);
      }
      return out.join(' ');
    };

    it('is a function of the seed and the thread', function () {
      const options = { seed, strength: 0.5 };
      assert.equal(steps(new ChaosCore(options, 1), 500), steps(new ChaosCore(options, 1), 500));
      assert.notEqual(steps(new ChaosCore(options, 1), 500), steps(new ChaosCore(options, 2), 500), 'threads get their own streams');
      assert.notEqual(steps(new ChaosCore(options, 1), 500), steps(new ChaosCore({ seed: seed + 1n, strength: 0.5 }, 1), 500));
    });

    it('perturbs more at a higher strength, and holds nothing back while a thread is alone', function () {
      const count = (strength: number): number => {
        const core = new ChaosCore({ seed, strength }, 3);
        let held = 0;
        for (let i = 0; i < 2000; i++) if (core.next(false) !== Step.None) held++;
        return held;
      };
      assert.ok(count(1) > count(0.1), `strength 1 gave ${count(1)} steps, 0.1 gave ${count(0.1)}`);
      const core = new ChaosCore({ seed, strength: 1 }, 1);
      core.next(false);
      core.timedOut();
      for (let i = 0; i < 10; i++) assert.notEqual(core.next(false), Step.HoldBack, 'no hold-back right after one timed out');
    });

    it('parses start({ chaos }) and $LOCKSTEP_CHAOS forms', function () {
      assert.equal(parseChaos(undefined, 9n, parse), null);
      assert.equal(parseChaos(false, 9n, parse), null);
      assert.deepEqual(parseChaos(true, 9n, parse), { seed: 9n, strength: 0.5 });
      assert.deepEqual(parseChaos('on', 9n, parse), { seed: 9n, strength: 0.5 });
      assert.deepEqual(parseChaos('42:0.8', 9n, parse), { seed: 42n, strength: 0.8 });
      assert.deepEqual(parseChaos({ strength: 1 }, 9n, parse), { seed: 9n, strength: 1 });
      assert.throws(() => parseChaos('1:0', 9n, parse), /strength/);
      assert.throws(() => parseChaos({ strength: 2 }, 9n, parse), /strength/);
    });
  });

  describe('a chaos recording replays exactly, without chaos', function () {
    for (const kind of ['mutex', 'trylock', 'rwlock', 'semaphore', 'condition', 'barrier', 'atomic', 'channel', 'poll']) {
      it(kind, async function () {
        const w = { kind, threads: 4, ops: kind === 'barrier' ? 40 : 200 }; // 4: producers and consumers pair up
        const log = tempLog(`chaos-${kind}`);
        const recorded = await runWorkload('record', log, w, { chaos: { seed, strength: 1 } });
        const replayed = await runWorkload('replay', log, w);
        assert.deepEqual(replayed.order, recorded.order, 'order-sensitive hashes');
        assert.equal(replayed.result.digest, recorded.result.digest, 'digest');
      });
    }
  });

  it('changes the schedule from seed to seed', async function () {
    const w = { kind: 'mutex', threads: 3, ops: 200 };
    let k = 0n;
    const seen = await distinct(6, async () => (await runWorkload('record', tempLog('chaos-seeds'), w, { chaos: { seed: seed + k++, strength: 1 } })).order);
    assert.ok(seen.size >= 2, '6 chaos seeds all recorded the same interleaving');
  });

  it('lockstep record --chaos=seed --chaos-strength: the log says so and verifies (replay without chaos)', function () {
    const cli = new URL('../cli/main.js', import.meta.url).pathname;
    const program = new URL('../examples/bugs/check_then_act.js', import.meta.url).pathname;
    const log = tempLog('chaos-cli');
    const rec = spawnSync(process.execPath, [cli, 'record', `--chaos=${seed}`, '--chaos-strength', '1', '-o', log, '--', program], { encoding: 'utf8' });
    // check_then_act may fail under chaos (exit 4): either way its log is there and replays.
    assert.ok(rec.status === 0 || rec.status === 4, rec.stderr);
    assert.match(rec.stdout, new RegExp(`chaos\\s+seed ${seed}, strength 1`));
    const replay = spawnSync(process.execPath, [cli, 'replay', log], { encoding: 'utf8' });
    assert.equal(replay.status, rec.status, replay.stderr);
    const bad = spawnSync(process.execPath, [cli, 'record', '--chaos', '--chaos-strength', '2', '--', program], { encoding: 'utf8' });
    assert.equal(bad.status, 2, bad.stderr);
    // `--chaos=abc` is a bad seed, not a missing program named abc (the value was given with =).
    const badSeed = spawnSync(process.execPath, [cli, 'record', '--chaos=abc', '--json', '--', program], { encoding: 'utf8' });
    assert.equal(badSeed.status, 2, badSeed.stderr);
    assert.match(badSeed.stderr, /--chaos takes a seed, an integer from 0 to 2\^64-1, got "abc"/);
    assert.equal((JSON.parse(badSeed.stdout) as { code: string }).code, 'ERR_USAGE');
  });

  it('refuses a strength outside (0, 1]', async function () {
    await assert.rejects(runWorkload('record', tempLog('chaos-bad'), { kind: 'mutex', threads: 1, ops: 1 }, { chaos: { strength: 3 } }),
      (e: Error & { code?: string }) => e.code === 'ERR_USAGE' && /strength/.test(e.message));
  });
});
