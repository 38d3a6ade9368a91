// Live replication end to end on loopback: the bank service (examples/bankservice) as primary +
// backup + arbiter, driven by the failover client (lockstep/client). Record on the primary,
// replay on the backup as the log streams, compare; kill -9 the primary at seeded moments and
// check that nothing a client was told is lost or contradicted; grow a new backup by state
// transfer and lose a node again. Fault injection on the channel: replication_faults.test.ts.

import { strict as assert } from 'node:assert';
import { Client } from '../client/index.js';
import { requestKey } from '../examples/bankservice/ledger.js';
import { Cluster, observe, status, type NodeProc } from './cluster.js';
import { prng } from './prng.js';

class Prng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

const ACCOUNTS = 16;

interface Told {
  requestId: string;
  outputId: string;
  body: { ok: boolean; from?: number; to?: number };
}

/** Sends `count` random transfers from `clients` concurrent callers; calls `at(n)` after each reply. */
async function load(client: Client, rng: Prng, count: number, concurrency: number, at: (n: number) => void): Promise<Told[]> {
  const told: Told[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      const from = rng.int(ACCOUNTS);
      const to = (from + 1 + rng.int(ACCOUNTS - 1)) % ACCOUNTS;
      const r = await client.request<Told['body']>('/transfer', { from, to, amount: 1 + rng.int(50) });
      told.push({ requestId: r.requestId, outputId: r.outputId, body: r.body });
      at(told.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return told;
}

/** Every answer a client got is in the surviving node's state, with the same outcome and output id. */
function checkTold(survivor: NodeProc, told: Told[]): void {
  const summary = survivor.summary();
  assert.equal(summary.total, ACCOUNTS * 1000, 'money is conserved');
  const applied = new Map(summary.applied.map((e) => [e.key, e]));
  for (const t of told) {
    const [hi, lo] = requestKey(t.requestId);
    const e = applied.get(`${(hi >>> 0).toString(16)}:${(lo >>> 0).toString(16)}`);
    assert.ok(e, `request ${t.requestId} was answered (${t.outputId}) but is not in the survivor's state`);
    assert.equal(e.output, t.outputId, `request ${t.requestId}: answered as ${t.outputId}, state says ${e.output}`);
    assert.equal(e.ok, t.body.ok, `request ${t.requestId}: outcome contradicted`);
    assert.equal(e.from, t.body.from, `request ${t.requestId}: balance contradicted`);
  }
}

async function quit(client: Client, node: NodeProc): Promise<void> {
  await client.request('/quit', {});
  await node.exited;
}

describe('live replication', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  beforeEach(async () => (cluster = await Cluster.start()));
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') for (const n of cluster.nodes) console.log(`--- ${n.name} stderr:\n${n.stderr().slice(-4000)}`);
    await cluster.close();
  });

  it('under load the backup replays to the primary\'s digest, and outputs leave only after the backup acknowledged them', async () => {
    const a = await cluster.node('a', 'primary');
    await cluster.waitFor(a, /log channel on/);
    const b = await cluster.node('b', 'backup', { connect: a });
    await cluster.waitFor(a, /listening on/);
    const client = new Client({ nodes: [a.url, b.url] });
    const rng = new Prng(1);
    const told = await load(client, rng, 200, 8, () => {});
    const s = await status(a);
    assert.equal(s.backup, 'b');
    assert.equal(s.alone, false);
    const gate = s.gateMs as { count: number };
    assert.ok(gate.count >= 200, 'every answer went through the output gate');
    await quit(client, a);
    await b.exited;
    client.close();
    const ra = a.result()!;
    const rb = b.result()!;
    assert.equal(ra.mode, 'record');
    assert.equal(rb.mode, 'replay');
    assert.equal(rb.digest, ra.digest, 'backup digest equals the primary\'s');
    assert.equal(told.length, 200);
    checkTold(b, told);
  });

  const seed = Number(process.env.FAILOVER_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const trials = Number(process.env.FAILOVER_TRIALS ?? 2);
  for (let trial = 0; trial < trials; trial++) {
    it(`kill -9 of the primary at a seeded moment loses and contradicts nothing (seed ${seed + trial})`, async () => {
      console.log(`      FAILOVER_SEED=${seed + trial}`);
      const rng = new Prng(seed + trial);
      const a = await cluster.node('a', 'primary');
      await cluster.waitFor(a, /log channel on/);
      const b = await cluster.node('b', 'backup', { connect: a });
      await cluster.waitFor(a, /listening on/);
      const client = new Client({ nodes: [a.url, b.url], attemptTimeoutMs: 1000, deadlineMs: 30_000 });
      const count = 150;
      const killAt = 20 + rng.int(100);
      let killedAt = 0;
      const told = await load(client, rng, count, 6, (n) => {
        if (n === killAt) {
          killedAt = Date.now();
          a.child.kill('SIGKILL');
        }
      });
      assert.ok(killedAt > 0);
      await cluster.waitFor(b, /listening on/);
      assert.equal((await status(b)).role, 'primary');
      // After dedupe each request has exactly one answer.
      assert.equal(new Set(told.map((t) => t.requestId)).size, count);
      await quit(client, b);
      client.close();
      assert.equal(b.result()!.mode, 'record', 'the backup went live and finished as the primary');
      checkTold(b, told);
    });
  }

  it('a new backup joins a running primary by state transfer and then follows its log to the same state', async () => {
    const a = await cluster.node('a', 'primary', { repl: { waitBackupMs: 300 } });
    await cluster.waitFor(a, /runs alone/);
    const rng = new Prng(7);
    const client = new Client({ nodes: [a.url], attemptTimeoutMs: 2000, deadlineMs: 30_000 });
    const told = await load(client, rng, 30, 4, () => {});
    const c = await cluster.node('c', 'backup', { connect: a, join: true });
    const joined = Date.now();
    while ((await status(a)).backup !== 'c') {
      assert.ok(Date.now() - joined < 20_000, `c never joined a; c stderr:\n${c.stderr()}`);
      // The snapshot is taken at a quiescent point, when the primary next reads an input.
      told.push(...(await load(client, rng, 1, 1, () => {})));
    }
    told.push(...(await load(client, rng, 40, 4, () => {})));
    await quit(client, a);
    await c.exited;
    client.close();
    assert.deepEqual(c.summary(), a.summary(), 'the joined backup holds the primary\'s state');
    checkTold(c, told);
  });


  it('a cluster loses its primary, regains a backup by state transfer, and survives losing a node again', async () => {
    const a = await cluster.node('a', 'primary');
    await cluster.waitFor(a, /log channel on/);
    const b = await cluster.node('b', 'backup', { connect: a });
    await cluster.waitFor(a, /listening on/);
    const rng = new Prng(11);
    const client = new Client({ nodes: [a.url, b.url], attemptTimeoutMs: 1000, deadlineMs: 30_000 });
    const told = await load(client, rng, 40, 4, () => {});
    a.child.kill('SIGKILL');
    await cluster.waitFor(b, /listening on/);
    told.push(...(await load(client, rng, 20, 4, () => {})));
    const c = await cluster.node('c', 'backup', { connect: b, join: true });
    const joined = Date.now();
    while ((await status(b)).backup !== 'c') {
      assert.ok(Date.now() - joined < 20_000, `c never joined b; c stderr:\n${c.stderr()}`);
      told.push(...(await load(client, rng, 1, 1, () => {})));
    }
    client.close();
    const client2 = new Client({ nodes: [b.url, c.url], attemptTimeoutMs: 1000, deadlineMs: 30_000 });
    told.push(...(await load(client2, rng, 40, 4, () => {})));
    b.child.kill('SIGKILL');
    await cluster.waitFor(c, /listening on/);
    told.push(...(await load(client2, rng, 20, 4, () => {})));
    await quit(client2, c);
    client2.close();
    assert.equal(c.result()!.mode, 'record', 'c went live and finished as the primary');
    checkTold(c, told);
  });

  it('a backup that falls behind makes the primary wait (bounded lag), and it catches up to the same digest', async () => {
    const repl = { lagBytesMax: 2048, heartbeatMs: 100, timeoutMs: 30_000 };
    const a = await cluster.node('a', 'primary', { repl });
    await cluster.waitFor(a, /log channel on/);
    const b = await cluster.node('b', 'backup', { connect: a, repl });
    await cluster.waitFor(a, /listening on/);
    while ((await status(a)).backup !== 'b') await new Promise((r) => setTimeout(r, 20));
    b.child.kill('SIGSTOP');
    // Requests sent without waiting for answers keep the primary producing log while the gate
    // holds every answer: only the lag bound can stop it.
    const answers = Array.from({ length: 150 }, (_, i) => fetch(`${a.url}/transfer`, {
      method: 'POST', headers: { 'x-lockstep-request-id': `lag:${i}` }, body: JSON.stringify({ from: i % ACCOUNTS, to: (i + 1) % ACCOUNTS, amount: 1 }),
    }).then((r) => r.status));
    let s = await observe(a);
    for (const until = Date.now() + 20_000; (s.lagWaits as number) === 0 && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 50));
      s = await observe(a);
    }
    assert.ok((s.lagWaits as number) > 0, `the drain never held frames back: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 300));
    const held = await observe(a);
    assert.equal(held.shippedFrames, s.shippedFrames, 'no frame shipped while the backup lags past the bound');
    assert.ok((held.lagFrames as number) > 0, 'the lag is visible in /status');
    b.child.kill('SIGCONT');
    assert.deepEqual(new Set(await Promise.all(answers)), new Set([200]));
    const client = new Client({ nodes: [a.url] });
    await quit(client, a);
    await b.exited;
    client.close();
    assert.equal(b.result()!.digest, a.result()!.digest, 'the backup caught up to the primary\'s digest');
  });
});
