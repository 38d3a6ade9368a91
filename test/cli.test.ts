// The lockstep CLI as a user runs it: every command as a subprocess on the bank example (and on
// small fixture programs), asserting on output and exit codes. diff has its own file, and so
// does the timeline's browser test.

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isOrdered, kindOf, objectOf } from '../engine/event.js';
import { readLog } from '../replayer/log_reader.js';
import type { InspectReport } from '../cli/log_stats.js';
import { lieAt, reheader } from './log_mutants.js';
import { BANK, BANK_ENV, FAILS, HANDOFF, HANDOFF_TS, lines, lockstep, packageTempDir, tempDir } from './fixtures/cli/helpers.js';

describe('lockstep CLI', function () {
  const dir = tempDir();
  const bankLog = join(dir, 'bank.lsl');
  const copies = packageTempDir();
  after(function () {
    rmSync(copies, { recursive: true, force: true });
  });

  before(async function () {
    const r = await lockstep(['record', '-o', bankLog, '--seed', '42', '--', BANK], BANK_ENV);
    assert.equal(r.code, 0, r.stderr);
  });

  describe('help and usage', function () {
    for (const command of ['record', 'replay', 'verify', 'inspect', 'diff', 'timeline']) {
      it(`${command} --help exits 0 and describes the command`, async function () {
        const r = await lockstep([command, '--help']);
        assert.equal(r.code, 0);
        assert.match(r.stdout, new RegExp(`^Usage: lockstep ${command} `));
        assert.match(r.stdout, /--verbose/);
      });
    }

    it('lists the commands and the exit codes', async function () {
      const r = await lockstep(['--help']);
      assert.equal(r.code, 0);
      for (const command of ['record', 'replay', 'verify', 'inspect', 'diff', 'timeline']) assert.match(r.stdout, new RegExp(`\\n  ${command} `));
      assert.match(r.stdout, /Exit codes:\n {2}0 {2}success/);
      assert.match(r.stdout, /\n {2}3 {2}the log is missing/);
    });

    it('an unknown flag is a usage error: exit 2, one line', async function () {
      for (const args of [['inspect', bankLog, '--bogus'], ['record', '--bogus', BANK], ['verify', '--bogus', bankLog]]) {
        const r = await lockstep(args);
        assert.equal(r.code, 2, args.join(' '));
        assert.deepEqual(lines(r.stderr), [`lockstep ${args[0]}: unknown option '--bogus'`]);
        assert.equal(r.stdout, '');
      }
    });

    it('an unknown command, or a missing argument, is a usage error', async function () {
      const unknown = await lockstep(['frobnicate']);
      assert.equal(unknown.code, 2);
      assert.equal(lines(unknown.stderr).length, 1);
      assert.match(unknown.stderr, /unknown command 'frobnicate'/);
      const missing = await lockstep(['inspect']);
      assert.equal(missing.code, 2);
      assert.equal(lines(missing.stderr).length, 1);
      assert.match(missing.stderr, /missing required argument 'log'/);
    });

    it('bad option values are usage errors naming the option', async function () {
      const cases: [string[], RegExp][] = [
        [['record', '--seed', 'x1', BANK], /--seed must be an integer/],
        [['record', '--seed', String(2n ** 64n), BANK], /--seed must be an integer/],
        [['record', join(dir, 'no-such-program.js')], /program .*no-such-program\.js does not exist/],
        [['replay', bankLog, '--until', 'two:3'], /--until must look like <thread>:<event>/],
        [['replay', bankLog, '--until', '9:0'], /the log has no thread 9 \(threads 0 to 4\)/],
        [['replay', bankLog, '--until', '1:99999999'], /thread 1 has \d+ events \(0 to \d+\)/],
        [['replay', bankLog, '--program', join(dir, 'moved.js')], /program .*moved\.js does not exist/],
        [['inspect', bankLog, '--limit', '0'], /--limit/],
        [['timeline', bankLog, '--events-max', '1000', '-o', join(dir, 'limited.html')], /has [\d,]+ events, more than the timeline's limit of 1,000; raise it with --events-max/],
        [['record', '-o', join(dir, 'no-such-folder', 'x.lsl'), BANK], /cannot write .*x\.lsl: the folder .*no-such-folder does not exist/],
      ];
      for (const [args, message] of cases) {
        const r = await lockstep(args, BANK_ENV);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(lines(r.stderr).length, 1, r.stderr);
        assert.match(r.stderr, message);
      }
    });
  });

  describe('bad logs exit 3 with one line, for every command that reads a log', function () {
    const bad: Record<string, string> = {};
    before(function () {
      bad.missing = join(dir, 'missing.lsl');
      bad.notALog = join(dir, 'notes.txt');
      writeFileSync(bad.notALog, 'these are not the events you are looking for\n');
      const bytes = readFileSync(bankLog);
      // A flipped bit in the middle of a frame: the frame's CRC no longer matches.
      const flipped = Buffer.from(bytes);
      flipped[Math.floor(bytes.length / 2)]! ^= 0x10;
      bad.corrupt = join(dir, 'corrupt.lsl');
      writeFileSync(bad.corrupt, flipped);
      bad.truncated = join(dir, 'truncated.lsl');
      writeFileSync(bad.truncated, bytes.subarray(0, bytes.length - 100));
      bad.directory = dir;
      // Valid CRCs around content that lies: a 2^50-byte arena in the header's options, and a
      // vector of chunks claiming 2^31 - 1 entries.
      bad.lyingOptions = join(dir, 'lying-options.lsl');
      writeFileSync(bad.lyingOptions, reheader(bytes, (h) => {
        const o = JSON.parse(h.options) as { limits: Record<string, number> };
        o.limits.arenaBytes = 2 ** 50;
        h.options = JSON.stringify(o);
      }));
      bad.lyingLength = join(dir, 'lying-length.lsl');
      writeFileSync(bad.lyingLength, lieAt(bytes, 1, (s) => s.role === 'length' && s.what.startsWith('Frame field 1'), 0x7fffffff));
    });
    const expected: Record<string, RegExp> = {
      missing: /cannot read log .*missing\.lsl: no such file/,
      notALog: /is not a lockstep log/,
      corrupt: /is corrupt at byte \d+/,
      truncated: /ends early at byte \d+/,
      directory: /cannot read log /,
      lyingOptions: /is corrupt at byte \d+ \(the header limit arenaBytes is 1125899906842624/,
      lyingLength: /is corrupt at byte \d+ \(undecodable frame: Frame field 1's 2147483647 elements/,
    };
    for (const command of ['inspect', 'timeline', 'replay', 'verify', 'diff']) {
      it(command, async function () {
        for (const [name, message] of Object.entries(expected)) {
          const args = command === 'diff' ? [command, bankLog, bad[name]!] : [command, bad[name]!];
          if (command === 'timeline') args.push('-o', join(dir, 'never.html'));
          const r = await lockstep(args, BANK_ENV);
          assert.equal(r.code, 3, `${command} ${name}: ${r.stderr}`);
          assert.equal(lines(r.stderr).length, 1, `${command} ${name}: ${r.stderr}`);
          assert.match(r.stderr, new RegExp(`^lockstep ${command}: `));
          assert.match(r.stderr, message, `${command} ${name}`);
        }
        assert.equal(existsSync(join(dir, 'never.html')), false);
      });
    }
  });

  describe('record', function () {
    it('prints where the log went and a summary read back from the log', async function () {
      const log = join(dir, 'summary.lsl');
      const r = await lockstep(['record', '-o', log, '--seed', '7', '--', BANK], BANK_ENV);
      assert.equal(r.code, 0, r.stderr);
      const written = readLog(log);
      assert.match(r.stdout, new RegExp(`^recorded ${log}$`, 'm'));
      assert.match(r.stdout, new RegExp(`^ {2}program +${BANK}$`, 'm'));
      assert.match(r.stdout, /^ {2}seed +7$/m);
      assert.match(r.stdout, /^ {2}threads +5$/m);
      assert.match(r.stdout, new RegExp(`^ {2}events +${written.trailer.eventCount.toLocaleString('en-US')}$`, 'm'));
      assert.match(r.stdout, new RegExp(`^ {2}bytes +${written.bytes.toLocaleString('en-US')} `, 'm'));
      assert.match(r.stdout, new RegExp(`^ {2}digest +${written.trailer.digest}$`, 'm'));
      assert.equal(written.header.seed, 7n);
      // The program's own output still reaches stdout.
      assert.match(r.stdout, /"mode":"record"/);
    });

    it('picks a fresh default name and never overwrites one', async function () {
      const cwd = tempDir();
      const first = await lockstep(['record', BANK], BANK_ENV, cwd);
      const second = await lockstep(['record', BANK], BANK_ENV, cwd);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(second.code, 0, second.stderr);
      assert.match(first.stdout, new RegExp(`^recorded ${join(cwd, 'main-0.lsl')}$`, 'm'));
      assert.match(second.stdout, new RegExp(`^recorded ${join(cwd, 'main-1.lsl')}$`, 'm'));
    });

    it('passes arguments after the program to the program, and keeps them in the log', async function () {
      const log = join(dir, 'args.lsl');
      const r = await lockstep(['record', '-o', log, FAILS, 'exit-not', '--flag-for-the-program']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readLog(log).header.args, ['exit-not', '--flag-for-the-program']);
    });

    it('records a TypeScript entry file through tsx', async function () {
      const log = join(dir, 'handoff-ts.lsl');
      const r = await lockstep(['record', '-o', log, '--seed', '2', HANDOFF_TS]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /handoff finished: [0-9a-f]{64}/);
      assert.equal(readLog(log).header.programPath, HANDOFF_TS);
      const v = await lockstep(['verify', log]);
      assert.equal(v.code, 0, v.stderr);
    });

    it('a program that throws before finishing: exit 4, one line with its error, the log cut off there and replayable', async function () {
      const log = join(dir, 'throws.lsl');
      const r = await lockstep(['record', '-o', log, FAILS, 'throw']);
      assert.equal(r.code, 4, r.stderr);
      const last = lines(r.stderr).at(-1)!;
      assert.match(last, /^lockstep record: recording .*fails\.js failed: the program threw Error: boom on purpose \(the log .*throws\.lsl holds the run up to the failure and can be replayed\)$/);
      assert.equal(readLog(log).trailer.cutOff, true);
      const replayed = await lockstep(['replay', log]);
      assert.equal(replayed.code, 4, 'the replay fails as the recording did');
      assert.match(lines(replayed.stderr).at(-1)!, /the program threw Error: boom on purpose$/);
      // The program's own error dump is the program's output and stays visible.
      assert.match(r.stderr, /at .*fails\.js/);
    });

    it('a program that fails after finishing: exit 4, but the complete log is reported', async function () {
      const log = join(dir, 'exits.lsl');
      const r = await lockstep(['record', '-o', log, FAILS, 'exit']);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stdout, new RegExp(`^recorded ${log}$`, 'm'));
      assert.deepEqual(lines(r.stderr), [`lockstep record: recording ${FAILS} failed: the program exited with code 3 (the log ${log} is complete and can be replayed)`]);
      readLog(log);
    });

    it('a program that never starts a session: exit 4', async function () {
      const log = join(dir, 'none.lsl');
      const r = await lockstep(['record', '-o', log, FAILS, 'none']);
      assert.equal(r.code, 4);
      assert.deepEqual(lines(r.stderr), [`lockstep record: recording ${FAILS}: no log was written; does the program call lockstep's start()?`]);
    });
  });

  describe('replay and verify', function () {
    it('replay takes the program and arguments from the log and reports a match', async function () {
      const r = await lockstep(['replay', bankLog], BANK_ENV);
      assert.equal(r.code, 0, r.stderr);
      const log = readLog(bankLog);
      assert.match(r.stdout, new RegExp(`^replayed ${bankLog}: 5 threads, ${log.trailer.eventCount.toLocaleString('en-US')} events, digest ${log.trailer.digest.slice(0, 16)}… matches the recording$`, 'm'));
      assert.match(r.stdout, /"mode":"replay"/);
    });

    it('replay --program runs a moved copy of the program', async function () {
      const log = join(dir, 'fails-ok.lsl');
      assert.equal((await lockstep(['record', '-o', log, FAILS, 'ok'])).code, 0);
      const moved = join(copies, 'moved-fails.js');
      copyFileSync(FAILS, moved);
      const r = await lockstep(['replay', log, '--program', moved]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /matches the recording/);
    });

    it('replay --until stops at that event and exits 0', async function () {
      // Seed 2: thread 2 waits on the semaphore (event 0), then takes the mutex (event 1).
      const log = join(dir, 'handoff-until.lsl');
      assert.equal((await lockstep(['record', '-o', log, '--seed', '2', HANDOFF])).code, 0);
      const r = await lockstep(['replay', log, '--until', '2:1']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^stopped at thread 2, event 1 \(before lock\(object \d+, version 1\)\), as asked$/m);
      assert.doesNotMatch(r.stdout, /handoff finished/, 'the program must not have finished');
    });

    it('verify exits 0 and shows every compared field as the same', async function () {
      const r = await lockstep(['verify', bankLog], BANK_ENV);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^verified ${bankLog}: the replay is identical to the recording$`, 'm'));
      const digest = readLog(bankLog).trailer.digest;
      assert.match(r.stdout, new RegExp(`^ {2}digest +${digest} +${digest} +same$`, 'm'));
      assert.match(r.stdout, /^ {2}threads +5 +5 +same$/m);
      assert.doesNotMatch(r.stdout, /DIFFERENT/);
    });

    it('a program that does something else diverges: exit 1, one line naming the thread and event', async function () {
      // Seed 2: thread 1 goes first and its event 1 is the output this replay skips.
      const log = join(dir, 'handoff-diverge.lsl');
      assert.equal((await lockstep(['record', '-o', log, '--seed', '2', HANDOFF])).code, 0);
      for (const command of ['replay', 'verify']) {
        const r = await lockstep([command, log], { HANDOFF_SKIP_OUTPUT: '1' });
        assert.equal(r.code, 1, r.stderr);
        const all = lines(r.stderr);
        assert.equal(all.length, 1, r.stderr);
        assert.match(all[0]!, new RegExp(`^lockstep ${command}: ${command} of .*handoff-diverge\\.lsl failed: replay diverged in thread 1 at event 1: the log expects output`));
      }
      const verbose = await lockstep(['verify', log, '--verbose'], { HANDOFF_SKIP_OUTPUT: '1' });
      assert.equal(verbose.code, 1);
      assert.match(verbose.stderr, /^code: ERR_DIVERGENCE$/m);
      assert.match(verbose.stderr, /^details: \{.*"thread":1,"index":1/m);
      assert.match(verbose.stderr, /^\s+at .*\/dist\/.*\.js/m, '--verbose shows the stack (a bundle file\'s, when built: scripts/bundle.mjs)');
    });

    it('a changed program is refused unless --allow-program-change', async function () {
      const log = join(dir, 'fails-change.lsl');
      assert.equal((await lockstep(['record', '-o', log, FAILS, 'ok'])).code, 0);
      const changed = join(copies, 'changed-fails.js');
      writeFileSync(changed, `${readFileSync(FAILS, 'utf8')}\n// a comment changes the program's hash\n`);
      const refused = await lockstep(['verify', log, '--program', changed]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.equal(lines(refused.stderr).length, 1);
      assert.match(refused.stderr, /was recorded from .*fails\.js/);
      const allowed = await lockstep(['verify', log, '--program', changed, '--allow-program-change']);
      assert.equal(allowed.code, 0, allowed.stderr);
    });
  });

  describe('inspect', function () {
    let report: InspectReport;
    before(async function () {
      const r = await lockstep(['inspect', bankLog, '--json']);
      assert.equal(r.code, 0, r.stderr);
      report = JSON.parse(r.stdout) as InspectReport;
    });

    it('--json gives the header, the run and each thread, matching the log', function () {
      const log = readLog(bankLog);
      assert.equal(report.format, 'lockstep-inspect/1');
      assert.equal(report.program.path, BANK);
      assert.equal(report.program.seed, '42');
      assert.equal(report.run.threads, 5);
      assert.equal(report.run.events, log.trailer.eventCount);
      assert.equal(report.run.digest, log.trailer.digest);
      assert.deepEqual(report.threads.map((t) => t.thread), [0, 1, 2, 3, 4]);
      assert.equal(report.threads.reduce((n, t) => n + t.events, 0), log.trailer.eventCount);
      const spawns = report.threads.slice(1).map((t) => t.spawnedBy!);
      assert.ok(spawns.every((s) => s.thread === 0), 'the main thread spawns every teller');
      assert.ok(spawns.every((s, i) => i === 0 || s.event > spawns[i - 1]!.event), 'in thread order');
      // The tellers are pool workers: the main thread observes each batch's completion after the
      // batch's last event, so its end is causally after every teller's work.
      assert.ok(report.threads.slice(1).every((t) => report.threads[0]!.lastClock > t.lastClock), 'completion edges order the main thread last');
      assert.equal(report.run.clockMax, report.threads[0]!.lastClock);
      for (const t of report.threads.slice(1)) {
        assert.equal(t.exitCode, 0);
        assert.equal(t.ordered, 2 * 2000, 'two account locks per transfer');
        assert.equal(t.values, 3 * 2000, 'three random values per transfer');
      }
    });

    it('counts acquisitions and hand-offs per object as an independent count from the log does', function () {
      // Recount straight from the events: sort each object's ordered events by version and count
      // the versions whose thread differs from the previous version's.
      const log = readLog(bankLog);
      const takers = new Map<number, Map<number, number>>();
      for (const s of log.streams) {
        for (let p = 0; p < s.events.length; p += 2) {
          const k = kindOf(s.events[p]!);
          if (!isOrdered(k)) continue;
          const o = objectOf(s.events[p]!);
          if (!takers.has(o)) takers.set(o, new Map());
          takers.get(o)!.set(s.events[p + 1]! >>> 0, s.thread);
        }
      }
      assert.equal(report.objects.length, 64);
      let handoffs = 0;
      for (const o of report.objects) {
        const byVersion = takers.get(o.object)!;
        assert.equal(o.type, 'mutex');
        assert.equal(o.acquisitions, byVersion.size);
        let expected = 0;
        for (let v = 1; v < byVersion.size; v++) if (byVersion.get(v) !== byVersion.get(v - 1)) expected++;
        assert.equal(o.handoffs, expected, `object ${o.object}`);
        assert.equal(o.threads.reduce((n, t) => n + t.count, 0), o.acquisitions);
        handoffs += expected;
      }
      assert.equal(report.contention.handoffs, handoffs);
      assert.equal(report.threads.reduce((n, t) => n + t.handoffsIn, 0), handoffs);
      assert.equal(report.contention.acquisitions, 4 * 2 * 2000);
      assert.equal(report.contention.busiest.length, 10);
    });

    it('accounts for every byte of the file', function () {
      const kinds = Object.fromEntries(report.eventKinds.map((k) => [k.name, k]));
      assert.equal(kinds.lock!.count, 4 * 2 * 2000);
      // 3 random draws of 8 bytes per transfer, and the pool's task module identity (32 bytes).
      assert.equal(kinds.value!.payloadBytes, 8 * 3 * 4 * 2000 + 32);
      assert.equal(kinds.spawn!.count, 4);
      const total = report.eventKinds.reduce((n, k) => n + k.bytes, 0) + report.framingBytes;
      assert.equal(total, report.log.bytes);
      assert.ok(report.framingBytes > 0);
      assert.deepEqual(report.values, [{ kind: 'random', count: 3 * 4 * 2000 }, { kind: 'module', count: 1 }]);
    });

    it('shows inputs and outputs with their values, and is byte-for-byte stable', async function () {
      const log = join(dir, 'handoff.lsl');
      assert.equal((await lockstep(['record', '-o', log, '--seed', '4', HANDOFF])).code, 0);
      const first = await lockstep(['inspect', log, '--json']);
      const second = await lockstep(['inspect', log, '--json']);
      assert.equal(first.code, 0);
      assert.equal(first.stdout, second.stdout);
      const r = JSON.parse(first.stdout) as InspectReport;
      assert.equal(r.inputs.length, 1);
      assert.equal(r.inputs[0]!.thread, 0);
      assert.equal(r.inputs[0]!.value, "{ job: 'alpha' }");
      const types = Object.fromEntries(r.objects.map((o) => [o.type, o]));
      assert.deepEqual(Object.keys(types).sort(), ['channel', 'mutex', 'semaphore']);
      assert.equal(types.mutex!.acquisitions, 2);
      assert.equal(types.mutex!.handoffs, 1);
      assert.deepEqual(types.mutex!.threads, [{ thread: 1, count: 1 }, { thread: 2, count: 1 }]);
      // A channel is two objects: its send side (the input's) and its receive side.
      const channels = r.objects.filter((o) => o.type === 'channel');
      assert.deepEqual(channels.map((o) => [o.name, o.inputs]), [['jobs', 1], ['jobs (receive side)', 0]]);
      // Seed 4 is even, so thread 1 goes first and reports the job as output 1:0.
      assert.deepEqual(r.outputs.map((o) => [o.id, o.thread, o.channel, o.value]), [['1:0', 1, 'results', "{ done: 'alpha', by: 1 }"]]);
    });

    it('prints human tables by default', async function () {
      const r = await lockstep(['inspect', bankLog, '--limit', '3']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^log ${bankLog}$`, 'm'));
      assert.match(r.stdout, /^ {2}threads +5 \(limit 64\)$/m);
      assert.match(r.stdout, /^threads\n {2}thread +events +spawned by/m);
      const json = JSON.parse((await lockstep(['inspect', bankLog, '--json'])).stdout) as InspectReport;
      const teller = json.threads[1]!;
      assert.match(r.stdout, new RegExp(`^ +1 +${teller.events.toLocaleString('en-US')} +thread 0 @${teller.spawnedBy!.event} +4,000 `, 'm'));
      assert.match(r.stdout, /^objects \(64, busiest first\)$/m);
      assert.match(r.stdout, /… 61 more objects \(--limit or --json for all\)/);
      assert.match(r.stdout, /^contention\n {2}acquisitions +16,000$/m);
      assert.match(r.stdout, /^bytes per event kind$/m);
      assert.match(r.stdout, /^ {2}lock +16,000 +128,000 +0 +128,000 /m); // 8 B an acquisition (log format 3)
    });
  });
});
