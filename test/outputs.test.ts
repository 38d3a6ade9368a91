// Outputs: deterministic ids, part of the digest, checked in replay, delivered to sinks.

import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chainOutput } from '../engine/output_chain.js';
import { fileSink, start, type LockstepError } from '../runtime/index.js';
import { PROGRAM, tempLog } from './harness.js';

const tasks = new URL('./fixtures/tasks.js', import.meta.url);

async function run(mode: 'record' | 'replay', log: string, sinkFile: string, extra = 0) {
  const s = await start({ mode, log, program: PROGRAM, args: [] });
  s.shared('order', Int32Array, 1);
  s.mutex('m');
  s.onOutput(fileSink(sinkFile));
  const seen: string[] = [];
  s.onOutput((o) => seen.push(o.id));
  s.output('main', { hello: 'world' });
  const pool = s.pool(tasks, { workers: 2 });
  await pool.map([{ n: 5, spin: 10 }, { n: 5, spin: 10 }, { n: 5, spin: 10 }]);
  if (extra) s.output('main', { extra });
  const result = await s.finish();
  return { seen: seen.sort(), digest: result.digest };
}

describe('outputs', function () {
  it('have deterministic ids, reach file sinks, and replay identically', async function () {
    const log = tempLog('outputs');
    const a = tempLog('sink-a');
    const b = tempLog('sink-b');
    const recorded = await run('record', log, a);
    const replayed = await run('replay', log, b);
    assert.deepEqual(replayed.seen, recorded.seen);
    assert.ok(recorded.seen.includes('0:0'), 'the main thread\'s first output is 0:0');
    assert.equal(recorded.seen.length, 4);
    assert.equal(replayed.digest, recorded.digest);
    const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l).id).sort();
    await new Promise((r) => setTimeout(r, 50)); // the file streams flush asynchronously
    assert.deepEqual(lines(b), lines(a));
  });

  it('an equal value held differently by the engine is not a divergence (a holey array is serialised sparse)', async function () {
    // The same value, [1, 2, 3], packed in record and holey in replay: v8 writes the two in
    // different bytes. Replay must compare values, and chain the recorded bytes into the digest.
    const holey = (): number[] => {
      const xs = new Array<number>(3);
      for (let i = 0; i < 3; i++) xs[i] = i + 1;
      return xs;
    };
    const { serialize } = await import('node:v8');
    assert.notDeepEqual(serialize(holey()), serialize([1, 2, 3]), 'this v8 writes holey and packed arrays alike: the test shows nothing');
    const once = async (mode: 'record' | 'replay', log: string, value: number[]) => {
      const s = await start({ mode, log, program: PROGRAM, args: [] });
      s.output('main', { terms: value });
      return (await s.finish()).digest;
    };
    const log = tempLog('outputs-holey');
    const recorded = await once('record', log, [1, 2, 3]);
    assert.equal(await once('replay', log, holey()), recorded);
    await assert.rejects(once('replay', log, [1, 2, 4]), (e: LockstepError) => e.code === 'ERR_DIVERGENCE');
  });

  it('an output the recording did not have is a divergence', async function () {
    const log = tempLog('outputs-extra');
    await run('record', log, tempLog('sink-c'));
    await assert.rejects(run('replay', log, tempLog('sink-d'), 1), (e: LockstepError) => e.code === 'ERR_DIVERGENCE');
  });

  it('chain as SHA-256 of the previous chain, the id and the payload, as a Hash object fed them one by one did (logs recorded before stay replayable)', function () {
    const seed = 20261201;
    console.log(`      output chain seed ${seed}`);
    let x = seed;
    const byte = (): number => ((x = (Math.imul(x, 1103515245) + 12345) | 0) >>> 24);
    const a = new Int32Array(new SharedArrayBuffer(64));
    const slot = 4;
    for (const [id, length] of [['0:0', 0], ['1:7', 13], ['12:345', 1000], ['3:é→😀', 70], ['2:99', 5000]] as const) {
      const payload = Uint8Array.from({ length }, byte);
      const previous = Buffer.from(a.slice(slot, slot + 8).buffer);
      const expected = createHash('sha256').update(previous).update(id).update(payload).digest();
      chainOutput(a, slot, id, payload, false);
      assert.deepEqual(Buffer.from(a.slice(slot, slot + 8).buffer), expected, `output ${id}, ${length} payload bytes`);
      assert.deepEqual([...a.slice(0, slot), ...a.slice(slot + 8)], new Array(8).fill(0), 'only the chain\'s 8 words change');
    }
  });
});
