// Protocol fuzzer (issue 10): strangers throw seeded garbage at the arbiter and at a primary's log
// channel (random bytes, truncated and mistyped messages, wrong-length fields, lying lengths, bad
// checksums, replayed requests, floods of connections) while real clients keep using them. The
// node and the arbiter must never exit and must serve their real clients throughout. Loopback only,
// bounded in count. The seed is printed; LOCKSTEP_PROTOCOL_SEED reruns it, and
// LOCKSTEP_PROTOCOL_CASES sets the number of cases per target (default 150).

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../client/index.js';
import { readEpoch, requestEpoch, requestMac } from '../replication/arbiter.js';
import { Msg, encode, mac, nonce } from '../replication/wire.js';
import { Cluster, type NodeProc } from './cluster.js';
import { prng } from './prng.js';

const seed = process.env.LOCKSTEP_PROTOCOL_SEED ? Number(process.env.LOCKSTEP_PROTOCOL_SEED) : Date.now() % 1_000_000;
const CASES = process.env.LOCKSTEP_PROTOCOL_CASES ? Number(process.env.LOCKSTEP_PROTOCOL_CASES) : 150;
/** Strangers in flight at once (a flood case opens more). */
const PARALLEL = 6;
/** How long a stranger lingers after its last write before it hangs up (the server may close first). */
const LINGER_MS = 150;
/** Bound on waits for events that must come. */
const WAIT_MS = 20_000;
const secret = 'fuzz-secret';

type Rand = () => number;

const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const bytes = (r: Rand, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(r, 0, 255)));
const hex = (r: Rand, n: number): string => Array.from({ length: n }, () => '0123456789abcdefXYZ'[int(r, 0, r() < 0.9 ? 15 : 18)]).join('');

/** A value of a random JSON-ish type, for mistyped fields. */
function anyValue(r: Rand, depth = 0): unknown {
  switch (int(r, 0, depth > 1 ? 5 : 7)) {
    case 0: return null;
    case 1: return int(r, -5, 5) * (r() < 0.2 ? 1e15 : 1) + (r() < 0.2 ? 0.5 : 0);
    case 2: return hex(r, int(r, 0, 80));
    case 3: return r() < 0.5;
    case 4: return pick(r, [Number.NaN, Infinity, -0, Number.MAX_SAFE_INTEGER + 2]);
    case 5: return '';
    case 6: return Array.from({ length: int(r, 0, 3) }, () => anyValue(r, depth + 1));
    default: return Object.fromEntries(Array.from({ length: int(r, 0, 3) }, (_, i) => [`k${i}`, anyValue(r, depth + 1)]));
  }
}

/** A stranger's connection: what it wants to do once connected, and when it is done. */
async function stranger(port: number, act: (s: Socket, firstChunk: () => Promise<Buffer | null>) => Promise<void>): Promise<void> {
  const s = connect({ host: '127.0.0.1', port });
  s.on('error', () => {});
  const closed = new Promise<void>((r) => s.on('close', () => r()));
  let first: Buffer | null = null;
  const waiting: (() => void)[] = [];
  s.on('data', (c: Buffer) => {
    first ??= c;
    for (const w of waiting.splice(0)) w();
  });
  s.on('close', () => {
    for (const w of waiting.splice(0)) w();
  });
  const firstChunk = async (): Promise<Buffer | null> => {
    if (!first && !s.destroyed) await Promise.race([new Promise<void>((r) => waiting.push(r)), new Promise((r) => setTimeout(r, 2000))]);
    return first;
  };
  try {
    await new Promise<void>((resolve) => {
      s.once('connect', () => resolve());
      s.once('close', () => resolve());
    });
    if (!s.destroyed) await act(s, firstChunk);
    await Promise.race([closed, new Promise((r) => setTimeout(r, LINGER_MS))]);
  } finally {
    s.destroy();
  }
}

/** Runs `cases` stranger cases, PARALLEL at a time. */
async function campaign(cases: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < cases) await one(next++);
  }));
}

// ---- the arbiter's strangers ----

