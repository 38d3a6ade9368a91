// Issue 10, item 1: when a harness (the CLI, $LOCKSTEP_*) runs a program, the harness's mode and
// log win over the program's own start({ mode, log }); a replay never writes a log; recording
// never overwrites a file that is not a lockstep log.

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { start, LockstepError } from '../runtime/index.js';
import { readLog } from '../replayer/log_reader.js';
import { ROOT, lines, lockstep, tempDir } from './fixtures/cli/helpers.js';
import { execFileSync } from 'node:child_process';

const OWN_LOG = join(ROOT, 'dist/test/fixtures/cli/own_log.js');

describe('harness precedence (issue 10 item 1)', function () {
  const dir = tempDir();
  const own = join(dir, 'own.lsl');
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  before(function () {
    // The program records itself, with no harness: the log it names is written.
    execFileSync(process.execPath, [OWN_LOG, own], { env: { ...process.env, LOCKSTEP_MODE: '', LOCKSTEP_LOG: '' } });
    assert.ok(readLog(own).trailer.eventCount > 0);
  });

  it('replay and verify of a program that names its own log leave that log untouched', async function () {
    const before = readFileSync(own);
    const replay = await lockstep(['replay', own]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /"mode":"replay"/, 'the program ran in the harness\'s mode, not its own');
    assert.deepEqual(readFileSync(own), before, 'replay rewrote the recording');
    const verify = await lockstep(['verify', own]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.deepEqual(readFileSync(own), before, 'verify rewrote the recording');
  });

  it('record -o other.lsl writes other.lsl, not the log the program names', async function () {
    const other = join(dir, 'other.lsl');
    const named = join(dir, 'named.lsl');
    const r = await lockstep(['record', '-o', other, '--', OWN_LOG, named]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readLog(other).trailer.eventCount > 0);
    assert.equal(existsSync(named), false, 'the program\'s own log was written too');
  });

  it('record refuses to overwrite a file that is not a lockstep log: exit 2, one line, file intact', async function () {
    const precious = join(dir, 'notes.txt');
    writeFileSync(precious, 'my notes\n');
    const r = await lockstep(['record', '-o', precious, '--', OWN_LOG, join(dir, 'x.lsl')]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /notes\.txt.*is not a lockstep log/);
    assert.equal(readFileSync(precious, 'utf8'), 'my notes\n');
    // An earlier lockstep log may be overwritten: that is re-recording.
    const again = join(dir, 'again.lsl');
    copyFileSync(own, again);
    const ok = await lockstep(['record', '-o', again, '--', OWN_LOG, join(dir, 'y.lsl')]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('start() itself refuses, with ERR_LOG_EXISTS, to record over a file that is not a log', async function () {
    const precious = join(dir, 'source.js');
    writeFileSync(precious, 'console.log(1)\n');
    await assert.rejects(start({ mode: 'record', log: precious }), (e: unknown) => e instanceof LockstepError && e.code === 'ERR_LOG_EXISTS');
    assert.equal(readFileSync(precious, 'utf8'), 'console.log(1)\n');
  });

  it('$LOCKSTEP_MODE and $LOCKSTEP_LOG outrank the program\'s start options', async function () {
    const harnessLog = join(dir, 'harness.lsl');
    const codeLog = join(dir, 'code.lsl');
    const out = execFileSync(process.execPath, [OWN_LOG, codeLog], { env: { ...process.env, LOCKSTEP_MODE: 'record', LOCKSTEP_LOG: harnessLog } }).toString();
    assert.match(out, /"mode":"record"/);
    assert.ok(existsSync(harnessLog));
    assert.equal(existsSync(codeLog), false);
    const off = execFileSync(process.execPath, [OWN_LOG, codeLog], { env: { ...process.env, LOCKSTEP_MODE: 'off', LOCKSTEP_LOG: '' } }).toString();
    assert.match(off, /"mode":"off"/);
    assert.equal(existsSync(codeLog), false);
  });
});
