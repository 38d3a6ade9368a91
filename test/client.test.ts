// lockstep/client against fake nodes: plain node:http servers on 127.0.0.1 that play a live
// primary, a backup answering 503, a dead node (connection refused), a hung node, or a new primary
// re-sending an output. Tests bound their time with short timeouts and never assert on timing.

import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, ClientError, Retry, Seen, type Reply, type Step } from '../client/index.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

interface FakeNode {
  url: string;
  /** The x-lockstep-request-id of every request this node received, in order. */
  ids: string[];
  close(): Promise<void>;
}

const servers = new Set<Server>();

async function fakeNode(handler: Handler): Promise<FakeNode> {
  const ids: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      ids.push(String(req.headers['x-lockstep-request-id']));
      handler(req, Buffer.concat(chunks).toString('utf8'), res);
    });
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ids,
    close: () => stop(server),
  };
}

function stop(server: Server): Promise<void> {
  if (!servers.delete(server)) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The URL of a port nothing listens on: connecting to it is refused. */
async function deadNode(): Promise<string> {
  const n = await fakeNode(() => undefined);
  await n.close();
  return n.url;
}

/** A live primary: answers 200 with the given output ids in turn and echoes the body. */
function primary(outputIds: () => string): Handler {
  return (req, body, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-lockstep-output-id': outputIds() });
    res.end(JSON.stringify({ echo: JSON.parse(body), path: req.url, type: req.headers['content-type'] }));
  };
}

function counter(thread = 0): () => string {
  let seq = 0;
  return () => `${thread}:${++seq}`;
}

const backup: Handler = (_req, _body, res) => {
  res.writeHead(503, { 'x-lockstep-role': 'backup' });
  res.end('not live');
};

function code(expected: string, ...inMessage: string[]) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof ClientError, `expected a ClientError, got ${String(e)}`);
    assert.equal(e.code, expected, e.message);
    for (const s of inMessage) assert.ok(e.message.includes(s), `message lacks "${s}": ${e.message}`);
    return true;
  };
}

