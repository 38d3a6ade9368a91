// Load for the bank service through lockstep/client, so that it rides through a failover as any
// client should: random transfers, each with its own request id, sent to the live node, resent
// to the next node when that one dies (same id: the service answers a resend from its applied
// table), duplicates dropped by output id.
//
// Usage: node dist/examples/bankservice/load.js <node url>… [seconds] [connections]
//   e.g. load.js http://127.0.0.1:8001 http://127.0.0.1:8002 20 8
// Every node's URL goes first (in any order), then the duration (default 10 s) and the number of
// requests kept in flight (default 8). LOAD_REQUESTS=<n> stops after n requests instead of a
// duration; LOAD_DEADLINE_MS is how long one request may take, failovers included (default
// 10000); LOAD_PROGRESS=1 prints "progress <answered>" to stderr every 100 answers. At the end it
// prints one JSON line: requests answered, requests/s, latency percentiles, failures by code, and
// the client's failovers, resends and dropped duplicates.

import { Client, ClientError } from 'lockstep/client';

const args = process.argv.slice(2);
const nodes = args.filter((a) => /^https?:\/\//.test(a));
const [seconds, connections] = args.filter((a) => !/^https?:\/\//.test(a)).map(Number);
if (nodes.length === 0) {
  console.error('usage: load.js <node url>… [seconds] [connections]   (e.g. http://127.0.0.1:8001 http://127.0.0.1:8002 20 8)');
  process.exit(2);
}
const duration = (seconds ?? 10) * 1000;
const inflight = connections ?? 8;
const requestsMax = Number(process.env.LOAD_REQUESTS ?? Infinity);
const accounts = Number(process.env.BANK_ACCOUNTS ?? 64);
const progress = process.env.LOAD_PROGRESS === '1';
const PROGRESS_EVERY = 100;

const client = new Client({ nodes, deadlineMs: Number(process.env.LOAD_DEADLINE_MS ?? 10_000) });
const latencies: number[] = [];
const failures: Record<string, number> = {};
const startedAt = performance.now();
let sent = 0;

async function worker(): Promise<void> {
  while (sent < requestsMax && performance.now() - startedAt < duration) {
    const n = sent++;
    const from = n % accounts;
    const to = (from + 1 + (n % (accounts - 1))) % accounts;
    const t0 = performance.now();
    try {
      await client.request('/transfer', { from, to, amount: 1 });
      latencies.push(performance.now() - t0);
      if (progress && latencies.length % PROGRESS_EVERY === 0) console.error(`progress ${latencies.length}`);
    } catch (e) {
      const code = e instanceof ClientError ? e.code : 'ERR_OTHER';
      failures[code] = (failures[code] ?? 0) + 1;
    }
  }
}

await Promise.all(Array.from({ length: inflight }, () => worker()));
const elapsed = (performance.now() - startedAt) / 1000;
client.close();
latencies.sort((a, b) => a - b);
const at = (q: number): number => (latencies.length === 0 ? 0 : Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 10) / 10);
const { resent, duplicates, failovers } = client.stats;
console.log(JSON.stringify({
  requests: latencies.length,
  requestsPerSecond: Math.round(latencies.length / elapsed),
  latencyMs: { p50: at(0.5), p99: at(0.99), max: at(1) },
  failures,
  failovers,
  resent,
  duplicates,
}));
