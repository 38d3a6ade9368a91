// Bad logs: flipped bits, truncation at many offsets, a wrong format version, a wrong program,
// a file that is not a log, and a log whose framing is valid but whose content lies. Each gives
// its typed error (never a hang, never a bare crash).

import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { LockstepError, readLog } from '../runtime/index.js';
import { PREAMBLE_BYTES } from '../engine/log/format.js';
import { frame, scanFrame } from '../engine/log/frame.js';
import { decodeFrame, encodeFrame, type ChunkData, type FrameData } from '../engine/log/codec.js';
import { Kind, kindOf } from '../engine/event.js';
import { runWorkload, tempLog } from './harness.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof LockstepError, `expected a LockstepError, got ${(e as Error)?.stack ?? e}`);
    assert.ok(!e.message.includes('\n'), 'one-line message');
    return e.code;
  }
  return 'OK';
}

describe('bad logs', function () {
  const w = { kind: 'mutex', threads: 3, ops: 200 };
  const log = tempLog('good');
  let good: Uint8Array;
  before(async function () {
    await runWorkload('record', log, w);
    good = new Uint8Array(readFileSync(log)); // a plain copy: Buffer.slice would alias it
  });

  it('the good log reads', function () {
    assert.equal(codeOf(() => readLog(log)), 'OK');
  });

  it('truncation at every offset is ERR_LOG_TRUNCATED', function () {
    const bad = tempLog('truncated');
    const step = Math.max(1, Math.floor(good.length / 400));
    for (let n = 0; n < good.length; n += n < 64 ? 1 : step) {
      writeFileSync(bad, good.subarray(0, n));
      assert.equal(codeOf(() => readLog(bad)), 'ERR_LOG_TRUNCATED', `truncated to ${n} of ${good.length} bytes`);
    }
  });

  it('a flipped bit anywhere gives a typed error', function () {
    const bad = tempLog('flipped');
    const step = Math.max(1, Math.floor(good.length / 500));
    for (let at = 0; at < good.length; at += at < 64 ? 1 : step) {
      const copy = good.slice();
      copy[at]! ^= 1 << (at % 8);
      writeFileSync(bad, copy);
      const code = codeOf(() => readLog(bad));
      const expected = at < 8 ? ['ERR_NOT_A_LOG'] : at < PREAMBLE_BYTES ? ['ERR_LOG_VERSION'] : ['ERR_LOG_CORRUPT', 'ERR_LOG_TRUNCATED'];
      assert.ok(expected.includes(code), `bit flipped at byte ${at}: got ${code}, expected ${expected.join(' or ')}`);
    }
  });

  it('an unknown format version is ERR_LOG_VERSION', function () {
    const bad = tempLog('version');
    const copy = good.slice();
    new DataView(copy.buffer).setUint32(8, 99, true);
    writeFileSync(bad, copy);
    assert.equal(codeOf(() => readLog(bad)), 'ERR_LOG_VERSION');
  });

  it('a file that is not a log is ERR_NOT_A_LOG', function () {
    const bad = tempLog('text');
    writeFileSync(bad, 'hello, this is not a lockstep log\n');
    assert.equal(codeOf(() => readLog(bad)), 'ERR_NOT_A_LOG');
  });

  it('a missing file is a usage error', function () {
    assert.equal(codeOf(() => readLog('/nonexistent/run.lsl')), 'ERR_USAGE');
  });

  it('replaying with another program is ERR_WRONG_PROGRAM', async function () {
    await assert.rejects(
      runWorkload('replay', log, w, { program: new URL(import.meta.url).pathname }),
      (e: LockstepError) => e.code === 'ERR_WRONG_PROGRAM' && /recorded from/.test(e.message),
    );
  });

  it('replaying a corrupt log fails at start with its typed error', async function () {
    const bad = tempLog('corrupt-replay');
    const copy = good.slice();
    copy[copy.length - 20]! ^= 0xff;
    writeFileSync(bad, copy);
    await assert.rejects(runWorkload('replay', bad, w), (e: LockstepError) => e.code === 'ERR_LOG_CORRUPT');
  });

  /** Re-encodes the log after `lie` rewrites its chunks (two words per event, shipping order). */
  function rewrite(lie: (chunks: ChunkData[]) => void): string {
    const out: Uint8Array[] = [good.subarray(0, PREAMBLE_BYTES)];
    const frames: FrameData[] = [];
    let offset = PREAMBLE_BYTES;
    for (let first = true; ; first = false) {
      const r = scanFrame(good, offset, 1 << 26);
      if (r.kind !== 'frame') break;
      if (first) out.push(good.subarray(offset, r.next));
      else frames.push(decodeFrame(r.payload));
      offset = r.next;
    }
    const chunks = frames.flatMap((f) => f.chunks);
    lie(chunks);
    // Keep each thread's event numbering continuous, so the lie is in the content, not the framing.
    const next = new Map<number, number>();
    for (const c of chunks) {
      c.firstIndex = next.get(c.thread) ?? 0;
      next.set(c.thread, c.firstIndex + c.events.length / 2);
    }
    // And the trailer's event count true to the streams (readLog checks it).
    const trailer = { ...frames.at(-1)!.trailer!, eventCount: [...next.values()].reduce((x, y) => x + y, 0) };
    out.push(frame(encodeFrame({ seq: 0, chunks, trailer })));
    const bad = tempLog('lying');
    writeFileSync(bad, Buffer.concat(out));
    return bad;
  }

  /**
   * The thread's first lock event: its chunk and word. Not simply in the thread's first chunk: a
   * drain that shipped right after the thread started leaves that chunk with its start alone, and
   * a lie looked for there (at index -1) changed nothing, so the replay rightly succeeded.
   */
  function firstLock(chunks: ChunkData[], thread: number): { c: ChunkData; p: number } {
    for (const c of chunks) {
      if (c.thread !== thread) continue;
      const p = Array.from(c.events).findIndex((h, i) => i % 2 === 0 && kindOf(h) === Kind.Lock);
      if (p >= 0) return { c, p };
    }
    throw new Error(`thread ${thread} recorded no lock: the lie has nothing to change`);
  }

  const lies: [string, (chunks: ChunkData[]) => void][] = [
    ['an extra lock in thread 1 takes a version twice', (chunks) => {
      const { c, p } = firstLock(chunks, 1);
      c.events = Int32Array.from([...c.events.subarray(0, p + 2), ...c.events.subarray(p)]);
    }],
    ["thread 2's exit code changed", (chunks) => {
      const c = chunks.filter((x) => x.thread === 2).at(-1)!;
      const p = Array.from(c.events).findIndex((h, i) => i % 2 === 0 && kindOf(h) === Kind.Exit);
      c.events[p + 1] = 1;
    }],
    ['a lock turned into a semaphore acquire', (chunks) => {
      const { c, p } = firstLock(chunks, 2);
      c.events[p] = (Kind.SemAcquire << 24) | (c.events[p]! & 0xffffff);
    }],
  ];
  for (const [what, lie] of lies) {
    it(`a log whose framing is valid but whose content lies (${what}) stops with a typed error, not a hang`, async function () {
      const bad = rewrite(lie);
      await assert.rejects(runWorkload('replay', bad, w, { limits: { stallMsMax: 1000 } }),
        (e: LockstepError) => ['ERR_REPLAY_STALL', 'ERR_DIVERGENCE', 'ERR_DIGEST_MISMATCH'].includes(e.code));
    });
  }
});
