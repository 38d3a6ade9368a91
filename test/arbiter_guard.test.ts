// The arbiter against hostile and broken peers, its start-up checks, and a claim whose reply is
// lost (issue 10, items 9, 10, 12, 17). Every test ends with the arbiter still serving a real
// client: one bad line must never stop it.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Arbiter, readEpoch, requestEpoch, requestMac } from '../replication/arbiter.js';
import { nonce } from '../replication/wire.js';
import type { LockstepError } from '../runtime/index.js';
import { Proxy } from './proxy.js';

const secret = 'test-secret';
/**
 * These tests speak the arbiter's protocol on raw sockets, so the arbiter runs in plaintext
 * (`insecure`); under TLS (the default) the same protocol runs inside the TLS session. The TLS
 * phase's own limits are tested at the end.
 */
const plain = { insecure: true } as const;
/** Bound on waiting for an event that must come (a close, a line); reached only when the code is wrong. */
const EVENT_MS = 10_000;

function stateFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'lockstep-arbiter-guard-')), 'state.json');
}

/** A raw connection to the arbiter: its lines as they come, and its close. */
class Raw {
  readonly lines: string[] = [];
  readonly closed: Promise<void>;
  private buffered = '';
  private waiters: (() => void)[] = [];
  readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.socket.setEncoding('utf8');
    this.socket.on('error', () => {});
    this.socket.on('data', (c: string) => {
      this.buffered += c;
      for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
        this.lines.push(this.buffered.slice(0, nl));
        this.buffered = this.buffered.slice(nl + 1);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((r) => this.socket.on('close', () => {
      r();
      for (const w of this.waiters.splice(0)) w();
    }));
  }

  /** The n-th line (0-based), or null if the connection closed first; fails after EVENT_MS. */
  async line(n: number): Promise<string | null> {
    const end = Date.now() + EVENT_MS;
    while (this.lines.length <= n) {
      if (this.socket.destroyed) return null;
      if (Date.now() > end) throw new Error(`no line ${n} from the arbiter within ${EVENT_MS} ms (lines: ${JSON.stringify(this.lines)})`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
    return this.lines[n]!;
  }

  async closedWithin(what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closed, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: the arbiter kept the connection open past ${EVENT_MS} ms`)), EVENT_MS)))]);
    clearTimeout(timer);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe('arbiter: hostile peers, start-up, lost replies', function () {
  this.timeout(60_000);
  let arbiter: Arbiter | null = null;
  let proxy: Proxy | null = null;
  const raws: Raw[] = [];

  afterEach(async function () {
    for (const r of raws.splice(0)) r.destroy();
    await proxy?.close();
    proxy = null;
    await arbiter?.close();
    arbiter = null;
  });

  function raw(): Raw {
    const r = new Raw(arbiter!.address.port);
    raws.push(r);
    return r;
  }

  async function stillServes(): Promise<void> {
    const c = { ...arbiter!.address, secret, ...plain };
    const before = await readEpoch(c);
    const d = await requestEpoch(c, before.epoch + 1, 'real-client');
    assert.equal(d.won, true, 'the arbiter still serves a real client');
  }

  it('answers null, arrays, mistyped fields and MACs of the wrong length or not hex with a refusal, and keeps serving', async function () {
    const lines: string[] = [];
    arbiter = await Arbiter.start({ stateFile: stateFile(), secret, log: (l) => lines.push(l), ...plain });
    const n = nonce();
    for (const bad of ['null', '[]', '"x"', '{"op":"tas","epoch":1,"node":"a","nonce":"' + n + '","mac":"' + 'zz'.repeat(32) + '"}',
      '{"op":"tas","epoch":1,"node":"a","nonce":"' + n + '","mac":"abc"}', '{"op":"tas","epoch":1,"node":"a","nonce":"' + n + '","mac":null}',
      '{"op":"tas","epoch":{"x":1},"node":["a"],"nonce":"' + n + '","mac":"00"}', '{"op":"get","nonce":7,"mac":"' + 'a'.repeat(64) + '"}', '\u0000\u00ff{']) {
      const r = raw();
      assert.ok(await r.line(0), 'a challenge first');
      r.socket.write(bad + '\n');
      const reply = JSON.parse((await r.line(1))!) as { ok: boolean; error: string };
      assert.equal(reply.ok, false, bad);
      await r.closedWithin('after a refusal');
    }
    assert.equal(arbiter.current.epoch, 0);
    await stillServes();
  });

  it('binds a signed request to its connection: the same line replayed on a new connection is refused', async function () {
    arbiter = await Arbiter.start({ stateFile: stateFile(), secret, log: () => {}, ...plain });
    const first = raw();
    const challenge = (JSON.parse((await first.line(0))!) as { challenge: string }).challenge;
    const n = nonce();
    const line = JSON.stringify({ op: 'tas', epoch: 1, node: 'a', nonce: n, mac: requestMac(secret, 'tas', 1, 'a', challenge, n) });
    first.socket.write(line + '\n');
    assert.equal((JSON.parse((await first.line(1))!) as { won: boolean }).won, true);
    const replay = raw();
    await replay.line(0);
    replay.socket.write(line + '\n');
    assert.deepEqual(JSON.parse((await replay.line(1))!), { ok: false, error: 'authentication failed' });
    assert.deepEqual(arbiter.current, { epoch: 1, owner: 'a' });
  });

  it('closes idle, trickling, over-long and surplus unauthenticated connections, and keeps serving', async function () {
    const limits = { handshakeMsMax: 400, preAuthBytesMax: 256, pendingConnectionsMax: 4 };
    arbiter = await Arbiter.start({ stateFile: stateFile(), secret, log: () => {}, preAuth: limits, ...plain });
    const idle = raw();
    await idle.closedWithin('an idle connection');
    const trickle = raw();
    const drip = setInterval(() => trickle.socket.write('{'), 20);
    try {
      await trickle.closedWithin('a byte-at-a-time connection');
    } finally {
      clearInterval(drip);
    }
    const long = raw();
    long.socket.write('x'.repeat(300));
    await long.closedWithin('a line longer than preAuthBytesMax');
    const held = Array.from({ length: limits.pendingConnectionsMax }, () => raw());
    for (const h of held) await h.line(0);
    const newer = Array.from({ length: 3 }, () => raw());
    for (const n of newer) assert.ok(await n.line(0), 'a newer stranger gets its challenge: it takes the oldest one\'s place');
    assert.ok(arbiter.strangers <= limits.pendingConnectionsMax, `${arbiter.strangers} strangers held`);
    for (const h of [...held, ...newer]) await h.closedWithin('a held idle connection');
    assert.equal(arbiter.strangers, 0);
    await stillServes();
  });

  it('a flood of idle strangers cannot lock a real client out: the oldest stranger makes room', async function () {
    const limits = { handshakeMsMax: 60_000, pendingConnectionsMax: 4 };
    arbiter = await Arbiter.start({ stateFile: stateFile(), secret, log: () => {}, preAuth: limits, ...plain });
    const flood = Array.from({ length: 3 * limits.pendingConnectionsMax }, () => raw());
    for (const f of flood) await f.line(0).catch(() => null);
    assert.ok(arbiter.strangers <= limits.pendingConnectionsMax);
    // One attempt, no retries: the real client gets in although every place was taken.
    await stillServes();
    const open = flood.filter((f) => !f.socket.destroyed).length;
    assert.ok(open <= limits.pendingConnectionsMax, `${open} idle strangers still open`);
  });

  it('a claim whose reply is lost is asked again and learns it won (the same node and epoch is granted again)', async function () {
    arbiter = await Arbiter.start({ stateFile: stateFile(), secret, log: () => {}, ...plain });
    proxy = await Proxy.start(arbiter.address);
    // The challenge line is 49 bytes: let it and one byte of the reply through, then go silent
    // towards the node (its side stays open, as when a reply is lost in a partition).
    const cut = proxy.cutAfter('down', 50, 'upstream');
    const c = { ...proxy.address, secret, timeoutMs: 500, deadlineMs: 20_000, ...plain };
    const d = await requestEpoch(c, 1, 'primary');
    await cut;
    assert.equal(proxy.accepted >= 2, true, 'the claim was asked again on a new connection');
    assert.deepEqual(d, { won: true, epoch: 1, owner: 'primary' });
    assert.deepEqual(arbiter.current, { epoch: 1, owner: 'primary' });
    // Another node's claim for the same epoch still loses.
    assert.equal((await requestEpoch({ ...arbiter.address, secret, ...plain }, 1, 'backup')).won, false);
  });

  it('a claim past its deadline gives up with ERR_ARBITER_UNREACHABLE, saying how often it asked', async function () {
    arbiter = await Arbiter.start({ stateFile: stateFile(), secret, log: () => {}, ...plain });
    const { port } = arbiter.address;
    await arbiter.close();
    arbiter = null;
    await assert.rejects(requestEpoch({ host: '127.0.0.1', port, secret, timeoutMs: 200, deadlineMs: 600, ...plain }, 1, 'x'),
      (e: LockstepError) => e.code === 'ERR_ARBITER_UNREACHABLE' && /\(\d+ attempts in 600 ms\)/.test(e.message));
  });

  it('under TLS (the default) too, a stranger that never finishes the TLS handshake is closed, and a flood cannot lock a client out', async function () {
    const limits = { handshakeMsMax: 400, pendingConnectionsMax: 4 };
    arbiter = await Arbiter.start({ stateFile: stateFile(), secret, log: () => {}, preAuth: limits });
    const idle = raw();
    await idle.closedWithin('an idle connection that never starts TLS');
    const flood = Array.from({ length: 3 * limits.pendingConnectionsMax }, () => raw());
    await stillServesTls();
    for (const f of flood) await f.closedWithin('a flooding connection that never starts TLS');
  });

  async function stillServesTls(): Promise<void> {
    const c = { ...arbiter!.address, secret };
    const before = await readEpoch(c);
    assert.equal((await requestEpoch(c, before.epoch + 1, 'tls-client')).won, true, 'a TLS client is served');
  }

  it('writes its state file with mode 0600', async function () {
    const file = stateFile();
    arbiter = await Arbiter.start({ stateFile: file, secret, log: () => {}, ...plain });
    await stillServes();
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('refuses at start, exit 2 and one line: --state in a missing folder, an address it cannot listen on', async function () {
    await assert.rejects(Arbiter.start({ stateFile: join(tmpdir(), 'no-such-folder-lockstep', 'state.json'), secret, insecure: true, log: () => {} }),
      (e: LockstepError) => e.code === 'ERR_USAGE' && /does not exist/.test(e.message));
    const cli = new URL('../cli/main.js', import.meta.url).pathname;
    const env = { ...process.env, LOCKSTEP_SECRET: secret };
    const cases: [string[], RegExp][] = [
      [['--state', join(tmpdir(), 'no-such-folder-lockstep', 's.json'), '--port', '0'], /--state folder .* does not exist/],
      // TEST-NET-3 (RFC 5737): an address this machine does not have.
      [['--state', stateFile(), '--host', '203.0.113.7', '--port', '0'], /cannot listen on 203\.0\.113\.7:0 \(EADDRNOTAVAIL\)/],
    ];
    for (const [args, re] of cases) {
      const r = spawnSync(process.execPath, [cli, 'arbiter', ...args], { env, encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2, `lockstep arbiter ${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
  });
});
