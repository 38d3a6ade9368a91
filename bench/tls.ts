// What TLS costs on the log channel (not a test): plaintext (--insecure), TLS with the key derived
// from the cluster secret (PSK, the default) and mutual TLS with certificates, side by side in
// one run, variants interleaved round by round so a machine's drift hits all three alike.
//
// - channel bandwidth: MiB/s that one connection of replication/transport.ts carries, sender to
//   receiver, in log-frame-sized writes (64 KiB), and the bytes on the wire per byte sent;
// - the bank service as primary + backup (test/cluster.ts) through a byte-counting relay on the
//   log channel: the output gate's added latency (p50/p99 from the primary's /status), requests
//   per second, and log-channel bytes per request, one request at a time and under LOAD_CLIENTS
//   concurrent clients.
//
// Run: npm run bench:tls (TLS_ROUNDS, default 2; TLS_REQUESTS, default 200; TLS_MIB, default 128).
// Writes bench/results/tls.json.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCerts } from '../cli/certs.js';
import { Client } from '../client/index.js';
import { dial, listen, transportOf, type SecurityOptions, type TlsFiles } from '../replication/transport.js';
import { Cluster, status } from '../test/cluster.js';

const rounds = Number(process.env.TLS_ROUNDS ?? 2);
const requests = Number(process.env.TLS_REQUESTS ?? 200);
const mib = Number(process.env.TLS_MIB ?? 128);
const LOAD_CLIENTS = 8;
const WRITE_BYTES = 64 << 10;
const SECRET = 'bench-secret';

type Variant = 'plain' | 'psk' | 'certs';
const variants: Variant[] = ['plain', 'psk', 'certs'];

const median = (xs: number[]): number => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

function security(v: Variant, certs: string, node: string): SecurityOptions & { insecure?: boolean; tls?: TlsFiles } {
  if (v === 'plain') return { secret: SECRET, insecure: true };
  if (v === 'psk') return { secret: SECRET };
  return { secret: SECRET, tls: { cert: join(certs, `${node}.pem`), key: join(certs, `${node}.key`), ca: join(certs, 'ca.pem') } };
}

