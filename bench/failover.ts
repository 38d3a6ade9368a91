// Replication figures on loopback (not a test), with the default failure detection (heartbeat
// 50 ms, timeout 300 ms): the output gate's added latency (p50/p99, from the primary's /status)
// under a steady client load, and the cutover time: from the primary's death to the first answer
// from the new primary, for a crash (kill -9: the channel closes at once) and for a silent death
// (SIGSTOP, like a frozen machine: only the heartbeat timeout notices). Run: npm run build && node dist/bench/failover.js
// (FAILOVER_TRIALS, default 5). Uses the bank service and the test cluster driver.

import { Client } from '../client/index.js';
import { Cluster, status } from '../test/cluster.js';

const trials = Number(process.env.FAILOVER_TRIALS ?? 5);
const median = (xs: number[]): number => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const defaults = { heartbeatMs: 50, timeoutMs: 300 };
const cutovers: Record<'crash' | 'silent', number[]> = { crash: [], silent: [] };
const gates: { p50: number; p99: number }[] = [];
for (let trial = 0; trial < 2 * trials; trial++) {
  const how = trial % 2 === 0 ? 'crash' : 'silent';
  const cluster = await Cluster.start();
  try {
    const a = await cluster.node('a', 'primary', { repl: defaults });
    await cluster.waitFor(a, /log channel on/);
    const b = await cluster.node('b', 'backup', { connect: a, repl: defaults });
    await cluster.waitFor(a, /listening on/);
    const client = new Client({ nodes: [a.url, b.url], attemptTimeoutMs: 200, retryDelayMs: 5, deadlineMs: 20_000 });
    for (let i = 0; i < 200; i++) await client.request('/transfer', { from: i % 16, to: (i + 1) % 16, amount: 1 });
    const gate = (await status(a)).gateMs as { p50: number; p99: number };
    gates.push(gate);
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
console.log(JSON.stringify({
  trials,
  gateP50Ms: median(gates.map((g) => g.p50)),
  gateP99Ms: median(gates.map((g) => g.p99)),
  cutoverMs: Object.fromEntries(Object.entries(cutovers).map(([k, xs]) => [k, { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }])),
  defaults,
}));