describe('client', function () {
  this.timeout(5000);
  const clients: Client[] = [];
  function client(o: ConstructorParameters<typeof Client>[0]): Client {
    const c = new Client({ attemptTimeoutMs: 500, retryDelayMs: 10, deadlineMs: 3000, ...o });
    clients.push(c);
    return c;
  }

  afterEach(async function () {
    for (const c of clients.splice(0)) c.close();
    await Promise.all([...servers].map(stop));
  });

  it('sends to the first node: request id <clientId>:<n> in its header, JSON body both ways', async function () {
    const a = await fakeNode(primary(counter()));
    const b = await fakeNode(primary(counter()));
    const c = client({ nodes: [a.url + '/', b.url] });
    assert.match(c.clientId, /^[0-9a-f]{12}$/);
    const r1 = await c.request<{ echo: unknown; path: string; type: string }>('/transfer?x=1', { from: 'alice', amount: 5 });
    const r2 = await c.request('/transfer', [1, 'two', null]);
    assert.deepEqual(r1.body, { echo: { from: 'alice', amount: 5 }, path: '/transfer?x=1', type: 'application/json' });
    assert.deepEqual((r2.body as { echo: unknown }).echo, [1, 'two', null]);
    assert.deepEqual(a.ids, [`${c.clientId}:1`, `${c.clientId}:2`]);
    assert.deepEqual(b.ids, []);
    assert.deepEqual(
      { requestId: r1.requestId, outputId: r1.outputId, node: r1.node, status: r1.status, attempts: r1.attempts, duplicate: r1.duplicate },
      { requestId: `${c.clientId}:1`, outputId: '0:1', node: a.url + '/', status: 200, attempts: 1, duplicate: false },
    );
    assert.deepEqual(c.stats, { requests: 2, resent: 0, duplicates: 0, failovers: 0 });

    const named = client({ nodes: [a.url], clientId: 'teller-7' });
    assert.equal((await named.request('/x', 1)).requestId, 'teller-7:1');
  });

  it('fails over when the preferred node refuses connections, and sends the next request straight to the new one', async function () {
    const dead = await deadNode();
    const b = await fakeNode(primary(counter()));
    const c = client({ nodes: [dead, b.url] });
    const r1 = await c.request('/op', 1);
    assert.equal(r1.node, b.url);
    assert.equal(r1.attempts, 2);
    assert.ok(c.stats.failovers >= 1);
    assert.equal(c.stats.resent, 1);
    const r2 = await c.request('/op', 2);
    assert.equal(r2.node, b.url);
    assert.equal(r2.attempts, 1, 'straight to the node that answered last');
    assert.deepEqual(b.ids, [`${c.clientId}:1`, `${c.clientId}:2`]);
  });

  it('tries the next node when one answers 503 as the backup', async function () {
    const a = await fakeNode(backup);
    const b = await fakeNode(primary(counter()));
    const c = client({ nodes: [a.url, b.url] });
    const r = await c.request('/op', {});
    assert.equal(r.node, b.url);
    assert.deepEqual(a.ids, [r.requestId]);
    assert.deepEqual(b.ids, [r.requestId]);
  });

  it('fails with ERR_CLIENT_DEADLINE naming the request id and the nodes when no node is live', async function () {
    const a = await fakeNode(backup);
    const dead = await deadNode();
    const c = client({ nodes: [a.url, dead], deadlineMs: 200 });
    await assert.rejects(c.request('/op', 1), code('ERR_CLIENT_DEADLINE', `${c.clientId}:1`, a.url, dead, 'no node answered within 200 ms', 'raise deadlineMs'));
    assert.ok(a.ids.length >= 1, 'the backup was asked');
    assert.ok(a.ids.every((id) => id === `${c.clientId}:1`), 'every resend carries the same request id');
  });

  it('resends under the same request id when a node accepts but never answers', async function () {
    const hung = await fakeNode(() => undefined);
    const b = await fakeNode(primary(counter()));
    const c = client({ nodes: [hung.url, b.url], attemptTimeoutMs: 100 });
    const r = await c.request('/op', 'x');
    assert.equal(r.node, b.url);
    assert.deepEqual(hung.ids, [`${c.clientId}:1`]);
    assert.deepEqual(b.ids, [`${c.clientId}:1`], 'the other node saw the same request id');
    assert.equal(c.stats.resent, 1);
    assert.equal(c.stats.failovers, 1);
  });

  it('delivers each output id once: a duplicate still resolves request(), flagged, and onReply never sees it', async function () {
    const a = await fakeNode(primary(() => '0:1'));
    const c = client({ nodes: [a.url] });
    const delivered: Reply[] = [];
    c.onReply((r) => delivered.push(r));
    assert.equal(c.seen('0:1'), false);
    const r1 = await c.request('/op', 1);
    const r2 = await c.request('/op', 2);
    assert.equal(r1.duplicate, false);
    assert.equal(r2.duplicate, true);
    assert.deepEqual((r2.body as { echo: unknown }).echo, 2, 'the duplicate still carries its body');
    assert.deepEqual(delivered.map((r) => r.requestId), [r1.requestId]);
    assert.equal(c.seen('0:1'), true);
    assert.equal(c.stats.duplicates, 1);
  });

  it('drops an output that a new primary re-sends after a failover', async function () {
    const outputs = ['0:1', '0:2'];
    const a = await fakeNode(primary(() => outputs.shift()!));
    // The new primary cannot know whether 0:2 was delivered, so it re-sends it, then goes on.
    const reemitted = ['0:2', '0:3', '0:4'];
    const b = await fakeNode(primary(() => reemitted.shift()!));
    const c = client({ nodes: [a.url, b.url] });
    const delivered: string[] = [];
    const off = c.onReply((r) => delivered.push(r.outputId));
    await c.request('/op', 1);
    await c.request('/op', 2);
    await a.close();
    const r3 = await c.request('/op', 3);
    const r4 = await c.request('/op', 4);
    assert.equal(r3.duplicate, true);
    assert.equal(r4.duplicate, false);
    assert.deepEqual(delivered, ['0:1', '0:2', '0:3']);
    assert.deepEqual(c.stats, { requests: 4, resent: 1, duplicates: 1, failovers: 1 });
    off();
    await c.request('/op', 5);
    assert.equal(delivered.length, 3, 'an unsubscribed listener hears nothing');
  });

  it('remembers at most seenMax output ids, forgetting the oldest first', async function () {
    const s = new Seen(2);
    assert.equal(s.add('a'), true);
    assert.equal(s.add('b'), true);
    assert.equal(s.add('a'), false, 'a duplicate');
    assert.equal(s.add('c'), true);
    assert.deepEqual([s.has('a'), s.has('b'), s.has('c'), s.size], [false, true, true, 2]);

    const ids = ['0:1', '0:2', '0:3', '0:4', '0:1'];
    const a = await fakeNode(primary(() => ids.shift()!));
    const c = client({ nodes: [a.url], seenMax: 3 });
    for (let i = 0; i < 4; i++) assert.equal((await c.request('/op', i)).duplicate, false);
    assert.deepEqual(['0:1', '0:2', '0:3', '0:4'].map((id) => c.seen(id)), [false, true, true, true]);
    assert.equal((await c.request('/op', 5)).duplicate, false, 'a forgotten id is delivered again');
    assert.equal(c.seen('0:2'), false);
  });

  it('plans sends round robin from the preferred node, pausing after each round, never past the deadline', function () {
    const r = new Retry({ nodeCount: 3, attemptTimeoutMs: 100, retryDelayMs: 10, deadlineMs: 250 }, 1, 1000);
    const steps: Step[] = [];
    for (const now of [1000, 1000, 1000, 1000, 1010, 1010, 1200, 1250]) steps.push(r.next(now));
    assert.deepEqual(steps, [
      { kind: 'send', node: 1, timeoutMs: 100 },
      { kind: 'send', node: 2, timeoutMs: 100 },
      { kind: 'send', node: 0, timeoutMs: 100 },
      { kind: 'wait', ms: 10 },
      { kind: 'send', node: 1, timeoutMs: 100 },
      { kind: 'send', node: 2, timeoutMs: 100 },
      { kind: 'send', node: 0, timeoutMs: 50 },
      { kind: 'expired' },
    ]);
    assert.equal(r.attempts, 6);
  });

  it('rejects at once with ERR_CLIENT_STATUS on a 400, without resending', async function () {
    const a = await fakeNode((_req, _body, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('amount must be positive');
    });
    const b = await fakeNode(primary(counter()));
    const c = client({ nodes: [a.url, b.url] });
    await assert.rejects(c.request('/op', { amount: -1 }), code('ERR_CLIENT_STATUS', '400', 'amount must be positive', `${c.clientId}:1`));
    assert.equal(a.ids.length, 1);
    assert.deepEqual(b.ids, [], 'the other node saw nothing');
    assert.equal(c.stats.resent, 0);
  });

  it('rejects with ERR_CLIENT_PROTOCOL on a 200 without an output id or with a body that is not JSON', async function () {
    let plain = true;
    const a = await fakeNode((_req, _body, res) => {
      if (plain) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      } else {
        res.writeHead(200, { 'x-lockstep-output-id': '0:1' });
        res.end('<html>');
      }
    });
    const c = client({ nodes: [a.url] });
    await assert.rejects(c.request('/op', 1), code('ERR_CLIENT_PROTOCOL', 'x-lockstep-output-id'));
    plain = false;
    await assert.rejects(c.request('/op', 1), code('ERR_CLIENT_PROTOCOL', 'not JSON'));
    assert.equal(c.seen('0:1'), false, 'an output that could not be delivered is not seen');
  });

  it('throws ERR_USAGE on bad options and rejects with it on bad requests', async function () {
    const bad: unknown[] = [
      undefined,
      {},
      { nodes: [] },
      { nodes: ['not a url'] },
      { nodes: ['https://127.0.0.1:1'] },
      { nodes: ['http://127.0.0.1:1', 'http://127.0.0.1:1/'] },
      { nodes: ['http://127.0.0.1:1'], deadlineMs: -1 },
      { nodes: ['http://127.0.0.1:1'], seenMax: 0 },
      { nodes: ['http://127.0.0.1:1'], clientId: 'a:b' },
    ];
    for (const o of bad) assert.throws(() => new Client(o as never), code('ERR_USAGE'), JSON.stringify(o));
    const c = client({ nodes: ['http://127.0.0.1:1'] });
    await assert.rejects(c.request('no-slash', 1), code('ERR_USAGE'));
    await assert.rejects(c.request('/op', { n: 1n }), code('ERR_USAGE'));
    assert.equal(c.stats.requests, 0);
  });

  it('fails requests in flight with ERR_CLIENT_CLOSED on close(), and refuses new ones', async function () {
    const hung = await fakeNode(() => undefined);
    const c = client({ nodes: [hung.url], attemptTimeoutMs: 5000 });
    const pending = c.request('/op', 1);
    while (hung.ids.length === 0) await new Promise((r) => setTimeout(r, 5));
    c.close();
    await assert.rejects(pending, code('ERR_CLIENT_CLOSED', `${c.clientId}:1`));
    await assert.rejects(c.request('/op', 2), code('ERR_CLIENT_CLOSED'));
  });
});
