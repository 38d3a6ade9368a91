// TLS on the log channel and the arbiter protocol (replication/transport.ts): mutual
// authentication with the cluster's certificates (made by `lockstep certs` with openssl), a key
// derived from the cluster secret otherwise, plaintext only when asked for. Peers with the wrong
// certificate or secret are refused at the handshake, logged, and never crash the listener; and
// what crosses the wire between a replicated primary and backup is not readable: a client
// request's id, plain to see in the --insecure control run, is absent from the TLS run's bytes.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LockstepError } from '../engine/errors.js';
import { makeCerts } from '../cli/certs.js';
import { Arbiter, requestEpoch } from '../replication/arbiter.js';
import { dial, listen, tlsRefusal, transportOf, type Refusal, type TlsFiles, type Transport } from '../replication/transport.js';
import { running, statusOf, until } from './node_probe.js';
import { Cluster } from './cluster.js';

const CLI = new URL('../cli/main.js', import.meta.url).pathname;
/** Bound on any one wait (a failure guard, not a timing assertion). */
const WAIT_MS = 20_000;

function files(dir: string, node: string): TlsFiles {
  return { cert: join(dir, `${node}.pem`), key: join(dir, `${node}.key`), ca: join(dir, 'ca.pem') };
}

/** An echo server on `t`; refusals are collected. */
async function echo(t: Transport): Promise<{ server: Server; port: number; refusals: Refusal[] }> {
  const refusals: Refusal[] = [];
  const server = listen(t, (s) => {
    s.on('error', () => {});
    s.pipe(s);
  }, (r) => refusals.push(r));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port, refusals };
}

/** Dials, writes `text`, and resolves with what came back, or with the error that ended the connection. */
function roundTrip(t: Transport, port: number, text: string): Promise<{ echoed: string; error: Error | null }> {
  return new Promise((resolve) => {
    const s = dial(t, { host: '127.0.0.1', port }, 'tester');
    let echoed = '';
    let error: Error | null = null;
    s.setEncoding('utf8');
    s.on('connect', () => s.write(text));
    s.on('data', (d: string) => {
      echoed += d;
      if (echoed.length >= text.length) s.end();
    });
    s.on('error', (e) => (error = e));
    s.on('close', () => resolve({ echoed, error }));
  });
}

