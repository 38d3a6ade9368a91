// Issue 10, item 7: the trailer's event and thread counts are claims about the streams, checked
// when the log is read: a trailer that lies (its CRC valid) is ERR_LOG_CORRUPT, exit 3 in the CLI.

import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { LockstepError, readLog } from '../runtime/index.js';
import { PREAMBLE_BYTES } from '../engine/log/format.js';
import { frame, scanFrame } from '../engine/log/frame.js';
import { decodeFrame, encodeFrame, type TrailerData } from '../engine/log/codec.js';
import { runWorkload, tempLog } from './harness.js';
import { lines, lockstep } from './fixtures/cli/helpers.js';

describe('trailer counts (issue 10 item 7)', function () {
  const w = { kind: 'mutex', threads: 3, ops: 100 };
  const log = tempLog('counts');
  let good: Uint8Array;
  before(async function () {
    await runWorkload('record', log, w);
    good = new Uint8Array(readFileSync(log));
  });

  /** The log with its final frame re-encoded (valid CRC) after `lie` rewrites the trailer. */
  function withTrailer(lie: (t: TrailerData) => TrailerData): string {
    let offset = PREAMBLE_BYTES;
    let lastAt = -1;
    for (;;) {
      const r = scanFrame(good, offset, 1 << 26);
      if (r.kind !== 'frame') break;
      lastAt = offset;
      offset = r.next;
    }
    const last = scanFrame(good, lastAt, 1 << 26);
    assert.equal(last.kind, 'frame');
    const f = decodeFrame((last as { payload: Uint8Array }).payload);
    const bad = tempLog('lying-trailer');
    writeFileSync(bad, Buffer.concat([good.subarray(0, lastAt), frame(encodeFrame({ ...f, trailer: lie(f.trailer!) }))]));
    return bad;
  }

  function codeOf(path: string): string {
    try {
      readLog(path);
      return 'OK';
    } catch (e) {
      assert.ok(e instanceof LockstepError, String(e));
      return e.code;
    }
  }

  it('the unchanged re-encoded log reads', function () {
    assert.equal(codeOf(withTrailer((t) => t)), 'OK');
    const read = readLog(log);
    assert.equal(read.trailer.eventCount, read.streams.reduce((n, s) => n + s.events.length / 2, 0));
    assert.equal(read.trailer.threadCount, 1 + w.threads);
  });

  for (const [what, lie] of [
    ['event count 1', (t: TrailerData) => ({ ...t, eventCount: 1 })],
    ['event count one more', (t: TrailerData) => ({ ...t, eventCount: t.eventCount + 1 })],
    ['thread count 1', (t: TrailerData) => ({ ...t, threadCount: 1 })],
    ['thread count one more', (t: TrailerData) => ({ ...t, threadCount: t.threadCount + 1 })],
    ['thread count 10,000', (t: TrailerData) => ({ ...t, threadCount: 10_000 })],
  ] as const) {
    it(`a trailer with ${what} is ERR_LOG_CORRUPT`, function () {
      assert.equal(codeOf(withTrailer(lie)), 'ERR_LOG_CORRUPT');
    });
  }

  it('verify and inspect of such a log exit 3 with one line', async function () {
    const bad = withTrailer((t) => ({ ...t, eventCount: 1 }));
    for (const command of ['verify', 'inspect']) {
      const r = await lockstep([command, bad]);
      assert.equal(r.code, 3, r.stderr);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, /trailer counts 1 events/);
    }
  });
});