const ARBITER_KINDS = ['random', 'truncated', 'mistyped', 'wrong-length', 'wrong-secret', 'replayed', 'flood', 'no-newline'] as const;

async function arbiterCase(port: number, r: Rand, kind: (typeof ARBITER_KINDS)[number]): Promise<void> {
  const signed = (challenge: string, secretUsed = secret): string => {
    const n = nonce();
    return JSON.stringify({ op: 'tas', epoch: int(r, 1, 4), node: 'stranger', nonce: n, mac: requestMac(secretUsed, 'tas', 1, 'stranger', challenge, n) });
  };
  const challengeOf = async (first: () => Promise<Buffer | null>): Promise<string> => {
    const c = await first();
    try {
      return (JSON.parse(String(c).split('\n')[0]!) as { challenge: string }).challenge;
    } catch {
      return 'none';
    }
  };
  switch (kind) {
    case 'random':
      return stranger(port, async (s) => void s.write(bytes(r, int(r, 1, 600))));
    case 'truncated':
      return stranger(port, async (s, first) => void s.write(signed(await challengeOf(first)).slice(0, int(r, 0, 120))));
    case 'mistyped':
      return stranger(port, async (s) => {
        const fields = Object.fromEntries(['op', 'epoch', 'node', 'nonce', 'mac'].filter(() => r() < 0.8).map((k) => [k, r() < 0.3 && k === 'op' ? 'tas' : anyValue(r)]));
        s.write(`${pick(r, [JSON.stringify(fields), JSON.stringify(anyValue(r)), 'null', '[]', '{"op":"tas"'])}\n`);
      });
    case 'wrong-length':
      return stranger(port, async (s, first) => {
        await first();
        s.write(`${JSON.stringify({ op: pick(r, ['tas', 'get']), epoch: 1, node: 'n'.repeat(int(r, 0, 300)), nonce: hex(r, int(r, 0, 40)), mac: hex(r, pick(r, [0, 1, 63, 64, 65, 128, int(r, 0, 130)])) })}\n`);
      });
    case 'wrong-secret':
      return stranger(port, async (s, first) => void s.write(`${signed(await challengeOf(first), 'not-the-secret')}\n`));
    case 'replayed':
      return stranger(port, async (s) => void s.write(`${signed(nonce())}\n`));
    case 'no-newline':
      return stranger(port, async (s) => {
        for (let i = 0; i < 8 && !s.destroyed; i++) {
          s.write('x'.repeat(int(r, 100, 1500)));
          await new Promise((res) => setTimeout(res, 10));
        }
      });
    case 'flood':
      await Promise.all(Array.from({ length: int(r, 20, 60) }, () => stranger(port, async (s) => {
        if (r() < 0.5) s.write(bytes(r, int(r, 0, 40)));
      })));
  }
}

// ---- the log channel's strangers ----

const CHANNEL_KINDS = ['random', 'lying-length', 'bad-crc', 'hello-mutant', 'hello-wrong-secret', 'hello-replayed', 'before-hello', 'truncated', 'flood'] as const;

function frameWith(payload: Buffer, crcOk: boolean): Buffer {
  const f = Buffer.from(encode(Msg.Heartbeat, {}));
  const out = Buffer.alloc(8 + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crcOk ? 0 : f.readUInt32LE(4), 4);
  payload.copy(out, 8);
  return out;
}