/** A TCP relay that keeps a copy of every byte it forwards, both ways. */
class Tap {
  readonly bytes: Buffer[] = [];
  private readonly sockets = new Set<Socket>();
  private constructor(readonly server: Server) {}
  static async start(target: { host: string; port: number }): Promise<Tap> {
    const tap: Tap = new Tap(createServer((client) => {
      const upstream = connect(target);
      for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
        tap.sockets.add(from);
        from.on('data', (b: Buffer) => {
          tap.bytes.push(Buffer.from(b));
          to.write(b);
        });
        from.on('error', () => to.destroy());
        from.on('close', () => to.destroy());
      }
    }));
    await new Promise<void>((r) => tap.server.listen(0, '127.0.0.1', () => r()));
    return tap;
  }
  get port(): number {
    return (this.server.address() as { port: number }).port;
  }
  seen(text: string): boolean {
    return Buffer.concat(this.bytes).includes(text);
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe('TLS on the log channel and the arbiter', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-tls-'));
  const certs = join(dir, 'certs');
  const other = join(dir, 'other');
  const servers: Server[] = [];
  const closers: (() => Promise<void>)[] = [];

  before(function () {
    makeCerts(certs, ['a', 'b', 'arbiter'], 2);
    // A second CA: its certificates are well formed but belong to another cluster.
    makeCerts(other, ['intruder'], 2);
  });

  afterEach(async function () {
    for (const s of servers.splice(0)) s.close();
    for (const c of closers.splice(0)) await c();
  });

  it('lockstep certs makes a CA and node certificates that openssl verifies', function () {
    for (const n of ['a', 'b', 'arbiter']) {
      const r = spawnSync('openssl', ['verify', '-CAfile', join(certs, 'ca.pem'), join(certs, `${n}.pem`)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    const r = spawnSync('openssl', ['verify', '-CAfile', join(certs, 'ca.pem'), join(other, 'intruder.pem')], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, 'a certificate of another CA does not verify');
    const cli = spawnSync(process.execPath, [CLI, 'certs', '--out', certs], { encoding: 'utf8' });
    assert.equal(cli.status, 2, 'refuses to overwrite a CA');
    assert.match(cli.stderr, /already holds a CA/);
  });

  it('mutual TLS: members talk; a certificate from another CA is refused on either side, and the listener lives on', async function () {
    const a = transportOf({ secret: 's', tls: files(certs, 'a') });
    const b = transportOf({ secret: 's', tls: files(certs, 'b') });
    const intruder = transportOf({ secret: 's', tls: files(other, 'intruder') });
    const srv = await echo(a);
    servers.push(srv.server);
    assert.deepEqual(await roundTrip(b, srv.port, 'hello'), { echoed: 'hello', error: null });
    // The intruder's certificate does not chain to the cluster's CA: the listener refuses it.
    const bad = await roundTrip(intruder, srv.port, 'let me in');
    assert.equal(bad.echoed, '');
    await until('the refusal to be reported', WAIT_MS, () => srv.refusals.length > 0);
    assert.match(srv.refusals[0]!.why, /certificate|unknown ca|verify/i);
    assert.match(srv.refusals[0]!.peer, /^127\.0\.0\.1:\d+$/);
    // The listener serves members after refusing one that is not.
    assert.deepEqual(await roundTrip(b, srv.port, 'still here'), { echoed: 'still here', error: null });
    // And a member refuses a listener whose certificate is not the cluster's.
    const fake = await echo(intruder);
    servers.push(fake.server);
    const r = await roundTrip(b, fake.port, 'secret data');
    assert.equal(r.echoed, '');
    assert.ok(r.error && tlsRefusal(r.error), `refused at the handshake: ${r.error?.message}`);
  });

  it('without certificates: TLS with a key from the secret; a wrong secret or a plaintext peer is refused', async function () {
    const right = transportOf({ secret: 'cluster secret' });
    const srv = await echo(right);
    servers.push(srv.server);
    assert.equal(right.kind, 'psk');
    assert.deepEqual(await roundTrip(transportOf({ secret: 'cluster secret' }), srv.port, 'ok'), { echoed: 'ok', error: null });
    const wrong = await roundTrip(transportOf({ secret: 'guess' }), srv.port, 'let me in');
    assert.equal(wrong.echoed, '');
    assert.match(tlsRefusal(wrong.error!) ?? '', /does not hold the same cluster secret/);
    await until('the refusal', WAIT_MS, () => srv.refusals.some((x) => x.secret && x.identity === 'tester'));
    const plain = await roundTrip(transportOf({ secret: 'cluster secret', insecure: true }), srv.port, 'plaintext');
    assert.equal(plain.echoed, '', 'a plaintext peer gets nothing back');
  });

  it('bad TLS settings are typed errors: unreadable files, certificates with --insecure, and the CLI checks them before starting', function () {
    assert.throws(() => transportOf({ secret: 's', tls: { ...files(certs, 'a'), key: join(dir, 'missing.key') } }), (e: LockstepError) => e.code === 'ERR_TLS' && /missing\.key: cannot be read \(ENOENT\)/.test(e.message));
    assert.throws(() => transportOf({ secret: 's', tls: files(certs, 'a'), insecure: true }), (e: LockstepError) => e.code === 'ERR_USAGE');
    const r = spawnSync(process.execPath, [CLI, 'primary', '--node', 'a', '--listen', '0', '--arbiter', '7400', '--secret', 'x', '--tls-cert', join(certs, 'a.pem'), 'prog.js'], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /mutual TLS needs all of --tls-cert, --tls-key and --tls-ca/);
  });

  it('the built-in arbiter over mutual TLS grants epochs to members and refuses another CA\'s certificate', async function () {
    const lines: string[] = [];
    const arbiter = await Arbiter.start({ stateFile: join(dir, 'arbiter.json'), secret: 'x', tls: files(certs, 'arbiter'), log: (l) => lines.push(l) });
    closers.push(() => arbiter.close());
    const member = { ...arbiter.address, secret: 'x', tls: files(certs, 'a') };
    assert.equal((await requestEpoch(member, 1, 'a')).won, true);
    await assert.rejects(requestEpoch({ ...arbiter.address, secret: 'x', tls: files(other, 'intruder') }, 2, 'intruder'),
      (e: LockstepError) => e.code === 'ERR_ARBITER_UNREACHABLE' && /authentication failed/.test(e.message));
    await until('the arbiter to log the refusal', WAIT_MS, () => lines.some((l) => /^refused 127\.0\.0\.1:\d+: /.test(l)));
    assert.deepEqual(arbiter.current, { epoch: 1, owner: 'a' });
  });

  /** A primary and a backup (via a tap on the log channel) serving one client request; returns what the tap saw. */
  async function replicatedRequest(tls: 'certs' | 'insecure', marker: string): Promise<Tap> {
    const node = (n: string) => (tls === 'certs' ? { tls: files(certs, n) } : { insecure: true });
    const cluster = await Cluster.start('tls-secret', node('arbiter'));
    closers.push(() => cluster.close());
    // A waits for its backup as long as the test does: a loaded machine may start B slowly.
    const a = await cluster.node('A', 'primary', { repl: { ...node('a'), waitBackupMs: WAIT_MS } });
    await cluster.waitFor(a, /is the primary \(epoch 1\)/);
    const tap = await Tap.start({ host: '127.0.0.1', port: a.channel });
    closers.push(() => tap.close());
    const b = await cluster.node('B', 'backup', { repl: { ...node('b'), connect: { host: '127.0.0.1', port: tap.port } } });
    await cluster.waitFor(a, /bankservice: listening on/);
    await until('B to attach', WAIT_MS, async () => {
      if (!running(b)) throw new Error(`B exited before attaching; stderr:\n${b.stderr()}`);
      return (await statusOf<{ backup: string | null }>(a))?.backup === 'B';
    }).catch((e: Error) => {
      throw new Error(`${e.message}; A stderr:\n${a.stderr()}\nB stderr:\n${b.stderr()}`);
    });
    const r = await fetch(`${a.url}/transfer`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-lockstep-request-id': marker }, body: JSON.stringify({ from: 1, to: 2, amount: 3 }),
    });
    assert.equal(r.status, 200, 'the output left the gate: the backup acknowledged the frame holding the request');
    assert.ok(running(b), `B runs; stderr:\n${b.stderr()}`);
    return tap;
  }

  it('log frames and acks cross the wire encrypted: a request id seen in plaintext without TLS is absent with it', async function () {
    const marker = `marker-${process.pid}-${Date.now()}`;
    const plain = await replicatedRequest('insecure', `${marker}-plain`);
    assert.ok(plain.seen(`${marker}-plain`), 'control: without TLS the request id is on the wire (the test can see it)');
    const tls = await replicatedRequest('certs', `${marker}-tls`);
    assert.ok(Buffer.concat(tls.bytes).length > 1000, 'the TLS run carried log traffic');
    assert.ok(!tls.seen(`${marker}-tls`), 'with TLS the request id is not readable on the wire');
    assert.ok(!tls.seen('bankservice') && !tls.seen('transfer'), 'nor any other plaintext of the log');
  });

  it('a backup with another CA\'s certificate is refused (ERR_PEER_REFUSED) and the primary logs it and runs on', async function () {
    const cluster = await Cluster.start('tls-secret', { tls: files(certs, 'arbiter') });
    closers.push(() => cluster.close());
    const a = await cluster.node('A', 'primary', { repl: { tls: files(certs, 'a'), waitBackupMs: 500 } });
    await cluster.waitFor(a, /is the primary \(epoch 1\)/);
    const b = await cluster.node('B', 'backup', { connect: a, repl: { tls: files(other, 'intruder') } });
    const exit = await b.exited;
    assert.notEqual(exit.code, 0);
    assert.match(b.stderr(), /ERR_PEER_REFUSED|refused this node/);
    await cluster.waitFor(a, /refused a peer from 127\.0\.0\.1:\d+: .*\(attempt logged\)/);
    await cluster.waitFor(a, /runs alone \(epoch 1\)/);
    assert.ok(running(a), 'the primary serves on');
  });
});

