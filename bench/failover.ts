// Replication figures on loopback (not a test), with the default failure detection (heartbeat
// 50 ms, timeout 300 ms), on the bank service and the test cluster driver:
//
// - the output gate's added latency (p50/p99 of the time an answer waits in the gate, from the
//   primary's /status), one request at a time and under a closed-loop load of LOAD_CLIENTS
//   clients; each trial's cluster serves one of the two, so the gate samples do not mix;
// - the same as seen by a client: round trips against primary + backup beside the same service
//   run alone in mode off (no log, no gate), one at a time and under the same load;
// - the cutover time: from the primary's death to the first answer from the new primary, for a
//   crash (kill -9: the channel closes at once; the one-at-a-time trials) and a silent death
//   (SIGSTOP, like a frozen machine: only the heartbeat timeout notices; the loaded trials).
//
// Run: npm run bench:failover (FAILOVER_TRIALS, default 5 of each kind; FAILOVER_REQUESTS, 200).

import { spawn } from 'node:child_process';
import { Client } from '../client/index.js';
import { Cluster, freePort, status } from '../test/cluster.js';

const trials = Number(process.env.FAILOVER_TRIALS ?? 5);
const requests = Number(process.env.FAILOVER_REQUESTS ?? 200);
const LOAD_CLIENTS = 8;
const SERVICE = new URL('../examples/bankservice/main.js', import.meta.url).pathname;
const defaults = { heartbeatMs: 50, timeoutMs: 300 };

const median = (xs: number[]): number => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const quantile = (xs: number[], q: number): number => {
  const s = xs.slice().sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const round = (x: number): number => Math.round(x * 1000) / 1000;

type Phase = 'sequential' | 'load';

/** Sends `requests` transfers, one at a time or from LOAD_CLIENTS concurrent clients; the round trips in ms. */
async function drive(client: Client, phase: Phase): Promise<{ rtts: number[]; perSecond: number }> {
  const rtts: number[] = [];
  let next = 0;
  const one = async (): Promise<void> => {
    for (let i = next++; i < requests; i = next++) {
      const t0 = performance.now();
      await client.request('/transfer', { from: i % 16, to: (i + 1) % 16, amount: 1 });
      rtts.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: phase === 'load' ? LOAD_CLIENTS : 1 }, one));
  return { rtts, perSecond: (requests * 1000) / (performance.now() - t0) };
}

/** The same service alone in mode off: the round trips a client sees without lockstep. */
async function baseline(phase: Phase): Promise<number[]> {
  const port = await freePort();
  const child = spawn(process.execPath, [SERVICE], {
    env: { ...process.env, LOCKSTEP_MODE: 'off', LOCKSTEP_REPLICATION: '', BANK_PORT: String(port), BANK_ACCOUNTS: '16', BANK_WORKERS: '2' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((r) => child.on('exit', r));
  try {
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.setEncoding('utf8').on('data', (c: string) => {
        err += c;
        if (/listening on/.test(err)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`the mode-off service exited (${code}): ${err}`)));
    });
    const client = new Client({ nodes: [`http://127.0.0.1:${port}`], attemptTimeoutMs: 2000, retryDelayMs: 5, deadlineMs: 20_000 });
    try {
      return (await drive(client, phase)).rtts;
    } finally {
      client.close();
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

const gates: Record<Phase, { p50: number; p99: number }[]> = { sequential: [], load: [] };
const rtt: Record<Phase, { lockstep: number[]; off: number[]; perSecond: number[] }> = {
  sequential: { lockstep: [], off: [], perSecond: [] },
  load: { lockstep: [], off: [], perSecond: [] },
};
const cutovers: Record<'crash' | 'silent', number[]> = { crash: [], silent: [] };
for (let trial = 0; trial < 2 * trials; trial++) {
  const phase: Phase = trial % 2 === 0 ? 'sequential' : 'load';
  const how = phase === 'sequential' ? 'crash' : 'silent';
  // Interleaved with the replicated runs, so both see the same machine load.
  rtt[phase].off.push(...(await baseline(phase)));
  const cluster = await Cluster.start();
  try {
    const a = await cluster.node('a', 'primary', { repl: defaults });
    await cluster.waitFor(a, /log channel on/);
    const b = await cluster.node('b', 'backup', { connect: a, repl: defaults });
    await cluster.waitFor(a, /listening on/);
    const client = new Client({ nodes: [a.url, b.url], attemptTimeoutMs: 200, retryDelayMs: 5, deadlineMs: 20_000 });
    const driven = await drive(client, phase);
    rtt[phase].lockstep.push(...driven.rtts);
    rtt[phase].perSecond.push(driven.perSecond);
    gates[phase].push((await status(a)).gateMs as { p50: number; p99: number });
    const killed = performance.now();
    a.child.kill(how === 'crash' ? 'SIGKILL' : 'SIGSTOP');
    await client.request('/transfer', { from: 1, to: 2, amount: 1 });
    cutovers[how].push(performance.now() - killed);
    if (how === 'silent') a.child.kill('SIGKILL');
    client.close();
  } finally {
    await cluster.close();
  }
}

const clientSide = (p: Phase): Record<string, number> => ({
  offP50Ms: round(quantile(rtt[p].off, 0.5)),
  offP99Ms: round(quantile(rtt[p].off, 0.99)),
  lockstepP50Ms: round(quantile(rtt[p].lockstep, 0.5)),
  lockstepP99Ms: round(quantile(rtt[p].lockstep, 0.99)),
  addedP50Ms: round(quantile(rtt[p].lockstep, 0.5) - quantile(rtt[p].off, 0.5)),
  addedP99Ms: round(quantile(rtt[p].lockstep, 0.99) - quantile(rtt[p].off, 0.99)),
  requestsPerSecond: Math.round(median(rtt[p].perSecond)),
});
console.log(JSON.stringify({
  trials,
  requests,
  // One request at a time (the gate's figures of earlier runs).
  gateP50Ms: round(median(gates.sequential.map((g) => g.p50))),
  gateP99Ms: round(median(gates.sequential.map((g) => g.p99))),
  load: {
    clients: LOAD_CLIENTS,
    gateP50Ms: round(median(gates.load.map((g) => g.p50))),
    gateP99Ms: round(median(gates.load.map((g) => g.p99))),
  },
  client: { sequential: clientSide('sequential'), load: clientSide('load') },
  cutoverMs: Object.fromEntries(Object.entries(cutovers).map(([k, xs]) => [k, { median: round(median(xs)), min: round(Math.min(...xs)), max: round(Math.max(...xs)) }])),
  defaults,
}));
