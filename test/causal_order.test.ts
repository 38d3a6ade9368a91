// The drain's ordering core, driven without threads: seeded simulated executions whose events
// reach the drain in random amounts per thread. Everything must ship, and versions of every
// object must ship in order (each shipped prefix a consistent cut).

import { strict as assert } from 'node:assert';
import { CausalOrder } from '../recorder/causal_order.js';
import { Kind, head, isOrdered, kindOf, objectOf, hasPayload, payloadWords } from '../engine/event.js';
import { prng } from './prng.js';

describe('causal order (pure core)', function () {
  const base = Number(process.env.CAUSAL_SEED ?? Math.floor(Math.random() * 2 ** 31));
  it(`ships everything, in version order per object (seeds ${base}…${base + 199})`, function () {
    for (let run = 0; run < 200; run++) {
      const seed = base + run;
      const r = prng(seed);
      const threads = 1 + Math.floor(r() * 6);
      const objects = 1 + Math.floor(r() * 5);
      const versions = new Int32Array(objects + 1);
      const streams: number[][] = Array.from({ length: threads }, () => []);
      // A sequential execution: each step, one thread takes the next version of some object,
      // or records a value with a payload.
      for (let step = 0; step < 300; step++) {
        const t = Math.floor(r() * threads);
        if (r() < 0.2) {
          const bytes = Math.floor(r() * 9);
          streams[t]!.push(head(Kind.Value, 1), bytes, ...new Array(payloadWords(bytes)).fill(7));
        } else {
          const o = 1 + Math.floor(r() * objects);
          streams[t]!.push(head(Kind.Lock, o), versions[o]!++);
        }
      }
      // The drain sees each thread's stream published a random number of whole events at a time.
      const order = new CausalOrder(objects);
      const published = new Array<number>(threads).fill(0);
      const taken = new Array<number>(threads).fill(0);
      const shipped = new Int32Array(objects + 1);
      const counted = { events: 0 };
      const size = (s: number[], p: number): number => 2 + (hasPayload(kindOf(s[p]!)) ? payloadWords(s[p + 1]!) : 0);
      for (let guard = 0; taken.some((x, t) => x < streams[t]!.length); guard++) {
        assert.ok(guard < 100_000, `seed ${seed}: the drain made no progress`);
        const t = Math.floor(r() * threads);
        for (let k = Math.floor(r() * 4); k > 0 && published[t]! < streams[t]!.length; k--) {
          published[t]! += size(streams[t]!, published[t]!);
        }
        for (let u = 0; u < threads; u++) {
          const s = streams[u]!;
          const end = order.readyPrefix({ word: (i) => s[i]! }, taken[u]!, published[u]!, counted);
          for (let q = taken[u]!; q < end; q += size(s, q)) {
            const h = s[q]!;
            if (!isOrdered(kindOf(h))) continue;
            assert.equal(s[q + 1], shipped[objectOf(h)], `seed ${seed}: object ${objectOf(h)} shipped out of order`);
            shipped[objectOf(h)]!++;
          }
          taken[u] = end;
        }
      }
      assert.deepEqual(Array.from(shipped), Array.from(versions), `seed ${seed}: every version shipped`);
    }
  });
});
