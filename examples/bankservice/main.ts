// The bank as a replicated HTTP service: run it with `lockstep primary` on one node and `lockstep
// backup` on another (README: "Live replication"). Clients POST /transfer {from,to,amount},
// /balance {account} and /quit {} with an x-lockstep-request-id header; each answer carries the
// x-lockstep-output-id of the output that made it. Only the live node listens for clients: the
// backup opens its port when it takes over. GET /status shows the node's replication state.
//
// Every answer passes the output rule. Transfers and balances are outputs (the gate releases them
// once the backup holds their log); GET /status reads the node's own state, so it is answered only
// after session.fence() has proved the node still holds its epoch, and refused (503) by a node that
// cannot prove it: a primary deposed while frozen or cut off never says "primary" after the backup
// has taken over.
//
// Every request is read inside session.input(), so it is an event of the log; a pool task
// applies it against balances in shared memory (ledger.ts) and emits the answer as an output,
// which the output gate releases only once the backup holds the log up to it. A request id seen
// before is answered from the applied table, never applied twice, so clients can resend after a
// failover. The main thread keeps no state of its own between requests: a quiescent point (no
// task in flight, main thread about to read) is where a new backup joins by state transfer.
//
// Sizes: BANK_ACCOUNTS (64), BANK_WORKERS (2), BANK_INFLIGHT (8), BANK_REQUESTS_MAX (65,536),
// BANK_PORT (0: any free port, announced on stderr), BANK_SUMMARY (a file for the final state),
// BANK_STATUS_PROOF_MS (1000: how long GET /status waits for the proof of the node's epoch).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { start } from 'lockstep';
import { envInt } from '../env.js';
import { answer, fencedStatus } from '../http.js';
import { Ledger, type Answer, type Reply, type Request } from './ledger.js';

const BODY_BYTES_MAX = 1024;
const accounts = envInt('BANK_ACCOUNTS', 64, 2, 1 << 20);
const workers = envInt('BANK_WORKERS', 2, 1, 32);
const inflightMax = envInt('BANK_INFLIGHT', 8, 1, 1024);
const requestsMax = envInt('BANK_REQUESTS_MAX', 1 << 16, 16, 1 << 22);
const port = envInt('BANK_PORT', 0, 0, 65_535);
const statusProofMs = envInt('BANK_STATUS_PROOF_MS', 1000, 1, 60_000);
/** The address clients reach it at (a replicated node on a host of its own binds that host's address). */
const host = process.env.BANK_HOST || '127.0.0.1';

const session = await start();
Ledger.create(session, accounts, 1000, requestsMax);
const requests = session.channel<Request>('requests', { capacity: inflightMax + 1, bytesMax: 512 });
const pool = session.pool(new URL('./teller.js', import.meta.url), { workers });

// ---- clients (live node only) ----
const waiting = new Map<string, ServerResponse[]>();
const queue: Request[] = [];
let wake: (() => void) | null = null;
let server: Server | null = null;

session.onOutput((o) => {
  if (o.channel !== 'reply') return;
  const r = o.value as Reply;
  const list = waiting.get(r.requestId);
  if (!list) return; // its client is gone (or asks again later: the teller answers from the table)
  waiting.delete(r.requestId);
  for (const res of list) answer(res, 200, r.responseId ?? o.id, r.answer);
});


function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET' && req.url === '/status') return fencedStatus(session, res, statusProofMs);
  const op = req.url?.slice(1);
  const requestId = req.headers['x-lockstep-request-id'];
  if (req.method !== 'POST' || (op !== 'transfer' && op !== 'balance' && op !== 'quit')) return answer(res, 404, null, { error: 'POST /transfer, /balance or /quit' });
  if (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > 100) return answer(res, 400, null, { error: 'x-lockstep-request-id header required' });
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => {
    body += c;
    if (body.length > BODY_BYTES_MAX) req.destroy();
  });
  req.on('end', () => {
    let fields: Record<string, unknown>;
    try {
      fields = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      return answer(res, 400, null, { error: 'the body must be JSON' });
    }
    const num = (k: string): number | undefined => (typeof fields[k] === 'number' ? (fields[k] as number) : undefined);
    const list = waiting.get(requestId) ?? [];
    list.push(res);
    waiting.set(requestId, list);
    queue.push({ requestId, op, from: num('from'), to: num('to'), amount: num('amount'), account: num('account') });
    wake?.();
  });
}


async function read(): Promise<Request> {
  while (queue.length === 0) await new Promise<void>((r) => (wake = r));
  wake = null;
  return queue.shift()!;
}

void session.whenLive().then(() => {
  server = createServer(handle);
  server.keepAliveTimeout = 1000;
  server.listen(port, host, () => {
    const addr = server!.address();
    console.error(`bankservice: listening on http://${host}:${typeof addr === 'object' && addr ? addr.port : port}`);
  });
}, () => {});

// ---- the service loop: one input at a time, up to inflightMax tasks running ----
const running = new Set<Promise<unknown>>();
let quit: Request | null = null;
while (!quit) {
  while (running.size >= inflightMax) await Promise.race(running);
  const req = await session.input(requests, read);
  if (req.op === 'quit') {
    quit = req;
    break;
  }
  const task: Promise<unknown> = pool.run(null).finally(() => running.delete(task));
  running.add(task);
}
await Promise.all(running);

const ledger = Ledger.attach(session);
const total = ledger.total();
if (process.env.BANK_SUMMARY) {
  writeFileSync(process.env.BANK_SUMMARY, JSON.stringify({ total, balances: [...ledger.balances], applied: ledger.entries() }));
}
session.output('reply', { requestId: quit.requestId, responseId: null, answer: { ok: true, balance: total } satisfies Answer } satisfies Reply);
const result = await session.finish();
console.log(JSON.stringify({ mode: result.mode, digest: result.digest, total, applied: ledger.entries().length, events: result.events, replication: session.replication() }));
const srv = server as Server | null;
srv?.close();
srv?.closeIdleConnections();
