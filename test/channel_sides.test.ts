// A channel's send side and receive side are ordered apart (engine/sync/channel.ts): replay must
// give every consumer the values it took when recording, and every poll its outcome, however the
// sides' timing differs from the recording's. Record → replay on real worker threads
// (test/fixtures/channel_sides.ts), replayed with a slow producer (a poll or receive whose value is
// not sent yet waits for it, as does a poll or receive that saw the close) and with slow consumers
// (sends run ahead and wait only for room).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, lockstep, tempDir } from './fixtures/cli/helpers.js';
import { Kind, kindOf, objectOf } from '../engine/event.js';
import { readReplayLog } from '../replayer/log_reader.js';

const FIXTURE = join(ROOT, 'dist/test/fixtures/channel_sides.js');
const ITEMS = 2000;

interface Out { digest: string; sum: number; okPolls: number; emptyPolls: number; received: number }

function summary(stdout: string): Out {
  const line = stdout.split('\n').find((l) => l.startsWith('{"digest"'));
  assert.ok(line, `no summary line in:\n${stdout}`);
  return JSON.parse(line) as Out;
}

describe('channel: the send and receive sides replay apart', function () {
  const log = join(tempDir(), 'channel.lsl');
  let recorded: Out;

  before(async function () {
    // A recording where the poller never got a value checks little: record again (a few times at most).
    for (let attempt = 0; attempt < 5; attempt++) {
      const rec = await lockstep(['record', '-o', log, '--', FIXTURE], { ITEMS: String(ITEMS) });
      assert.equal(rec.code, 0, rec.stderr);
      recorded = summary(rec.stdout);
      if (recorded.okPolls > 0 && recorded.received > 0) break;
    }
    assert.equal(recorded.sum, ITEMS * (ITEMS + 1) / 2, 'every value taken once');
    assert.ok(recorded.okPolls > 0 && recorded.received > 0, `in 5 recordings the poller or the receiver took nothing: ${JSON.stringify(recorded)}`);
  });

  it('logs sends and the close on one object, receives and polls on the next', function () {
    const { streams } = readReplayLog(log);
    const objects = new Map<number, Set<number>>();
    for (const [, s] of streams) {
      const events = new Int32Array(s.buffer, 0, s.eventWords);
      for (let p = 0; p < events.length; p += 2) {
        const k = kindOf(events[p]!);
        if (![Kind.Send, Kind.Close, Kind.Recv, Kind.PollOk, Kind.PollEmpty, Kind.PollClosed].includes(k)) continue;
        const object = objectOf(events[p]!);
        if (!objects.has(k)) objects.set(k, new Set());
        objects.get(k)!.add(object);
      }
    }
    const one = (k: Kind): number => {
      const ids = [...(objects.get(k) ?? [])];
      assert.equal(ids.length, 1, `kind ${k} on objects ${ids}`);
      return ids[0]!;
    };
    const send = one(Kind.Send);
    assert.equal(one(Kind.Close), send);
    assert.equal(one(Kind.Recv), send + 1);
    assert.equal(one(Kind.PollOk), send + 1);
    assert.equal(one(Kind.PollClosed), send + 1);
  });

  for (const slow of ['producer', 'consumers', '']) {
    it(`replays to the recording's digest and counts${slow ? ` with slow ${slow}` : ''}`, async function () {
      const replay = await lockstep(['replay', log], { ITEMS: String(ITEMS), SLOW: slow });
      assert.equal(replay.code, 0, replay.stdout + replay.stderr);
      assert.deepEqual(summary(replay.stdout), recorded);
    });
  }
});
