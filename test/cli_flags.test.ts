// Issue 10, item 13: the CLI names the real problem. An unknown flag is reported as unknown even
// on commands with required flags and passThroughOptions (primary, backup, arbiter), a required
// flag that was given is never reported missing, and `record -o` into a place it cannot write is
// exit 2 with one line, before the program runs.

import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lines, lockstep, tempDir, FAILS } from './fixtures/cli/helpers.js';

describe('CLI flags and output paths (issue 10 item 13)', function () {
  const dir = tempDir();
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string[], RegExp][] = [
    [['primary', '--node', 'a', '--connect', '1', '--arbiter', '1', FAILS], /^lockstep primary: unknown option '--connect'$/],
    [['primary', '--node', 'a', '--listen', '0', '--bogus', '1', '--arbiter', '1', FAILS], /^lockstep primary: unknown option '--bogus'$/],
    [['backup', '--node', 'b', '--bogus', 'x', '--connect', '1', '--arbiter', '1', FAILS], /^lockstep backup: unknown option '--bogus'$/],
    [['arbiter', '--bogus'], /^lockstep arbiter: unknown option '--bogus'$/],
    [['arbiter', '--state', join(dir, 'state'), '--bogus'], /^lockstep arbiter: unknown option '--bogus'$/],
    // A required flag really missing is still reported, by name.
    [['primary', '--node', 'a', '--arbiter', '1', FAILS], /^lockstep primary: required option '--listen <host:port\|port>' not specified$/],
    [['arbiter'], /^lockstep arbiter: required option '--state <file>' not specified$/],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ').replace(FAILS, 'prog').replace(dir, '…')}: exit 2, ${message.source}`, async function () {
      const r = await lockstep(args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr.trim(), message);
    });
  }

  it('record -o into a missing folder, through a file, or where nothing can be created: exit 2, one line, program not run', async function () {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    for (const [out, why] of [
      [join(dir, 'missing', 'x.lsl'), /the folder .*missing does not exist/],
      [join(file, 'x.lsl'), /a-file is not a folder/],
      ['/proc/lockstep-test.lsl', /cannot be created or written there/],
    ] as const) {
      const r = await lockstep(['record', '-o', out, FAILS, 'throw']);
      assert.equal(r.code, 2, `${out}: ${r.stderr}`);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, why);
      assert.doesNotMatch(r.stderr, /boom on purpose/, 'the program ran');
    }
  });
});
