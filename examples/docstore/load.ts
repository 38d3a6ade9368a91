// A closed-loop load generator for the document store: `clients` loops on keep-alive HTTP
// connections, each sending its next request as soon as the previous one is answered. Request i
// is a PUT of a seeded document (work.ts makeDoc(seed + i)) under key i % keys, except every
// getEvery-th, a GET of a key already put. Bodies are built before the clock starts, so the
// generator's own work per request is small. Each request has its own request id.
//
// As a program: node dist/examples/docstore/load.js <url> [requests] [clients]; prints one JSON
// line (requests/s, latency percentiles). Failover is not its business: point it at the live
// node (or use lockstep/client for that, as the tests do).

import { Agent, request } from 'node:http';
import { makeDoc } from './work.js';

export interface LoadOptions {
  url: string;
  requests: number;
  clients: number;
  seed?: number;
  /** Records per document (about 150 bytes of JSON each). */
  records?: number;
  keys?: number;
  /** Every n-th request is a GET (0: none). */
  getEvery?: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  failed: number;
}

export const RECORDS_DEFAULT = 100;

export async function drive(o: LoadOptions): Promise<LoadResult> {
  const seed = o.seed ?? 1;
  const keys = o.keys ?? 1024;
  const getEvery = o.getEvery ?? 4;
  const run = `load-${seed}-${process.pid}`;
  const bodies: { path: string; body: Buffer }[] = [];
  for (let i = 0; i < o.requests; i++) {
    const get = getEvery > 0 && i % getEvery === getEvery - 1;
    bodies.push(get
      ? { path: `/get/${(i - 1) % keys}`, body: Buffer.alloc(0) }
      : { path: `/put/${i % keys}`, body: Buffer.from(makeDoc(seed + i, o.records ?? RECORDS_DEFAULT)) });
  }
  const agent = new Agent({ keepAlive: true, maxSockets: o.clients });
  const { hostname, port } = new URL(o.url);
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const send = (i: number): Promise<void> => new Promise((resolve, reject) => {
    const req = request({
      host: hostname, port, agent, method: 'POST', path: bodies[i]!.path,
      headers: { 'content-type': 'application/json', 'content-length': bodies[i]!.body.length, 'x-lockstep-request-id': `${run}:${i}` },
    }, (res) => {
      if (res.statusCode !== 200) failed++;
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(bodies[i]!.body);
  });
  const loop = async (): Promise<void> => {
    for (let i = next++; i < o.requests; i = next++) {
      const t0 = performance.now();
      await send(i);
      latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: o.clients }, loop));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((x, y) => x - y);
  const at = (q: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 100) / 100;
  return { requests: o.requests, seconds, perSecond: o.requests / seconds, latencyMs: { p50: at(0.5), p99: at(0.99), max: at(1) }, failed };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const r = await drive({ url: process.argv[2] ?? 'http://127.0.0.1:8001', requests: Number(process.argv[3] ?? 1000), clients: Number(process.argv[4] ?? 8) });
  console.log(JSON.stringify(r));
}