async function channelCase(port: number, r: Rand, kind: (typeof CHANNEL_KINDS)[number]): Promise<void> {
  const challengeOf = async (first: () => Promise<Buffer | null>): Promise<string> => {
    const c = await first();
    try {
      const { deserialize } = await import('node:v8');
      return (deserialize(c!.subarray(9, 8 + c!.readUInt32LE(0))) as { nonce: string }).nonce;
    } catch {
      return 'none';
    }
  };
  switch (kind) {
    case 'random':
      return stranger(port, async (s) => void s.write(bytes(r, int(r, 1, 2000))));
    case 'lying-length':
      return stranger(port, async (s) => {
        const h = Buffer.alloc(8);
        h.writeUInt32LE(pick(r, [0, 1, 4097, 1 << 20, 1 << 30, 0xffffffff, int(r, 0, 0xffffffff)]) >>> 0, 0);
        s.write(Buffer.concat([h, bytes(r, int(r, 0, 3000))]));
      });
    case 'bad-crc':
      return stranger(port, async (s) => void s.write(frameWith(Buffer.concat([Buffer.from([Msg.Hello]), bytes(r, int(r, 1, 200))]), false)));
    case 'hello-mutant':
      return stranger(port, async (s, first) => {
        await first();
        const body = r() < 0.3 ? anyValue(r) : { node: r() < 0.5 ? anyValue(r) : 'n'.repeat(int(r, 0, 400)), join: anyValue(r), mac: r() < 0.5 ? anyValue(r) : hex(r, int(r, 0, 130)), nonce: r() < 0.5 ? anyValue(r) : hex(r, int(r, 0, 40)) };
        s.write(encode(Msg.Hello, body));
      });
    case 'hello-wrong-secret':
      return stranger(port, async (s, first) => {
        const c = await challengeOf(first);
        s.write(encode(Msg.Hello, { node: 'stranger', join: r() < 0.5, mac: mac('not-the-secret', 'hello', c, 'stranger'), nonce: nonce() }));
      });
    case 'hello-replayed':
      // A MAC made with the secret for another connection's challenge.
      return stranger(port, async (s, first) => {
        await first();
        s.write(encode(Msg.Hello, { node: 'stranger', join: false, mac: mac(secret, 'hello', nonce(), 'stranger'), nonce: nonce() }));
      });
    case 'before-hello':
      return stranger(port, async (s, first) => {
        await first();
        const type = pick(r, [Msg.Ack, Msg.Log, Msg.End, Msg.Snapshot, Msg.Done, Msg.Welcome, Msg.Heartbeat, 99]);
        s.write(type === Msg.Log ? encode(Msg.Log, bytes(r, int(r, 1, 300))) : encode(type as Msg, anyValue(r)));
      });
    case 'truncated':
      return stranger(port, async (s, first) => {
        await first();
        const f = encode(Msg.Hello, { node: 'x', join: false, mac: 'a'.repeat(64), nonce: 'b'.repeat(32) });
        s.write(f.subarray(0, int(r, 1, f.length - 1)));
      });
    case 'flood':
      await Promise.all(Array.from({ length: int(r, 20, 60) }, () => stranger(port, async (s) => {
        if (r() < 0.5) s.write(bytes(r, int(r, 0, 40)));
      })));
  }
}

