// The seeded simulator (world.ts) over the production replication cores: a bounded number of
// schedules in `npm test`, millions in `npm run campaign:sim` (SIM_SCHEDULES). Each schedule is a
// pure function of its seed: SIM_SEED reruns a campaign, SIM_SCHEDULE one schedule with its trace.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { ROOT } from '../fixtures/cli/helpers.js';
import { campaign, traced, World, type Mutations } from './world.js';

const SEED = Number(process.env.SIM_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SCHEDULES = Number(process.env.SIM_SCHEDULES ?? 3000);

function explain(r: ReturnType<typeof campaign>): string {
  if (!r.failed) return '';
  return `schedule ${r.failed.seed} (SIM_SCHEDULE=${r.failed.seed} reruns it alone): ${r.failed.violation}\n` + r.failed.trace.slice(-60).join('\n');
}

describe('replication simulator (seeded, VOPR-like)', () => {
  if (process.env.SIM_SCHEDULE) {
    it(`schedule ${process.env.SIM_SCHEDULE} alone, traced`, () => {
      const r = traced(Number(process.env.SIM_SCHEDULE));
      console.log(r.trace.join('\n'));
      assert.equal(r.violation, null);
    });
  }

  it(`holds every invariant over ${SCHEDULES} schedules of crashes, partitions, resets, joins and a flaky arbiter`, function () {
    console.log(`      seed ${SEED} (SIM_SEED=${SEED} reruns it), ${SCHEDULES} schedules`);
    const started = process.hrtime.bigint();
    const r = campaign(SEED, SCHEDULES);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const kinds = [...r.outcomes].sort((x, y) => y[1] - x[1]).slice(0, 6).map(([k, n]) => `${k}: ${n}`).join('; ');
    console.log(`      ${r.ran} schedules in ${ms.toFixed(0)} ms; outcomes: ${kinds}`);
    assert.equal(r.failed, null, explain(r));
    // The schedules must reach the paths that matter, or the invariants hold vacuously.
    const seen = [...r.outcomes.keys()].join('|');
    if (SCHEDULES >= 1000) {
      assert.match(seen, /B live@/, 'no schedule cut over');
      assert.match(seen, /P alone@[2-9]/, 'no schedule had the primary win an epoch alone');
      assert.match(seen, /P stopped/, 'no schedule stopped a primary');
      assert.match(seen, /B\d ended|B\d live@/, 'no joining backup followed the primary');
    }
    // A joiner that later takes over is rarer (about 1 schedule in 400): required of campaigns only.
    if (SCHEDULES >= 50_000) assert.match(seen, /B\d live@/, 'no joining backup took over');
  });

  // Schedules that once found a bug in the cores, kept as regressions.
  const found: [number, string][] = [
    [284, 'a backup welcomed while the primary claimed the next epoch: winning, the primary ran alone (gate open) while that backup followed'],
    [572, 'the same race, reached another way'],
    [2587176293, 'a joiner\'s snapshot reached the sender before the cut\'s last frame, which the joiner was then sent and replayed twice'],
  ];
  for (const [seed, what] of found) {
    it(`schedule ${seed} holds: ${what}`, () => {
      const r = new World(seed).run();
      assert.equal(r.violation, null, `${r.violation}\n${traced(seed).trace.slice(-40).join('\n')}`);
    });
  }

  it('is a pure function of its seed', () => {
    for (let i = 0; i < 20; i++) {
      const a = new World(SEED + i).run();
      const b = new World(SEED + i).run();
      assert.deepEqual(a.trace, b.trace);
    }
  });

  // A checker that cannot fail proves nothing: each planted bug must be caught.
  const planted: [string, Mutations, RegExp][] = [
    ['a gate that releases an output one frame early', { gateOneEarly: true }, /before the backup acknowledged|lost at cutover/],
    ['a backup that acknowledges a frame it has not received', { ackAhead: true }, /acknowledged \d+ frames, received|after acknowledging/],
    ['a backup that goes live without winning the epoch', { cutoverUnclaimed: true }, /granted to|two nodes live/],
  ];
  for (const [what, m, why] of planted) {
    it(`catches ${what}`, () => {
      const r = campaign(SEED, 20_000, m);
      assert.ok(r.failed, `the planted bug went unnoticed over ${r.ran} schedules (seed ${SEED})`);
      assert.match(r.failed.violation!, why);
      console.log(`      caught after ${r.ran} schedules: ${r.failed.violation}`);
    });
  }

  it('drives pure cores: replication/core/ and what it imports touch no node:* module, clock, timer, randomness or Atomics.wait', () => {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(join(ROOT, file), 'utf8');
      for (const m of src.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)) {
        const spec = m[1]!;
        assert.ok(!spec.startsWith('node:') && spec.startsWith('.'), `${file} imports ${spec}`);
        visit(normalize(join(dirname(file), spec.replace(/\.js$/, '.ts'))));
      }
      // Code only: comments and the text of messages may name what the code must not use.
      const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, "''");
      for (const banned of ['Date.now', 'performance.', 'setTimeout', 'setInterval', 'Math.random', 'Atomics.', 'process.']) {
        assert.ok(!code.includes(banned), `${file} uses ${banned}`);
      }
    };
    const cores = readdirSync(join(ROOT, 'replication', 'core')).filter((f) => f.endsWith('.ts'));
    assert.deepEqual(cores.sort(), ['arbiter.ts', 'backup.ts', 'gate.ts', 'primary.ts']);
    for (const f of cores) visit(join('replication', 'core', f));
    assert.ok(seen.has(join('replication', 'heartbeat.ts')) && seen.has(join('engine', 'errors.ts')), [...seen].join(', '));
  });
});
