// `lockstep primary` and `lockstep backup` as a user runs them: flag checking (usage errors name
// the flag, and the cluster secret is never printed), a node that cannot reach its arbiter, and
// a primary that runs alone. Failover itself is tested below the CLI, in the replication tests.

import assert from 'node:assert/strict';
import { existsSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Arbiter } from '../replication/arbiter.js';
import { freePort } from './cluster.js';
import { lines, lockstep, ROOT, tempDir, type CliRun } from './fixtures/cli/helpers.js';

const NOOP = join(ROOT, 'dist/test/fixtures/replicated_noop.js');
const SECRET = 'sekrit-4217-never-printed';
/** No inherited secret: a test that leaves the flags out must see none. */
const NO_ENV_SECRET = { LOCKSTEP_SECRET: '' };

const PRIMARY = ['primary', '--node', 'a', '--listen', '7401', '--arbiter', '7400', '--secret', SECRET];
const BACKUP = ['backup', '--node', 'b', '--connect', '7401', '--arbiter', '7400', '--secret', SECRET];

/** `args` without `flag` and its value. */
function without(args: string[], flag: string): string[] {
  const i = args.indexOf(flag);
  assert.ok(i >= 0, flag);
  return [...args.slice(0, i), ...args.slice(i + 2)];
}

function assertNoSecret(r: CliRun): void {
  assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), `the secret was printed: ${r.stderr}`);
}