describe('protocol fuzzer: the arbiter and the log channel under strangers', function () {
  this.timeout(180_000);
  let arbiterChild: ChildProcess | null = null;
  let cluster: Cluster | null = null;
  let client: Client | null = null;

  before(function () {
    console.log(`      seed ${seed}, ${CASES} cases per target (LOCKSTEP_PROTOCOL_SEED=${seed} reruns it)`);
  });

  after(async function () {
    client?.close();
    if (arbiterChild && arbiterChild.exitCode === null) {
      const exited = new Promise((r) => arbiterChild!.once('exit', r));
      arbiterChild.kill('SIGKILL');
      await exited;
    }
    await cluster?.close();
  });

  it('`lockstep arbiter` never exits and keeps granting epochs to a real client', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-fuzz-'));
    const cli = new URL('../cli/main.js', import.meta.url).pathname;
    // Plaintext: the strangers speak the protocol itself (under TLS it runs inside the session).
    const child = spawn(process.execPath, [cli, 'arbiter', '--state', join(dir, 'state.json'), '--port', '0', '--insecure'], { env: { ...process.env, LOCKSTEP_SECRET: secret }, stdio: ['ignore', 'ignore', 'pipe'] });
    arbiterChild = child;
    let err = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on [\d.]+:(\d+)/.exec(err);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`the arbiter exited (${code}) at start: ${err}`)));
    });
    const r = prng(seed);
    const real = { host: '127.0.0.1', port, secret, timeoutMs: 2000, deadlineMs: WAIT_MS, insecure: true };
    let granted = 0;
    let fuzzing = true;
    const realClient = (async () => {
      while (fuzzing) {
        const current = await readEpoch(real);
        const d = await requestEpoch(real, current.epoch + 1, 'real');
        assert.equal(d.won, true, `the real client's claim of epoch ${current.epoch + 1}: ${JSON.stringify(d)}`);
        granted++;
        await new Promise((res) => setTimeout(res, 30));
      }
    })();
    const counts: Record<string, number> = {};
    await campaign(CASES, async () => {
      const kind = pick(r, ARBITER_KINDS);
      counts[kind] = (counts[kind] ?? 0) + 1;
      await arbiterCase(port, r, kind);
      assert.equal(child.exitCode, null, `the arbiter exited (${child.exitCode}) during a ${kind} case; stderr:\n${err}`);
    });
    fuzzing = false;
    await realClient;
    console.log(`      arbiter: ${JSON.stringify(counts)}; the real client won ${granted} epochs meanwhile`);
    assert.ok(granted > 0);
    assert.equal(child.exitCode, null, `the arbiter exited; stderr:\n${err}`);
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { epoch: number; owner: string };
    assert.deepEqual(state, { epoch: granted, owner: 'real' }, 'only the real client ever won an epoch');
  });

  it('a primary never exits, its backup stays attached, and its clients are served throughout', async function () {
    cluster = await Cluster.start(secret, { insecure: true });
    const c = cluster;
    const a = await c.node('A', 'primary', { repl: { preAuth: { handshakeMsMax: 1000 }, insecure: true } });
    await c.waitFor(a, /is the primary \(epoch 1\)/);
    const b = await c.node('B', 'backup', { connect: a, repl: { insecure: true } });
    await c.waitFor(a, /bankservice: listening on/);
    client = new Client({ nodes: [a.url], deadlineMs: WAIT_MS });
    const attached = async (n: NodeProc): Promise<boolean> => {
      const r = await fetch(`${n.url}/status`).then((x) => x.json() as Promise<{ backup?: string }>, () => null);
      return r?.backup === 'B';
    };
    for (const end = Date.now() + WAIT_MS; !(await attached(a));) {
      assert.ok(Date.now() < end, `B never attached; B stderr:\n${b.stderr()}`);
      await new Promise((res) => setTimeout(res, 25));
    }
    const r = prng(seed + 1);
    let transfers = 0;
    let fuzzing = true;
    const realClient = (async () => {
      while (fuzzing) {
        const from = transfers % 16;
        const answer: { body: { ok: boolean } } = await client!.request<{ ok: boolean }>('/transfer', { from, to: (from + 1) % 16, amount: 1 });
        assert.equal(answer.body.ok, true, `transfer ${transfers}: ${JSON.stringify(answer.body)}`);
        transfers++;
      }
    })();
    const counts: Record<string, number> = {};
    await campaign(CASES, async () => {
      const kind = pick(r, CHANNEL_KINDS);
      counts[kind] = (counts[kind] ?? 0) + 1;
      await channelCase(a.channel, r, kind);
      assert.equal(a.child.exitCode, null, `A exited (${a.child.exitCode}) during a ${kind} case; stderr:\n${a.stderr()}`);
    });
    fuzzing = false;
    await realClient;
    console.log(`      channel: ${JSON.stringify(counts)}; ${transfers} transfers answered meanwhile`);
    assert.ok(transfers > 0);
    assert.ok(await attached(a), `B no longer attached; A stderr:\n${a.stderr()}`);
    assert.equal((await client.request<{ ok: boolean }>('/quit', {})).body.ok, true);
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    assert.equal(ea.code, 0, `A exited ${ea.code}; stderr:\n${a.stderr()}`);
    assert.equal(eb.code, 0, `B exited ${eb.code}; stderr:\n${b.stderr()}`);
    assert.equal(b.result()!.digest, a.result()!.digest, 'the backup replayed to the primary\'s digest');
  });
});
