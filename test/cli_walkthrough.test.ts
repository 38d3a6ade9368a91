// The README's replication walkthrough, run as written through the CLI: an arbiter, `lockstep
// primary` and `lockstep backup` running the bank service, the load script given both nodes'
// addresses, and kill -9 of the primary's program (its pid as the CLI printed it) mid-load. The
// nodes say when the backup connects and when it has caught up; the load script rides through
// the failover with lockstep/client: every request answered, none failed.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Arbiter } from '../replication/arbiter.js';
import { freePort } from './cluster.js';
import { CLI, ROOT } from './fixtures/cli/helpers.js';

const SERVICE = join(ROOT, 'dist/examples/bankservice/main.js');
const LOAD = join(ROOT, 'dist/examples/bankservice/load.js');
const SECRET = 'walkthrough-secret';
const REQUESTS = 600;

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function start(args: string[], env: Record<string, string>, cwd: string): Proc {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  return { child, out: () => out, err: () => err, exited };
}

/** Waits for `re` in a process's stderr; the mocha timeout bounds it, and an early exit fails it. */
async function waitFor(p: Proc, re: RegExp, what: string): Promise<RegExpMatchArray> {
  for (;;) {
    const m = re.exec(p.err());
    if (m) return m;
    if (p.child.exitCode !== null) throw new Error(`${what} exited (${p.child.exitCode}) before printing ${re}:\n${p.err()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('replication walkthrough through the CLI', function () {
  let dir = '';
  let arbiter: Arbiter | null = null;
  const procs: Proc[] = [];
  const programs: number[] = [];

  after(async function () {
    for (const pid of programs) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await arbiter?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints pids, the backup\'s connection and catch-up, and the load fails over without an error', async function () {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-walkthrough-'));
    arbiter = await Arbiter.start({ stateFile: join(dir, 'arbiter.json'), secret: SECRET, log: () => {} });
    const arb = String(arbiter.address.port);
    const [bankA, bankB, chanA, chanB] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const env = { LOCKSTEP_SECRET: SECRET, BANK_ACCOUNTS: '16' };
    // Lenient failure detection and a long wait for the backup: a loaded 2-core box is slow, not dead.
    const common = ['--arbiter', arb, '--heartbeat-ms', '100', '--timeout-ms', '1500'];
    const primary = start([CLI, 'primary', '--node', 'a', '--listen', String(chanA), ...common, '--wait-backup-ms', '120000', '--', SERVICE],
      { ...env, BANK_PORT: String(bankA) }, dir);
    procs.push(primary);
    const backup = start([CLI, 'backup', '--node', 'b', '--connect', String(chanA), '--listen', String(chanB), ...common, '--', SERVICE],
      { ...env, BANK_PORT: String(bankB) }, dir);
    procs.push(backup);

    const pidA = Number((await waitFor(primary, /lockstep: primary a: the program runs as pid (\d+)/, 'primary'))[1]);
    programs.push(pidA);
    programs.push(Number((await waitFor(backup, /lockstep: backup b: the program runs as pid (\d+)/, 'backup'))[1]));
    await waitFor(backup, /lockstep: b: following the primary at 127\.0\.0\.1:\d+ \(epoch 1\)/, 'backup');
    await waitFor(primary, /lockstep: a: backup b connected \(epoch 1\)/, 'primary');
    await waitFor(primary, /lockstep: a: backup b has caught up/, 'primary');

    const load = start([LOAD, `http://127.0.0.1:${bankA}`, `http://127.0.0.1:${bankB}`, '3600', '4'],
      { BANK_ACCOUNTS: '16', LOAD_REQUESTS: String(REQUESTS), LOAD_PROGRESS: '1', LOAD_DEADLINE_MS: '120000' }, dir);
    procs.push(load);
    await waitFor(load, /^progress 100$/m, 'load');
    process.kill(pidA, 'SIGKILL');
    assert.equal(await load.exited, 0, load.err());
    const result = JSON.parse(load.out().trim().split('\n').pop()!) as { requests: number; failures: Record<string, number>; failovers: number };
    assert.deepEqual(result.failures, {}, load.out());
    assert.equal(result.requests, REQUESTS);
    assert.ok(result.failovers >= 1, `the client never failed over: ${load.out()}`);
    if (process.env.WALKTHROUGH_SHOW) console.log(primary.err(), backup.err(), load.out(), load.err());
  });
});
