// Unauthenticated input is parsed by total functions (issue 10, items 8–10): the log channel's
// decoder and handshake parsers and the arbiter's request parser never throw, whatever the bytes,
// and a stranger's declared length is refused at its header. Pure: no sockets here (the live
// nodes are fuzzed in protocol_fuzz.test.ts).

import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { parseRequest } from '../replication/arbiter.js';
import { DropLog } from '../replication/preauth.js';
import { Msg, WireDecoder, encode, hexEqual, mac, macOk, parseChallenge, parseHello, parseRefused, parseWelcome, type Decoded } from '../replication/wire.js';

const seed = process.env.LOCKSTEP_WIRE_SEED ? Number(process.env.LOCKSTEP_WIRE_SEED) : Date.now() % 1_000_000;

/** Every message the decoder yields for `bytes` fed in `cuts`-sized chunks, and how it ended. */
function decodeAll(d: WireDecoder, bytes: Uint8Array, chunk: number): { messages: Decoded[]; last: Decoded['kind'] } {
  const messages: Decoded[] = [];
  let last: Decoded['kind'] = 'more';
  for (let at = 0; at < bytes.length && last !== 'bad'; at += chunk) {
    d.push(bytes.subarray(at, at + chunk));
    for (;;) {
      const r = d.next();
      last = r.kind;
      if (r.kind !== 'message') break;
      messages.push(r);
    }
  }
  return { messages, last };
}

