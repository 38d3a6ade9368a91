// A recording whose program fails before finish() still leaves a readable log, cut off where the
// program failed, and its replay fails the same way at the same point (the debugging use: record
// a crash once, replay it as often as needed).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readLog } from '../runtime/index.js';
import { Kind, kindOf } from '../engine/event.js';
import { tempLog } from './harness.js';

const program = fileURLToPath(new URL('./fixtures/crashing_main.js', import.meta.url));

function run(mode: 'record' | 'replay', log: string, early = false) {
  const r = spawnSync(process.execPath, [program], {
    env: { ...process.env, LOCKSTEP_MODE: mode, LOCKSTEP_LOG: log, CRASH_EARLY: early ? '1' : '0', LOCKSTEP_RESULT_FILE: '' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a recording cut off by the program\'s failure', function () {
  it('is readable, marked cut off, and replays to the same failure with the same state', function () {
    const log = tempLog('crash');
    const recorded = run('record', log);
    assert.equal(recorded.code, 1);
    assert.match(recorded.stderr, /boom after the workers/);
    const l = readLog(log);
    assert.equal(l.trailer.cutOff, true);
    assert.ok(l.trailer.eventCount > 6000, `${l.trailer.eventCount} events`);
    for (let i = 0; i < 2; i++) {
      const replayed = run('replay', log);
      assert.equal(replayed.code, 1, replayed.stderr);
      assert.match(replayed.stderr, /boom after the workers/);
      assert.doesNotMatch(replayed.stderr, /ERR_/, 'no lockstep error: the program failed as recorded');
      assert.equal(replayed.stdout, recorded.stdout, 'the same order hash');
    }
  });

  it('cut while workers run: the log is a consistent prefix and the replay fails the same way', function () {
    const log = tempLog('crash-early');
    const recorded = run('record', log, true);
    assert.equal(recorded.code, 1);
    const l = readLog(log);
    assert.equal(l.trailer.cutOff, true);
    assert.ok(l.streams.some((s) => s.thread > 0 && s.events.length > 0 && kindOf(s.events[s.events.length - 2]!) !== Kind.Exit),
      'some worker\'s stream ends mid-run');
    const replayed = run('replay', log, true);
    assert.equal(replayed.code, 1, replayed.stderr);
    assert.match(replayed.stderr, /boom while the workers run/);
    assert.doesNotMatch(replayed.stderr, /ERR_/);
  });
});
