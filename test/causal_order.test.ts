// The drain's ordering core, driven without threads: seeded simulated executions whose events
// reach the drain in random amounts per thread (a payload event's header sometimes published
// before its payload). Everything must ship, versions of every object must ship in order (each
// shipped prefix a consistent cut), and what the step copies into a chunk is the events as
// published, payload bytes apart. The step is the drain's own (CausalOrder.take), not a copy.

import { strict as assert } from 'node:assert';
import { CausalOrder, type Taken } from '../recorder/causal_order.js';
import { ChunkBuilder } from '../recorder/chunk_builder.js';
import { Kind, head, isOrdered, kindOf, objectOf, hasPayload, payloadWords } from '../engine/event.js';
import { prng } from './prng.js';

describe('causal order (pure core)', function () {
  const base = Number(process.env.CAUSAL_SEED ?? Math.floor(Math.random() * 2 ** 31));
  it(`ships everything, in version order per object, copied whole (seeds ${base}…${base + 199}; CAUSAL_SEED reruns)`, function () {
    for (let run = 0; run < 200; run++) {
      const seed = base + run;
      const r = prng(seed);
      const threads = 1 + Math.floor(r() * 6);
      const objects = 1 + Math.floor(r() * 5);
      const versions = new Int32Array(objects + 1);
      const streams: number[][] = Array.from({ length: threads }, () => []);
      /** Per thread, the payload bytes its events carry, in order. */
      const payloads: number[][] = Array.from({ length: threads }, () => []);
      // A sequential execution: each step, one thread takes the next version of some object,
      // or records a value or an output with a payload.
      for (let step = 0; step < 300; step++) {
        const t = Math.floor(r() * threads);
        if (r() < 0.2) {
          const bytes = Math.floor(r() * 9);
          const body = Array.from({ length: bytes }, () => Math.floor(r() * 256));
          const words = new Int32Array(payloadWords(bytes));
          new Uint8Array(words.buffer).set(body);
          streams[t]!.push(head(r() < 0.5 ? Kind.Value : Kind.Output, 1), bytes, ...words);
          payloads[t]!.push(...body);
        } else {
          const o = 1 + Math.floor(r() * objects);
          streams[t]!.push(head(Kind.Lock, o), versions[o]!++);
        }
      }
      // The drain sees each thread's stream published a random number of whole events at a time.
      const order = new CausalOrder(objects);
      const published = new Array<number>(threads).fill(0);
      const from = new Array<number>(threads).fill(0);
      const shipped = new Int32Array(objects + 1);
      const chunks = Array.from({ length: threads }, () => new ChunkBuilder());
      const outputs = new Array<number>(threads).fill(0);
      const taken: Taken = { events: 0, outputs: 0, endAt: -1, endBytes: 0 };
      const size = (s: number[], p: number): number => 2 + (hasPayload(kindOf(s[p]!)) ? payloadWords(s[p + 1]!) : 0);
      for (let guard = 0; from.some((x, t) => x < streams[t]!.length); guard++) {
        assert.ok(guard < 100_000, `seed ${seed}: the drain made no progress`);
        const t = Math.floor(r() * threads);
        for (let k = Math.floor(r() * 4); k > 0 && published[t]! < streams[t]!.length; k--) {
          published[t]! += size(streams[t]!, published[t]!);
        }
        // Sometimes the next payload event's header is visible before its payload: not taken yet.
        const next = streams[t]![published[t]!];
        const half = next !== undefined && hasPayload(kindOf(next)) && streams[t]![published[t]! + 1]! > 0 && r() < 0.3 ? 2 : 0;
        for (let u = 0; u < threads; u++) {
          const s = streams[u]!;
          const b = chunks[u]!;
          const w0 = b.wordsUsed;
          const end = order.take({ word: (i) => s[i]! }, from[u]!, published[u]! + (u === t ? half : 0), b, taken);
          assert.ok(end <= published[u]!, `seed ${seed}: took a payload not wholly published`);
          let events = 0;
          let outs = 0;
          for (let q = from[u]!; q < end; q += size(s, q), events++) {
            const h = s[q]!;
            assert.deepEqual([b.words[w0 + 2 * events], b.words[w0 + 2 * events + 1]], [h, s[q + 1]], `seed ${seed}: an event copied wrong`);
            if (kindOf(h) === Kind.Output) outs++;
            if (!isOrdered(kindOf(h))) continue;
            assert.equal(s[q + 1], shipped[objectOf(h)], `seed ${seed}: object ${objectOf(h)} shipped out of order`);
            shipped[objectOf(h)]!++;
          }
          assert.equal(taken.events, events, `seed ${seed}: events counted`);
          assert.equal(taken.outputs, outs, `seed ${seed}: outputs counted`);
          outputs[u]! += outs;
          from[u] = end;
        }
      }
      assert.deepEqual(Array.from(shipped), Array.from(versions), `seed ${seed}: every version shipped`);
      for (let u = 0; u < threads; u++) {
        assert.deepEqual(Array.from(chunks[u]!.bytes.subarray(0, chunks[u]!.bytesUsed)), payloads[u], `seed ${seed}: thread ${u}'s payload bytes`);
      }
    }
  });

  it('reports where an End event\'s payload (the digest) lies', function () {
    const digest = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const words = new Int32Array(3);
    new Uint8Array(words.buffer).set(digest);
    const s = [head(Kind.Lock, 1), 0, head(Kind.Value, 1), 1, 0x55, head(Kind.End, 0), digest.length, ...words];
    const b = new ChunkBuilder();
    const taken: Taken = { events: 0, outputs: 0, endAt: -1, endBytes: 0 };
    const end = new CausalOrder(1).take({ word: (i) => s[i]! }, 0, s.length, b, taken);
    assert.equal(end, s.length);
    assert.equal(taken.events, 3);
    assert.deepEqual(Array.from(b.bytes.subarray(taken.endAt, taken.endAt + taken.endBytes)), digest);
  });
});
