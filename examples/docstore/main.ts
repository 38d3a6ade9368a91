// A CPU-bound document store as a replicated HTTP service: the example that shows why lockstep
// replays a multi-threaded program instead of replicating a single-threaded one. Clients POST
// /put/<key> with a document (a JSON array of records) as the body, /get/<key> and /quit, each
// with an x-lockstep-request-id header (the main thread does not parse the document: the worker
// that serves the request does); answers carry the x-lockstep-output-id of the output that
// made them. GET /status shows the node's replication state. Run it in modes off, record and
// replay, or as `lockstep primary` / `lockstep backup` (README: "The document store").
//
// Every request is read inside session.input(), so it is an event of the log; a pool task does the
// request's work (parse, canonicalise, index, deflate, hash: work.ts) outside any lock and copies
// the result into shared memory under the key's stripe mutex (store.ts), then emits the answer as
// an output. With DOCS_INLINE=1 the main thread does the work itself, with no pool and no locks:
// the same service as a single-threaded replicated state machine, whose log holds only its
// inputs and outputs (the baseline of bench/service).
//
// Sizes: DOCS_WORKERS (2), DOCS_INLINE (0), DOCS_KEYS (1024), DOCS_SLOT_BYTES (16384),
// DOCS_STRIPES (64), DOCS_INFLIGHT (16), DOCS_PORT (0: any free port, announced on stderr),
// DOCS_SUMMARY (a file for the final state: every key and its document's hash), DOCS_OUTPUTS (a
// file that gets every output as a JSON line, in replay too: what the tests compare).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { fileSink, start } from 'lockstep';
import { envInt } from '../env.js';
import { answer, fencedStatus } from '../http.js';
import { DocStore, type Answer, type Reply, type Request } from './store.js';

const BODY_BYTES_MAX = 128 * 1024;
const REQUEST_BYTES_MAX = BODY_BYTES_MAX + 1024;
const workers = envInt('DOCS_WORKERS', 2, 1, 32);
const inline = envInt('DOCS_INLINE', 0, 0, 1) === 1;
const keysMax = envInt('DOCS_KEYS', 1024, 1, 1 << 16);
const slotBytes = envInt('DOCS_SLOT_BYTES', 16_384, 1024, 1 << 20);
const stripes = envInt('DOCS_STRIPES', 64, 1, 4096);
const inflightMax = envInt('DOCS_INFLIGHT', 16, 1, 1024);
const port = envInt('DOCS_PORT', 0, 0, 65_535);

// GET /status answers only once the node has proved it still holds its epoch (as the bank service).
const statusProofMs = envInt('DOCS_STATUS_PROOF_MS', 1000, 1, 60_000);
const session = await start();
const store = DocStore.create(session, keysMax, slotBytes, stripes, !inline);
const requests = session.channel<Request>('requests', { capacity: inflightMax + 1, bytesMax: REQUEST_BYTES_MAX });
const pool = inline ? null : session.pool(new URL('./task.js', import.meta.url), { workers });

// ---- clients (live node only) ----
const waiting = new Map<string, ServerResponse[]>();
const queue: Request[] = [];
let wake: (() => void) | null = null;
let server: Server | null = null;

if (process.env.DOCS_OUTPUTS) session.onOutput(fileSink(process.env.DOCS_OUTPUTS));
session.onOutput((o) => {
  if (o.channel !== 'reply') return;
  const r = o.value as Reply;
  const list = waiting.get(r.requestId);
  if (!list) return; // its client is gone
  waiting.delete(r.requestId);
  for (const res of list) answer(res, 200, o.id, r.answer);
});


function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET' && req.url === '/status') return fencedStatus(session, res, statusProofMs);
  const [, op, keyText] = /^\/(put|get|quit)(?:\/(\d{1,9}))?$/.exec(req.url ?? '') ?? [];
  const requestId = req.headers['x-lockstep-request-id'];
  if (req.method !== 'POST' || !op || (op !== 'quit') !== (keyText !== undefined)) return answer(res, 404, null, { error: 'POST /put/<key>, /get/<key> or /quit' });
  if (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > 100) return answer(res, 400, null, { error: 'x-lockstep-request-id header required' });
  const parts: Buffer[] = [];
  let bytes = 0;
  req.on('data', (c: Buffer) => {
    bytes += c.length;
    if (bytes > BODY_BYTES_MAX) req.destroy();
    else parts.push(c);
  });
  req.on('end', () => {
    const list = waiting.get(requestId) ?? [];
    list.push(res);
    waiting.set(requestId, list);
    queue.push({
      requestId, op: op as Request['op'],
      ...(keyText !== undefined ? { key: Number(keyText) } : {}),
      ...(op === 'put' ? { doc: Buffer.concat(parts).toString('utf8') } : {}),
    });
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
  server.listen(port, '127.0.0.1', () => {
    const addr = server!.address();
    console.error(`docstore: listening on http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port}`);
  });
}, () => {});

// ---- the service loop: one input at a time, up to inflightMax tasks running ----
const running = new Set<Promise<unknown>>();
let quit: Request | null = null;
let served = 0;
while (!quit) {
  while (running.size >= inflightMax) await Promise.race(running);
  const req = await session.input(requests, read);
  if (req.op === 'quit') {
    quit = req;
    break;
  }
  served++;
  if (!pool) {
    // The single-threaded service: the main thread takes the request back and does the work.
    const r = requests.receive()!;
    session.output('reply', { requestId: r.requestId, answer: store.apply(r) } satisfies Reply);
    continue;
  }
  const task: Promise<unknown> = pool.run(null).finally(() => running.delete(task));
  running.add(task);
}
await Promise.all(running);

const entries = store.entries();
if (process.env.DOCS_SUMMARY) writeFileSync(process.env.DOCS_SUMMARY, JSON.stringify({ served, entries }));
session.output('reply', { requestId: quit.requestId, answer: { ok: true, records: entries.length } satisfies Answer } satisfies Reply);
const result = await session.finish();
console.log(JSON.stringify({ mode: result.mode, digest: result.digest, served, documents: entries.length, events: result.events, replication: session.replication() }));
const srv = server as Server | null;
srv?.close();
srv?.closeIdleConnections();