/** A relay that counts the bytes it forwards each way. */
async function counter(target: { host: string; port: number }): Promise<{ server: Server; port: number; bytes: { down: number; up: number } }> {
  const bytes = { down: 0, up: 0 };
  const server = createServer((client) => {
    const upstream = connect(target);
    client.on('data', (b: Buffer) => {
      bytes.up += b.length;
      upstream.write(b);
    });
    upstream.on('data', (b: Buffer) => {
      bytes.down += b.length;
      client.write(b);
    });
    for (const [s, o] of [[client, upstream], [upstream, client]] as const) {
      s.on('error', () => o.destroy());
      s.on('close', () => o.destroy());
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port, bytes };
}

/** MiB/s one transport connection carries, and wire bytes per payload byte. */
async function bandwidth(v: Variant, certs: string): Promise<{ mibPerSecond: number; overhead: number }> {
  const total = mib << 20;
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const server = listen(transportOf(security(v, certs, 'b')), (s) => {
    s.on('data', (b: Buffer) => {
      received += b.length;
      if (received >= total) done();
    });
    s.on('error', () => {});
  }, () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const relay = await counter({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
  const s = dial(transportOf(security(v, certs, 'a')), { host: '127.0.0.1', port: relay.port }, 'a');
  const chunk = Buffer.alloc(WRITE_BYTES, 0x5a);
  await new Promise<void>((r) => s.once(v === 'plain' ? 'connect' : 'secureConnect', () => r()));
  const t0 = performance.now();
  for (let sent = 0; sent < total; sent += WRITE_BYTES) {
    if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
  }
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  s.destroy();
  relay.server.close();
  server.close();
  return { mibPerSecond: mib / seconds, overhead: relay.bytes.up / total };
}

async function drive(client: Client, load: boolean): Promise<number> {
  let next = 0;
  const one = async (): Promise<void> => {
    for (let i = next++; i < requests; i = next++) await client.request('/transfer', { from: i % 16, to: (i + 1) % 16, amount: 1 });
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: load ? LOAD_CLIENTS : 1 }, one));
  return (requests * 1000) / (performance.now() - t0);
}

interface ServiceFigures {
  gateP50: number;
  gateP99: number;
  perSecond: number;
  bytesPerRequest: number;
}

/** Primary + backup of the bank service with `v` on the channel; one phase per cluster so gate samples do not mix. */
async function service(v: Variant, certs: string, load: boolean): Promise<ServiceFigures> {
  const sec = (n: string) => {
    const { secret: _, ...rest } = security(v, certs, n);
    return rest;
  };
  const cluster = await Cluster.start(SECRET, sec('arbiter'));
  try {
    const a = await cluster.node('A', 'primary', { repl: { ...sec('a'), heartbeatMs: 50, timeoutMs: 1000, waitBackupMs: 30_000 } });
    await cluster.waitFor(a, /is the primary \(epoch 1\)/);
    const relay = await counter({ host: '127.0.0.1', port: a.channel });
    try {
      await cluster.node('B', 'backup', { repl: { ...sec('b'), heartbeatMs: 50, timeoutMs: 1000, connect: { host: '127.0.0.1', port: relay.port } } });
      await cluster.waitFor(a, /bankservice: listening on/);
      for (;;) {
        if ((await status(a)).backup === 'B') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const client = new Client({ nodes: [a.url], deadlineMs: 30_000 });
      const before = relay.bytes.down + relay.bytes.up;
      const perSecond = await drive(client, load);
      const bytes = relay.bytes.down + relay.bytes.up - before;
      client.close();
      const gate = (await status(a)).gateMs as { p50: number; p99: number };
      return { gateP50: gate.p50, gateP99: gate.p99, perSecond, bytesPerRequest: bytes / requests };
    } finally {
      relay.server.close();
    }
  } finally {
    await cluster.close();
  }
}

async function main(): Promise<void> {
  const certs = join(mkdtempSync(join(tmpdir(), 'lockstep-bench-tls-')), 'certs');
  makeCerts(certs, ['a', 'b', 'arbiter'], 2);
  const bw: Record<Variant, { mibPerSecond: number[]; overhead: number[] }> = { plain: { mibPerSecond: [], overhead: [] }, psk: { mibPerSecond: [], overhead: [] }, certs: { mibPerSecond: [], overhead: [] } };
  const svc: Record<string, ServiceFigures[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const b = await bandwidth(v, certs);
      bw[v].mibPerSecond.push(b.mibPerSecond);
      bw[v].overhead.push(b.overhead);
      for (const load of [false, true]) (svc[`${v}/${load ? 'load' : 'sequential'}`] ??= []).push(await service(v, certs, load));
      console.error(`round ${r + 1}/${rounds} ${v}: ${round(b.mibPerSecond, 1)} MiB/s`);
    }
  }
  const out: Record<string, unknown> = { rounds, requests, mib, loadClients: LOAD_CLIENTS, variants: {} };
  const lines: string[] = ['variant  channel MiB/s  wire/payload  | phase       gate p50 ms  gate p99 ms  req/s   log bytes/req'];
  for (const v of variants) {
    const mibs = median(bw[v].mibPerSecond);
    const row: Record<string, unknown> = { channelMiBPerSecond: round(mibs, 1), wirePerPayloadByte: round(median(bw[v].overhead), 4), ratioToPlain: round(mibs / median(bw.plain.mibPerSecond), 3) };
    for (const phase of ['sequential', 'load']) {
      const xs = svc[`${v}/${phase}`]!;
      const f = { gateP50: round(median(xs.map((x) => x.gateP50))), gateP99: round(median(xs.map((x) => x.gateP99))), perSecond: round(median(xs.map((x) => x.perSecond)), 1), bytesPerRequest: Math.round(median(xs.map((x) => x.bytesPerRequest))) };
      row[phase] = f;
      lines.push(`${v.padEnd(8)} ${String(round(mibs, 1)).padStart(13)}  ${String(round(median(bw[v].overhead), 4)).padStart(12)}  | ${phase.padEnd(10)} ${String(f.gateP50).padStart(12)} ${String(f.gateP99).padStart(12)} ${String(f.perSecond).padStart(7)} ${String(f.bytesPerRequest).padStart(15)}`);
    }
    (out.variants as Record<string, unknown>)[v] = row;
  }
  console.log(lines.join('\n'));
  const dir = new URL('../../bench/results/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tls.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(`written ${join(dir, 'tls.json')}`);
}

await main();
