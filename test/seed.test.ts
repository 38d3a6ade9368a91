// Issue 10, item 6: an explicit seed makes every recorded random source repeat, per logical
// thread (random(), Math.random, randomBytes, getRandomValues, randomUUID); without one a fresh
// seed is drawn and logged; replay takes the values from the log either way.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { start, LockstepError, type Output, type StartOptions } from '../runtime/index.js';
import { draws } from './fixtures/random_sources.js';
import { tempLog } from './harness.js';

const PROGRAM = fileURLToPath(import.meta.url);
const WORKER = new URL('./fixtures/random_draws.js', import.meta.url);

/** Runs main + 3 workers; returns each thread's draws by thread id, and the run's seed. */
async function run(options: StartOptions): Promise<{ seed: bigint; byThread: Map<number, string> }> {
  const session = await start({ program: PROGRAM, args: [], ...options });
  const byThread = new Map<number, string>();
  session.onOutput((o: Output) => byThread.set(o.thread, JSON.stringify(o.value)));
  session.output('draws', draws(session));
  const { exited } = session.spawn(WORKER, { count: 3 });
  const exits = await exited;
  assert.ok(exits.every((x) => x.ok), JSON.stringify(exits));
  await session.finish();
  return { seed: session.seed, byThread };
}

describe('seeded random values (issue 10 item 6)', function () {
  it('two recordings with the same seed see the same values in every thread; replay reproduces them', async function () {
    const a = await run({ mode: 'record', log: tempLog('seed-a'), seed: 7n });
    const b = await run({ mode: 'record', log: tempLog('seed-b'), seed: 7n });
    assert.equal(a.byThread.size, 4);
    assert.deepEqual([...b.byThread].sort(), [...a.byThread].sort());
    // Threads do not share one stream: each thread's values are its own.
    assert.equal(new Set(a.byThread.values()).size, 4);
    const other = await run({ mode: 'record', log: tempLog('seed-c'), seed: 8n });
    assert.notDeepEqual([...other.byThread].sort(), [...a.byThread].sort());
  });

  it('replay of a seeded recording takes the values from the log', async function () {
    const log = tempLog('seed-replay');
    const recorded = await run({ mode: 'record', log, seed: 12345678901234567890n });
    const replayed = await run({ mode: 'replay', log });
    assert.equal(replayed.seed, 12345678901234567890n);
    assert.deepEqual([...replayed.byThread].sort(), [...recorded.byThread].sort());
  });

  it('without a seed, two recordings differ, and the drawn seed is logged', async function () {
    const log = tempLog('unseeded');
    const a = await run({ mode: 'record', log });
    const b = await run({ mode: 'record', log: tempLog('unseeded-b') });
    assert.notDeepEqual([...a.byThread].sort(), [...b.byThread].sort());
    const replayed = await run({ mode: 'replay', log });
    assert.equal(replayed.seed, a.seed);
    assert.deepEqual([...replayed.byThread].sort(), [...a.byThread].sort());
  });

  it('a negative, fractional or too large seed is ERR_USAGE, never wrapped', async function () {
    for (const seed of [-1, 1.5, 2n ** 64n, -1n]) {
      await assert.rejects(start({ mode: 'off', seed }), (e: unknown) => e instanceof LockstepError && e.code === 'ERR_USAGE', String(seed));
    }
  });
});
