// Property tests of the log codec (fast-check): FlatBuffers encode → decode is the identity for
// headers and frames, and the framing detects every single-bit flip and every truncation.

import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { decodeFrame, decodeHeader, encodeFrame, encodeHeader, type FrameData } from '../engine/log/codec.js';
import { frame, scanFrame } from '../engine/log/frame.js';

const chunk = fc.record({
  thread: fc.nat({ max: 63 }),
  firstIndex: fc.nat({ max: 2 ** 40 }),
  events: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 200 })
    .map((xs) => Int32Array.from(xs.length % 2 ? xs.slice(1) : xs)),
  data: fc.uint8Array({ maxLength: 300 }),
  // FlatBuffers leaves out a field equal to its default, so -0 reads back as 0.
  time: fc.double({ noNaN: true }).map((x) => x + 0),
});

const frameData: fc.Arbitrary<FrameData> = fc.record({
  seq: fc.nat({ max: 2 ** 40 }),
  chunks: fc.array(chunk, { maxLength: 8 }),
  trailer: fc.option(fc.record({
    threadCount: fc.nat({ max: 1000 }),
    eventCount: fc.nat({ max: 2 ** 50 }),
    digest: fc.stringMatching(/^[0-9a-f]{64}$/),
    names: fc.array(fc.record({ name: fc.string(), kind: fc.string(), firstId: fc.nat(), count: fc.nat() }), { maxLength: 5 }),
    cutOff: fc.boolean(),
  }), { nil: null }),
});

const plain = (f: FrameData): unknown => ({
  ...f,
  trailer: f.trailer ? { ...f.trailer, names: f.trailer.names.map((n) => ({ ...n })) } : null,
  chunks: f.chunks.map((c) => ({ ...c, events: Array.from(c.events), data: Array.from(c.data) })),
});

describe('log codec', function () {
  it('frame encode → decode round-trips', function () {
    fc.assert(fc.property(frameData, (f) => {
      assert.deepEqual(plain(decodeFrame(encodeFrame(f))), plain(f));
    }), { numRuns: 300 });
  });

  it('header encode → decode round-trips', function () {
    fc.assert(fc.property(fc.record({
      formatVersion: fc.nat(),
      programPath: fc.string(),
      programHash: fc.stringMatching(/^[0-9a-f]*$/),
      args: fc.array(fc.string(), { maxLength: 5 }),
      threadsMax: fc.nat(),
      seed: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      nodeVersion: fc.string(),
      options: fc.json(),
    }), (h) => {
      assert.deepEqual(decodeHeader(encodeHeader(h)), { ...h });
    }), { numRuns: 300 });
  });

  it('framing finds every frame, and detects every single-bit flip and truncation', function () {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), (payload, pick) => {
      const framed = frame(payload);
      const ok = scanFrame(framed, 0, 1 << 20);
      assert.equal(ok.kind, 'frame');
      assert.deepEqual(ok.kind === 'frame' && Array.from(ok.payload), Array.from(payload));
      const flipped = framed.slice();
      const bit = pick % (framed.length * 8);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      assert.notEqual(scanFrame(flipped, 0, 1 << 20).kind, 'frame', `flip of bit ${bit} went unnoticed`);
      const cut = framed.subarray(0, pick % framed.length);
      const r = scanFrame(cut, 0, 1 << 20);
      assert.ok(r.kind === 'truncated' || (r.kind === 'end' && cut.length === 0), `cut at ${cut.length}: ${r.kind}`);
    }), { numRuns: 500 });
  });
});

describe('version floors (log format 3)', function () {
  it('the floor of each object is one past its largest version, whatever order threads ship in', async function () {
    const { VersionFloors } = await import('../engine/log/version_floors.js');
    const { Kind, head } = await import('../engine/event.js');
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 4 }), fc.integer(), fc.nat({ max: 2 })), { maxLength: 300 }), (ops) => {
      // A sequential execution: each object's versions count up from 0; each event goes to one of
      // three threads' chunks, so the chunks interleave versions as a frame of format 3 does.
      const versions = new Map<number, number>();
      const chunks: number[][] = [[], [], []];
      for (const [k, object, value, thread] of ops) {
        if (k === 0) chunks[thread]!.push(head(Kind.Value, object), value);
        else {
          const v = versions.get(object) ?? 0;
          versions.set(object, v + 1);
          chunks[thread]!.push(head(k === 1 ? Kind.Lock : k === 2 ? Kind.Recv : Kind.AtomicAdd, object + 1), v);
        }
      }
      const floors = new VersionFloors();
      for (const c of chunks) assert.ok(floors.note(Int32Array.from(c)));
      const out = new Int32Array(8);
      floors.versionsInto(out);
      for (let object = 0; object < 5; object++) assert.equal(out[object + 1], versions.get(object) ?? 0);
      assert.equal(floors.note(Int32Array.from([head(Kind.Lock, 1)])), false, 'a chunk that ends inside an event');
    }), { numRuns: 300 });
  });
});
