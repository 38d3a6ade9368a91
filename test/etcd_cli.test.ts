// The three-host deployment of the README, run as a user runs it: an etcd cluster (127.0.0.11-13),
// `lockstep primary` on 127.0.0.2 and `lockstep backup` on 127.0.0.3, each a separate process
// bound to its own address, with mutual TLS from `lockstep certs` and --arbiter etcd://…. Clients
// talk to the primary; at /quit both finish, and the backup's replay ends at the primary's digest.

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCerts } from '../cli/certs.js';
import { EtcdCluster, etcdInstalled } from './etcd_cluster.js';
import { freePort } from './cluster.js';

const CLI = new URL('../cli/main.js', import.meta.url).pathname;
const SERVICE = new URL('../examples/bankservice/main.js', import.meta.url).pathname;
const WAIT_MS = 30_000;

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], env: Record<string, string>, cwd: string): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, LOCKSTEP_SECRET: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  return { child, out: () => out, err: () => err, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
}

async function until(what: string, probe: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + WAIT_MS;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function post(url: string, path: string, id: string, body: unknown): Promise<{ status: number; body: { ok?: boolean } }> {
  const r = await fetch(`${url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-lockstep-request-id': id }, body: JSON.stringify(body), signal: AbortSignal.timeout(WAIT_MS),
  });
  return { status: r.status, body: (await r.json()) as { ok?: boolean } };
}

describe('a three-host deployment through the CLI (etcd, primary, backup)', function () {
  this.timeout(180_000);
  let etcd: EtcdCluster | null = null;
  const procs: Proc[] = [];

  after(async function () {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await etcd?.close();
  });

  it('a malformed etcd:// arbiter is a usage error naming the flag (exit 2)', async function () {
    for (const [url, message] of [['etcd://', /an etcd arbiter looks like/], ['etcd://10.0.0.1', /etcd member "10\.0\.0\.1" .* must be host:port/], ['etcd://h:1/bad prefix', /key prefix/]] as const) {
      const p = run(['primary', '--node', 'a', '--listen', '0', '--arbiter', url, '--secret', 's', SERVICE], {}, tmpdir());
      procs.push(p);
      assert.equal(await p.exited, 2, p.err());
      assert.match(p.err(), /^lockstep primary: --arbiter: /);
      assert.match(p.err(), message);
    }
  });

  it('primary and backup on their own hosts, TLS certificates and etcd: the backup ends at the primary\'s digest', async function () {
    if (!etcdInstalled()) throw new Error('etcd is not installed: run scripts/install-etcd.sh');
    etcd = await EtcdCluster.start(3);
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-hosts-'));
    makeCerts(join(dir, 'certs'), ['a', 'b'], 2);
    writeFileSync(join(dir, 'secret'), 'three-host-secret\n');
    const tls = (n: string): string[] => ['--tls-cert', `certs/${n}.pem`, '--tls-key', `certs/${n}.key`, '--tls-ca', 'certs/ca.pem'];
    const channel = await freePort('127.0.0.2');
    const bankA = await freePort('127.0.0.2');
    const bankB = await freePort('127.0.0.3');
    const common = ['--arbiter', etcd.url('/bank'), '--secret-file', 'secret', '--timeout-ms', '1500', '--heartbeat-ms', '100'];
    const a = run(['primary', '--node', 'a', '--listen', `127.0.0.2:${channel}`, ...common, ...tls('a'), '--wait-backup-ms', String(WAIT_MS), '--', SERVICE],
      { BANK_HOST: '127.0.0.2', BANK_PORT: String(bankA), BANK_ACCOUNTS: '16' }, dir);
    procs.push(a);
    await until('a to be the primary', () => /is the primary \(epoch 1\)/.test(a.err()) || a.child.exitCode !== null);
    assert.equal(a.child.exitCode, null, a.err());
    const b = run(['backup', '--node', 'b', '--connect', `127.0.0.2:${channel}`, '--listen', '127.0.0.3:0', ...common, ...tls('b'), '--', SERVICE],
      { BANK_HOST: '127.0.0.3', BANK_PORT: String(bankB), BANK_ACCOUNTS: '16' }, dir);
    procs.push(b);
    await until('a to serve clients', () => /bankservice: listening on http:\/\/127\.0\.0\.2:/.test(a.err()));
    for (let i = 0; i < 5; i++) {
      const r = await post(`http://127.0.0.2:${bankA}`, '/transfer', `t${i}`, { from: i, to: i + 1, amount: 2 });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    assert.deepEqual((await etcd.record('/bank')).epoch, { epoch: 1, owner: 'a' });
    await post(`http://127.0.0.2:${bankA}`, '/quit', 'quit', {});
    const [codeA, codeB] = await Promise.all([a.exited, b.exited]);
    assert.equal(codeA, 0, a.err());
    assert.equal(codeB, 0, b.err());
    // The service prints its result as a JSON line; the CLI adds its summary line.
    const digest = (s: string): string => /"digest":"([0-9a-f]{64})"/.exec(s)?.[1] ?? 'none';
    assert.match(a.out(), /^primary a running main\.js finished: /m);
    assert.match(b.out(), /^backup b running main\.js finished: /m);
    assert.notEqual(digest(a.out()), 'none', a.out());
    assert.equal(digest(b.out()), digest(a.out()), 'the backup replayed to the primary\'s digest');
  });
});