function assertUsage(r: CliRun, message: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: ${r.stderr}`);
  assert.equal(lines(r.stderr).length, 1, `${what}: ${r.stderr}`);
  assert.match(r.stderr, message, what);
  assert.equal(r.stdout, '', what);
  assertNoSecret(r);
}

describe('lockstep primary and backup', function () {
  const dir = tempDir();
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, `${SECRET}\n`);
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a missing --node, --listen, --connect, --arbiter or secret is a usage error naming it', async function () {
    const cases: [string[], RegExp][] = [
      [without(PRIMARY, '--node'), /^lockstep primary: required option '--node <name>' not specified/],
      [without(PRIMARY, '--listen'), /^lockstep primary: required option '--listen <host:port\|port>' not specified/],
      [without(PRIMARY, '--arbiter'), /^lockstep primary: required option '--arbiter <host:port\|port[^>]*>' not specified/],
      [without(PRIMARY, '--secret'), /^lockstep primary: the cluster secret is required: --secret-file <file>, --secret <s> or \$LOCKSTEP_SECRET/],
      [without(BACKUP, '--node'), /^lockstep backup: required option '--node <name>' not specified/],
      [without(BACKUP, '--connect'), /^lockstep backup: required option '--connect <host:port\|port>' not specified/],
      [without(BACKUP, '--arbiter'), /^lockstep backup: required option '--arbiter <host:port\|port[^>]*>' not specified/],
      [without(BACKUP, '--secret'), /^lockstep backup: the cluster secret is required/],
    ];
    for (const [args, message] of cases) assertUsage(await lockstep([...args, NOOP], NO_ENV_SECRET), message, args.join(' '));
  });

  it('bad addresses, numbers and names are usage errors naming the flag', async function () {
    const cases: [string[], RegExp][] = [
      [[...PRIMARY, '--listen', 'nope'], /--listen must look like host:port or port, got "nope"/],
      [[...PRIMARY, '--arbiter', 'host:99999'], /--arbiter must look like host:port or port/],
      [[...PRIMARY, '--arbiter', '0'], /--arbiter needs a port from 1 to 65535/],
      [[...PRIMARY, '--timeout-ms', '-3'], /--timeout-ms must be a positive integer, got "-3"/],
      [[...PRIMARY, '--heartbeat-ms', '0'], /--heartbeat-ms must be a positive integer/],
      [[...PRIMARY, '--lag-bytes', '1.5'], /--lag-bytes must be a positive integer/],
      [[...PRIMARY, '--wait-backup-ms', 'soon'], /--wait-backup-ms must be a positive integer/],
      [[...PRIMARY, '--heartbeat-ms', '100', '--timeout-ms', '100'], /--timeout-ms \(100\) must exceed --heartbeat-ms \(100\)/],
      [[...PRIMARY, '--node', 'a/b'], /--node must be 1 to 64 letters/],
      [[...PRIMARY, '--bogus'], /^lockstep primary: unknown option '--bogus'/],
      [[...BACKUP, '--connect', 'nope'], /--connect must look like host:port or port/],
      [[...BACKUP, '--connect', '0'], /--connect needs a port from 1 to 65535/],
      [[...BACKUP, '--listen', 'x:y'], /--listen must look like host:port or port/],
      [[...BACKUP, '--connect-ms', '0'], /--connect-ms must be a positive integer/],
      [[...BACKUP, '--wait-backup-ms', '5'], /^lockstep backup: unknown option '--wait-backup-ms'/],
    ];
    for (const [args, message] of cases) assertUsage(await lockstep([...args, NOOP]), message, args.join(' '));
  });

  it('the secret comes from exactly one of --secret and --secret-file, and the file must be readable', async function () {
    const missing = join(dir, 'no-such-secret');
    const empty = join(dir, 'empty-secret');
    writeFileSync(empty, '\n');
    const cases: [string[], RegExp][] = [
      [[...PRIMARY, '--secret-file', secretFile], /give the cluster secret with --secret or --secret-file, not both/],
      [[...without(PRIMARY, '--secret'), '--secret-file', missing], /--secret-file .*no-such-secret cannot be read \(ENOENT\)/],
      [[...without(BACKUP, '--secret'), '--secret-file', empty], /--secret-file .*empty-secret is empty/],
      [[...without(BACKUP, '--secret'), '--secret', ''], /--secret is empty/],
    ];
    for (const [args, message] of cases) assertUsage(await lockstep([...args, NOOP], NO_ENV_SECRET), message, args.join(' '));
  });

  it('a primary whose arbiter cannot be reached stops with ERR_ARBITER_UNREACHABLE, one line, exit 4', async function () {
    const port = await freePort();
    const args = [...without(without(PRIMARY, '--arbiter'), '--secret'), '--arbiter', String(port), '--secret-file', secretFile];
    const r = await lockstep([...args, '--log', join(dir, 'unreachable.log'), NOOP]);
    assert.equal(r.code, 4, r.stderr);
    // Besides the program's pid (printed at start for the walkthrough), the error is one line.
    const errors = lines(r.stderr).filter((l) => !/^lockstep: primary a: the program runs as pid \d+$/.test(l));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0]!, new RegExp(`^lockstep primary: primary a running replicated_noop\\.js failed: the arbiter at 127\\.0\\.0\\.1:${port} cannot be reached`));
    assertNoSecret(r);

    const verbose = await lockstep([...args, '--log', join(dir, 'unreachable.log'), '--verbose', NOOP]);
    assert.equal(verbose.code, 4, verbose.stderr);
    assert.match(verbose.stderr, /\ncode: ERR_ARBITER_UNREACHABLE\n/);
    assertNoSecret(verbose);
  });

  it('a primary with an arbiter and no backup runs alone and writes lockstep-<node>.log', async function () {
    const arbiter = await Arbiter.start({ stateFile: join(dir, 'arbiter.json'), secret: SECRET, log: () => {} });
    try {
      const args = ['primary', '--node', 'a', '--listen', '127.0.0.1:0', '--arbiter', `127.0.0.1:${arbiter.address.port}`, '--wait-backup-ms', '100'];
      const r = await lockstep([...args, NOOP], { LOCKSTEP_SECRET: SECRET }, dir);
      assert.equal(r.code, 0, r.stderr);
      const log = join(realpathSync(dir), 'lockstep-a.log');
      assert.match(r.stdout, /^primary a running replicated_noop\.js finished: 1 threads, \d+ events, digest [0-9a-f]+/);
      assert.ok(r.stdout.includes(`(log ${log})`), r.stdout);
      assert.ok(existsSync(log), log);
      assertNoSecret(r);
      assert.deepEqual(arbiter.current, { epoch: 1, owner: 'a' });
    } finally {
      await arbiter.close();
    }
  });

  it('--help of each command lists every option', async function () {
    const options: Record<string, string[]> = {
      primary: ['--node', '--listen', '--arbiter', '--secret', '--secret-file', '--log', '--heartbeat-ms', '--timeout-ms', '--lag-bytes',
        '--wait-backup-ms', '--verbose'],
      backup: ['--node', '--connect', '--listen', '--arbiter', '--secret', '--secret-file', '--join', '--log', '--heartbeat-ms', '--timeout-ms',
        '--lag-bytes', '--connect-ms', '--verbose'],
    };
    for (const [command, flags] of Object.entries(options)) {
      const r = await lockstep([command, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: lockstep ${command} \\[options\\] <program> \\[args\\.\\.\\.\\]`));
      for (const flag of flags) assert.match(r.stdout, new RegExp(`\\n  ${flag}[ ,<]`), `${command} --help lists ${flag}`);
    }
    const top = await lockstep(['--help']);
    for (const command of Object.keys(options)) assert.match(top.stdout, new RegExp(`\\n  ${command} `));
  });
});
