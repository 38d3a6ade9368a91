// Load for the bank service with autocannon: random transfers, each with its own request id (the
// service treats a repeated id as a resend). Usage: node dist/examples/bankservice/load.js
// <url> [seconds] [connections]; prints requests/s and latency percentiles. Failover is not its
// business: point it at the live node (or use lockstep/client for that).

import autocannon, { type Request } from 'autocannon';

const url = process.argv[2] ?? 'http://127.0.0.1:8001';
const duration = Number(process.argv[3] ?? 10);
const connections = Number(process.argv[4] ?? 8);
const accounts = Number(process.env.BANK_ACCOUNTS ?? 64);
const run = Math.random().toString(16).slice(2, 10);
let n = 0;

const result = await autocannon({
  url,
  duration,
  connections,
  requests: [{
    method: 'POST',
    path: '/transfer',
    setupRequest: (req: Request): Request => {
      const from = n % accounts;
      const to = (from + 1 + (n % (accounts - 1))) % accounts;
      n++;
      return {
        ...req,
        headers: { 'content-type': 'application/json', 'x-lockstep-request-id': `load-${run}:${n}` },
        body: JSON.stringify({ from, to, amount: 1 }),
      };
    },
  }],
});
console.log(JSON.stringify({
  requests: result.requests.total,
  requestsPerSecond: result.requests.average,
  latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  non2xx: result.non2xx,
  errors: result.errors,
}));