describe('unauthenticated input: total parsers', function () {
  before(function () {
    console.log(`      seed ${seed} (LOCKSTEP_WIRE_SEED=${seed} reruns it)`);
  });

  it('a MAC of 64 characters that are not hex, or of another length, is false, never an exception', function () {
    const good = mac('s', 'hello', 'c', 'n');
    assert.equal(macOk('s', good, 'hello', 'c', 'n'), true);
    // 64 characters of which Buffer.from(…, 'hex') decodes fewer than 32 bytes: timingSafeEqual threw here.
    for (const bad of ['zz'.repeat(32), `${good.slice(0, 62)}zz`, good.slice(0, 63), `${good}00`, good.toUpperCase(), '', null, 7, {}, [good]]) {
      assert.equal(macOk('s', bad, 'hello', 'c', 'n'), false, `mac ${JSON.stringify(bad)}`);
      assert.equal(hexEqual(bad, good), false);
    }
  });

  it('handshake bodies of any shape parse to null (or a bounded reason), never an exception', function () {
    const shapes: unknown[] = [null, undefined, 0, 'x', [], [1], {}, { nonce: 5 }, { node: '', mac: 'a'.repeat(64), nonce: 'b'.repeat(32) },
      { node: 'n'.repeat(201), mac: 'a'.repeat(64), nonce: 'b'.repeat(32) }, { node: 'b', mac: 'a'.repeat(63), nonce: 'b'.repeat(32) },
      { mac: 'a'.repeat(64), epoch: -1, node: 'a' }, { mac: 'a'.repeat(64), epoch: 1.5, node: 'a' }, { why: 'w'.repeat(10_000) }];
    for (const body of shapes) {
      const validNonce = typeof body === 'object' && body !== null && (body as { nonce?: unknown }).nonce === 'b'.repeat(32);
      assert.equal(parseChallenge(body) === null, !validNonce);
      assert.equal(parseHello(body), null);
      assert.equal(parseWelcome(body), null);
      assert.ok(parseRefused(body).why.length <= 500);
    }
    assert.deepEqual(parseHello({ node: 'b', join: 1, mac: 'a'.repeat(64), nonce: 'b'.repeat(32) }), { node: 'b', join: false, mac: 'a'.repeat(64), nonce: 'b'.repeat(32) });
    fc.assert(fc.property(fc.anything(), (body) => {
      parseChallenge(body);
      parseHello(body);
      parseWelcome(body);
      parseRefused(body);
    }), { seed, numRuns: 500 });
  });

  it('the arbiter\'s request parser answers every line with fields or a reason: null, arrays, wrong types, garbage', function () {
    for (const line of ['null', '[]', '7', '"tas"', '{}', '{"op":"tas"}', '{"op":"tas","nonce":"x","mac":"y"}', '{', '', '\u0000\u00ff',
      '{"op":"tas","epoch":"1","node":"a","nonce":"' + 'a'.repeat(32) + '","mac":"m"}', '{"op":"tas","epoch":1,"node":7,"nonce":"' + 'a'.repeat(32) + '","mac":"m"}']) {
      assert.equal(typeof parseRequest(line), 'string', line);
    }
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), fc.anything().map((v) => { try { return JSON.stringify(v) ?? ''; } catch { return ''; } })), (line) => {
      const r = parseRequest(line);
      assert.ok(typeof r === 'string' || (r.op === 'tas' || r.op === 'get'));
    }), { seed, numRuns: 1000 });
  });

  it('a stranger\'s declared 1 GiB frame is refused when its 8-byte header arrives, before any of it is buffered', function () {
    const d = new WireDecoder(4096);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(1 << 30, 0);
    d.push(header.subarray(0, 5));
    assert.equal(d.next().kind, 'more');
    d.push(header.subarray(5));
    const r = d.next();
    assert.equal(r.kind, 'bad');
    assert.match((r as { why: string }).why, /1073741824 is impossible here \(at most 4096 bytes\)/);
  });

  it('messages arrive whole whatever the chunking (byte at a time included), and the limit can be raised after the handshake', function () {
    const big = new Uint8Array(10_000).map((_, i) => i & 0xff);
    const stream = Buffer.concat([encode(Msg.Challenge, { nonce: 'a'.repeat(32) }), encode(Msg.Log, big), encode(Msg.Heartbeat, {})]);
    for (const chunk of [1, 3, 8, 9, 4096, stream.length]) {
      const d = new WireDecoder(4096);
      d.push(stream.subarray(0, 1));
      // Pre-auth: the Log frame is over the limit.
      const pre = decodeAll(d, stream.subarray(1), chunk);
      assert.equal(pre.messages.length, 1, `chunk ${chunk}`);
      assert.equal(pre.last, 'bad');
      const post = new WireDecoder(4096);
      let got: Decoded[] = [];
      for (let at = 0; at < stream.length; at += chunk) {
        post.push(stream.subarray(at, at + chunk));
        for (let r = post.next(); r.kind !== 'more'; r = post.next()) {
          assert.equal(r.kind, 'message');
          got.push(r);
          // The handshake is done once the challenge is read: full-size messages from now on.
          post.bytesMax = 1 << 30;
        }
      }
      got = got.filter((m) => m.kind === 'message');
      assert.deepEqual(got.map((m) => (m as { message: { type: Msg } }).message.type), [Msg.Challenge, Msg.Log, Msg.Heartbeat], `chunk ${chunk}`);
      assert.deepEqual(Buffer.from((got[1] as { message: { body: Uint8Array } }).message.body), Buffer.from(big));
      assert.equal(post.pending, 0);
    }
  });

  it('random bytes, flipped bits and lying lengths end in \'bad\' or \'more\', never an exception', function () {
    const valid = encode(Msg.Hello, { node: 'b', join: false, mac: 'a'.repeat(64), nonce: 'b'.repeat(32) });
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
          const b = Uint8Array.from(valid);
          b[at]! ^= x;
          return b;
        }),
        fc.nat(valid.length).map((n) => valid.subarray(0, n)),
      ),
      fc.integer({ min: 1, max: 64 }),
      (bytes, chunk) => {
        const d = new WireDecoder(4096);
        decodeAll(d, bytes, chunk);
      },
    ), { seed, numRuns: 2000 });
  });

  it('a flood of drops is logged a line per interval with a count, not a line per drop', function () {
    const lines: string[] = [];
    let t = 0;
    const log = new DropLog((l) => lines.push(l), 1000, () => t);
    for (let i = 0; i < 500; i++) log.note(`dropped ${i}`);
    t = 1500;
    log.note('dropped last');
    assert.deepEqual(lines, ['dropped 0', 'dropped last (and 499 more since the last report)']);
  });
});
