// Fault injection on the live path (DESIGN.md, "Live replication"): a bank-service primary and
// backup as child processes (cluster.ts), with a TCP proxy (proxy.ts) on the log channel where a
// test needs to partition it or tear a frame. Each test ends in a documented state: exactly one
// node live (it answers /status as the primary and serves requests), every other node stopped
// with the error that says why. Seeded choices print their seed; LOCKSTEP_FAULT_SEED reruns one.

import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { Client } from '../client/index.js';
import { Arbiter, readEpoch } from '../replication/arbiter.js';
import type { ReplicationStatus } from '../replication/replica.js';
import { describePair, exitOf, running, statusOf, transfers, until } from './node_probe.js';
import { Cluster, type NodeProc } from './cluster.js';
import { prng } from './prng.js';
import { Proxy } from './proxy.js';

/** How long one /status poll may take before the node counts as not answering. */
const STATUS_TIMEOUT_MS = 400;
/** Bound on any one wait for a node to start, decide or exit. */
const WAIT_MS = 60_000; // a bound on waiting for an event (a loaded box is slow), not a deadline the test races

const baseSeed = process.env.LOCKSTEP_FAULT_SEED ? Number(process.env.LOCKSTEP_FAULT_SEED) : Date.now() % 1_000_000;

type Status = ReplicationStatus;

/** A node's own view of its state, confirmed or not (cluster.ts observe), or null when it does not answer. */
async function viewOf(n: NodeProc): Promise<Status | null> {
  if (!running(n)) return null;
  try {
    const r = await fetch(`${n.url}/status`, { signal: AbortSignal.timeout(WAIT_MS) });
    const body = (await r.json()) as Status & { unconfirmed?: Status };
    return body.unconfirmed ?? body;
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts primary A and its backup B (B dials a proxy in front of A's channel when `proxy` is set) and waits until A reports B attached. */
async function startPair(cluster: Cluster, o: { proxy?: boolean; a?: Parameters<Cluster['node']>[2]; b?: Parameters<Cluster['node']>[2] } = {}): Promise<{ a: NodeProc; b: NodeProc; proxy: Proxy | null }> {
  const a = await cluster.node('A', 'primary', o.a);
  await cluster.waitFor(a, /is the primary \(epoch 1\)/);
  const proxy = o.proxy ? await Proxy.start({ host: '127.0.0.1', port: a.channel }) : null;
  const b = await cluster.node('B', 'backup', proxy ? { ...o.b, repl: { ...o.b?.repl, connect: proxy.address } } : { connect: a, ...o.b });
  await cluster.waitFor(a, /bankservice: listening on/);
  await until('A to report backup B attached', WAIT_MS, async () => {
    if (!running(b)) throw new Error(`B exited (${b.child.exitCode}) before attaching; stderr:\n${b.stderr()}`);
    const s = await statusOf(a, STATUS_TIMEOUT_MS);
    return s?.backup === 'B' && s;
  });
  return { a, b, proxy };
}

/** One POST straight to one node (no failover): its status and body, or status 0 and why it failed. */
async function post(n: NodeProc, path: string, requestId: string, body: unknown): Promise<{ status: number; body: unknown }> {
  try {
    const r = await fetch(`${n.url}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-lockstep-request-id': requestId }, body: JSON.stringify(body), signal: AbortSignal.timeout(WAIT_MS),
    });
    return { status: r.status, body: await r.json() };
  } catch (e) {
    return { status: 0, body: String((e as Error).cause ?? e) };
  }
}

/** Both nodes free to release outputs: both primary and running alone (no backup's ack gates them), or both primary of one epoch. */
function twoLive(sa: Status | null, sb: Status | null): boolean {
  if (sa?.role !== 'primary' || sb?.role !== 'primary') return false;
  return (sa.alone && sb.alone) || sa.epoch === sb.epoch;
}

/**
 * After a fault on the channel: polls both nodes until the arbiter's decision has played out and
 * checks that exactly one node is live (primary, alone, epoch 2) and the other stopped with
 * ERR_NOT_LIVE. Throughout, the two are never both live; that fails at once. A superseded primary
 * that has not noticed yet may still answer /status as the primary of the old epoch with its gate
 * shut (not alone): `overlaps` counts polls where both answered as primary at all.
 */
async function exactlyOneLive(cluster: Cluster, a: NodeProc, b: NodeProc): Promise<{ live: NodeProc; stopped: NodeProc; status: Status; overlaps: number }> {
  let overlaps = 0;
  let last = '';
  const decided = await until('one node to stop and the other to be live alone in epoch 2', WAIT_MS, async () => {
    const [sa, sb] = await Promise.all([statusOf(a, STATUS_TIMEOUT_MS), statusOf(b, STATUS_TIMEOUT_MS)]);
    last = describePair(a, sa, b, sb);
    if (twoLive(sa, sb)) throw new Error(`split brain: two nodes live at once: ${last}`);
    if (sa?.role === 'primary' && sb?.role === 'primary') overlaps++;
    if (!running(a) && !running(b)) throw new Error(`both nodes stopped: ${last}`);
    for (const [live, s, stopped] of [[a, sa, b], [b, sb, a]] as const) {
      if (!running(stopped) && s?.role === 'primary' && s.alone && s.epoch === 2) return { live, status: s, stopped };
    }
    return null;
  }).catch((e: Error) => {
    throw new Error(e.message.startsWith('timed out') ? `${e.message}: ${last}` : e.message);
  });
  const { live, stopped, status } = decided;
  const exit = await exitOf(stopped, WAIT_MS);
  assert.notEqual(exit.code, 0, `${stopped.name} exited 0; stderr:\n${stopped.stderr()}`);
  assert.match(stopped.stderr(), /ERR_NOT_LIVE/, `${stopped.name} stopped without ERR_NOT_LIVE; stderr:\n${stopped.stderr()}`);
  const record = await readEpoch(cluster.arbiterAccess);
  assert.deepEqual({ epoch: record.epoch, owner: record.owner }, { epoch: 2, owner: live.name }, 'the arbiter holds the live node as epoch 2\'s owner');
  return { live, stopped, status, overlaps };
}

describe('replication faults', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let proxy: Proxy | null = null;
  let client: Client | null = null;
  const extra: Arbiter[] = [];

  before(function () {
    console.log(`      seed ${baseSeed} (LOCKSTEP_FAULT_SEED=${baseSeed} reruns these choices)`);
  });

  beforeEach(async function () {
    cluster = await Cluster.start();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && process.env.LOCKSTEP_TRACE) for (const n of cluster.nodes) console.log(`--- ${n.name} stderr:\n${n.stderr().slice(-6000)}`);
    client?.close();
    client = null;
    await proxy?.close();
    proxy = null;
    await cluster.close();
    for (const x of extra.splice(0)) await x.close();
  });

  /**
   * A takes 8 transfers that B receives only after A has died, so B takes over with them still to
   * replay: 'hold' delays them in the proxy (A dies with them on the wire), 'pause' stops B's
   * process (SIGSTOP) while its kernel buffers them. B must answer the 8 (the client resends them
   * under the same ids) and new requests.
   */
  async function backlogTakeover(how: 'hold' | 'pause'): Promise<void> {
    // B hears nothing from A for a while (and A nothing from a paused B): long timeouts.
    // A cannot prove its epoch while B is paused or held: its /status refusal (with its view) comes
    // after BANK_STATUS_PROOF_MS, kept short so the polls below stay well inside the client's patience.
    const pair = await startPair(cluster, { proxy: how === 'hold', a: { repl: { timeoutMs: 5000 }, env: { BANK_STATUS_PROOF_MS: '50' } }, b: { repl: { timeoutMs: 5000 } } });
    const { a, b } = pair;
    proxy = pair.proxy;
    const c = (client = new Client({ nodes: [a.url, b.url], deadlineMs: WAIT_MS }));
    const next = prng(baseSeed);
    await transfers(c, 1, next);
    if (how === 'hold') proxy!.hold('down');
    else b.child.kill('SIGSTOP');
    const held = Array.from({ length: 8 }, (_, i) => c.request<{ ok: boolean }>('/transfer', { from: i, to: i + 8, amount: 1 }));
    let shipped = -1;
    let heldBefore = -1;
    // At least the 8 (a loaded machine may let the client resend some under the same ids, each
    // held again), and nothing more shipped or held since the last look.
    await until('A to hold the 8 answers in its gate and to have shipped their frames', WAIT_MS, async () => {
      // A cannot prove its epoch while B hears nothing: it refuses /status, with its view unconfirmed.
      const s = await viewOf(a);
      if (process.env.LOCKSTEP_TRACE) console.log(`      A: ${JSON.stringify(s && { held: s.heldOutputs, shipped: s.shippedFrames })}`);
      const settled = s !== null && s.heldOutputs >= 8 && s.heldOutputs === heldBefore && s.shippedFrames === shipped;
      shipped = s?.shippedFrames ?? -1;
      heldBefore = s?.heldOutputs ?? -1;
      await sleep(100);
      return settled;
    });
    a.child.kill('SIGKILL');
    await exitOf(a, WAIT_MS);
    if (how === 'pause') b.child.kill('SIGCONT');
    await cluster.waitFor(b, /bankservice: listening on/);
    const answers = await Promise.allSettled(held);
    const summary = answers.map((r, i) => `${i}: ${r.status === 'fulfilled' ? JSON.stringify(r.value.body) : (r.reason as Error).message.slice(0, 120)}`).join('\n');
    assert(answers.every((r) => r.status === 'fulfilled' && r.value.body.ok),
      `the 8 transfers held by A's gate, resent to B:\n${summary}\nB ${running(b) ? 'running' : `exited ${b.child.exitCode}`}, /status ${JSON.stringify(await statusOf(b, STATUS_TIMEOUT_MS))}, stderr:\n${b.stderr()}`);
    await transfers(c, 2, next);
    const s = await statusOf(b, STATUS_TIMEOUT_MS);
    assert.deepEqual(s && { role: s.role, epoch: s.epoch, alone: s.alone }, { role: 'primary', epoch: 2, alone: true });
  }

  it('partition, the primary notices first: it wins epoch 2 and goes on alone, the backup stops; never two live (3 seeded trials)', async function () {
    for (let trial = 0; trial < 3; trial++) {
      const seed = baseSeed + trial;
      const next = prng(seed);
      const before = 1 + Math.floor(next() * 4);
      const pauseMs = Math.floor(next() * 150);
      const inflight = next() < 0.5;
      console.log(`      partition trial ${trial}: seed ${seed} (${before} requests, partition after ${pauseMs} ms, request in flight: ${inflight})`);
      if (trial > 0) {
        await proxy?.close();
        await cluster.close();
        cluster = await Cluster.start();
      }
      // The primary's failure detector is the faster one, so it asks the arbiter first (the
      // other order is the skipped test below); both are well above the heartbeat interval.
      const pair = await startPair(cluster, { proxy: true, a: { repl: { timeoutMs: 800 } }, b: { repl: { timeoutMs: 2500 } } });
      proxy = pair.proxy;
      client = new Client({ nodes: [pair.a.url, pair.b.url], deadlineMs: WAIT_MS });
      await transfers(client, before, next);
      await sleep(pauseMs);
      proxy!.partition();
      // A request sent into the partition: the primary's gate holds its answer (no ack can come)
      // until the primary wins epoch 2 and runs alone.
      const pending = inflight ? client.request<{ ok: boolean }>('/transfer', { from: 1, to: 2, amount: 1 }) : null;
      const { live, stopped, overlaps } = await exactlyOneLive(cluster, pair.a, pair.b);
      assert.equal(live.name, 'A', 'the primary noticed first and won epoch 2');
      assert.equal(overlaps, 0, 'the backup never answered /status while the primary did');
      assert.match(pair.a.stderr(), /lost its backup B: no heartbeat for \d+ ms/);
      assert.match(pair.b.stderr(), /lost the primary A: no heartbeat for \d+ ms/);
      assert(proxy!.dropped.down + proxy!.dropped.up > 0, 'the partition dropped traffic (heartbeats at least)');
      if (pending) assert.equal((await pending).body.ok, true, 'the request sent into the partition is answered once the primary runs alone');
      await transfers(client, 2, next);
      console.log(`      partition trial ${trial}: ${live.name} live in epoch 2, ${stopped.name} stopped (ERR_NOT_LIVE)`);
      client.close();
      client = null;
    }
  });

  // Split brain, the dangerous side: the old primary learns by silence that its backup is gone,
  // asks the arbiter for epoch 2 and loses it. It must stop (ERR_NOT_LIVE, exit) without
  // releasing the outputs it held: a transfer it took during the partition must not be answered.
  // (Found here: the sender used to fall back to "no backup connected: run alone" after losing.)
  it('partition, the backup notices first: it wins epoch 2, the old primary stops without releasing what it held', async function () {
    const pair = await startPair(cluster, { proxy: true, a: { repl: { timeoutMs: 2500 } }, b: { repl: { timeoutMs: 800 } } });
    proxy = pair.proxy;
    client = new Client({ nodes: [pair.a.url, pair.b.url], deadlineMs: WAIT_MS });
    await transfers(client, 2, () => 0.5); // accounts 8 → 9 only
    proxy!.partition();
    // Straight to A (no failover client): the answer can only come from A's gate.
    const heldByA = post(pair.a, '/transfer', 'probe:1', { from: 1, to: 2, amount: 7 });
    await cluster.waitFor(pair.b, /bankservice: listening on/);
    // A either stops (the POST fails, status 0) or, with the bug, answers from its gate.
    const answer = await heldByA;
    const balance = await post(pair.b, '/balance', 'probe:2', { account: 1 });
    console.log(`      A answered the held transfer: ${JSON.stringify(answer)}; B's balance of account 1: ${JSON.stringify(balance.body)}`);
    assert.notEqual(answer.status, 200, `A answered a transfer that B, the live node, never received: ${JSON.stringify(answer)}; ` +
      `B says ${JSON.stringify(balance.body)}; A /status ${JSON.stringify(await statusOf(pair.a))}; A stderr:\n${pair.a.stderr()}`);
    const { live } = await exactlyOneLive(cluster, pair.a, pair.b);
    assert.equal(live.name, 'B', 'the backup noticed first and won epoch 2');
  });

  it('backup killed: the primary reports it, wins epoch 2, runs alone and keeps serving', async function () {
    const { a, b } = await startPair(cluster);
    client = new Client({ nodes: [a.url, b.url], deadlineMs: WAIT_MS });
    const next = prng(baseSeed);
    await transfers(client, 3, next);
    b.child.kill('SIGKILL');
    await cluster.waitFor(a, /lost its backup B: /);
    await cluster.waitFor(a, /runs alone \(epoch 2\)/);
    await transfers(client, 3, next);
    const s = await statusOf(a, STATUS_TIMEOUT_MS);
    assert(s, 'A answers /status');
    assert.equal(s.role, 'primary');
    assert.equal(s.alone, true);
    assert.equal(s.epoch, 2);
    assert.equal(s.backup, null);
    assert.equal((await exitOf(b, WAIT_MS)).signal, 'SIGKILL');
  });

  it('arbiter unreachable when the primary dies: the backup does not go live', async function () {
    const { a, b } = await startPair(cluster);
    client = new Client({ nodes: [a.url, b.url], deadlineMs: WAIT_MS });
    await transfers(client, 2, prng(baseSeed));
    await cluster.arbiter.close();
    a.child.kill('SIGKILL');
    await cluster.waitFor(b, /lost the primary A: /);
    const exit = await exitOf(b, WAIT_MS);
    assert.notEqual(exit.code, 0, `B exited 0; stderr:\n${b.stderr()}`);
    assert.match(b.stderr(), /ERR_ARBITER_UNREACHABLE/);
    assert.doesNotMatch(b.stderr(), /bankservice: listening/, 'B never opened its client port');
  });

  it('an arbiter restarted on its state file still holds epoch 2 owned by the backup that took over', async function () {
    const { a, b } = await startPair(cluster);
    client = new Client({ nodes: [a.url, b.url], deadlineMs: WAIT_MS });
    await transfers(client, 2, prng(baseSeed));
    a.child.kill('SIGKILL');
    await cluster.waitFor(b, /lost the primary A: the connection closed/);
    // This test is about the arbiter's record, which B's win writes before B goes live (B's
    // cutover itself is what the backlog tests below exercise).
    const arbiter = { ...cluster.arbiter.address, secret: cluster.secret };
    await until('the arbiter to grant epoch 2 to B', WAIT_MS, async () => (await readEpoch(arbiter)).epoch === 2);
    assert.deepEqual(await readEpoch(arbiter), { ok: true, won: false, epoch: 2, owner: 'B' });
    await cluster.arbiter.close();
    const restarted = await Arbiter.start({ stateFile: join(cluster.dir, 'arbiter.json'), secret: cluster.secret, port: arbiter.port, log: () => {} });
    extra.push(restarted);
    assert.equal(restarted.address.port, arbiter.port);
    const record = await readEpoch(arbiter);
    assert.deepEqual({ epoch: record.epoch, owner: record.owner }, { epoch: 2, owner: 'B' });
  });

  // Takeover with received log not yet replayed when the primary dies: the backup replays it all,
  // answers the resent requests with the same output ids, then serves new ones. (Found here: an
  // input that ended a received segment was read from the next segment's bytes.)
  it('the backup takes over with a backlog to replay (the primary dies with log in flight)', async function () {
    await backlogTakeover('hold');
  });

  // The same backlog, built because the backup was paused (SIGSTOP, as a long GC pause or a stalled
  // VM would) while the primary went on and died. (Found here: segments for a thread that attached
  // late were still in the receiver when cutover terminated it, and that thread waited forever.)
  it('the backup takes over with a backlog to replay (it was paused while the primary went on)', async function () {
    await backlogTakeover('pause');
  });

  it('a backup with the wrong secret is refused; the primary goes on alone after waitBackupMs', async function () {
    const a = await cluster.node('A', 'primary', { repl: { waitBackupMs: 500 } });
    await cluster.waitFor(a, /is the primary \(epoch 1\)/);
    const b = await cluster.node('B', 'backup', { connect: a, secret: 'wrong' });
    const exit = await exitOf(b, WAIT_MS);
    assert.notEqual(exit.code, 0, `B exited 0; stderr:\n${b.stderr()}`);
    assert.match(b.stderr(), /ERR_PEER_REFUSED/);
    assert.match(a.stderr(), /refused a peer from 127\.0\.0\.1:\d+: it does not hold the cluster secret \(attempt logged\)/);
    await cluster.waitFor(a, /runs alone \(epoch 1\): no backup connected within 500 ms/);
    client = new Client({ nodes: [a.url], deadlineMs: WAIT_MS });
    await transfers(client, 2, prng(baseSeed));
    const s = await statusOf(a, STATUS_TIMEOUT_MS);
    assert.deepEqual(s && { role: s.role, epoch: s.epoch, alone: s.alone, backup: s.backup }, { role: 'primary', epoch: 1, alone: true, backup: null });
  });

  it('a frame torn on the primary → backup channel, the primary\'s side closed: the primary wins epoch 2, the backup stops', async function () {
    const seed = baseSeed + 100;
    const next = prng(seed);
    // Heartbeat frames are the smallest on the channel (8 header + 1 type + 5 body bytes), so
    // keeping fewer bytes than 14 tears whichever frame comes next, in its header or its payload.
    const keep = 1 + Math.floor(next() * 10);
    console.log(`      torn frame: seed ${seed} (keep ${keep} bytes of the next frame)`);
    // The proxy tears frames it finds on the wire: a plaintext (insecure) cluster, or it would see TLS records.
    await cluster.close();
    cluster = await Cluster.start('test-secret', { insecure: true });
    const pair = await startPair(cluster, { proxy: true, a: { repl: { insecure: true } }, b: { repl: { timeoutMs: 2000, insecure: true } } });
    proxy = pair.proxy;
    client = new Client({ nodes: [pair.a.url, pair.b.url], deadlineMs: WAIT_MS });
    await transfers(client, 3, next);
    // The primary's socket closes at the cut, so it asks the arbiter at once; the backup's stays
    // open and silent, so the backup learns only by heartbeat silence, holding the torn frame.
    const cut = await proxy!.truncateFrame('down', keep, 'upstream');
    const torn = cut.forwarded - cut.frameStart;
    assert(torn === keep && (cut.frameLength < 0 || torn < cut.frameLength), `the cut falls inside a frame: ${JSON.stringify(cut)}`);
    const { live, stopped } = await exactlyOneLive(cluster, pair.a, pair.b);
    assert.equal(live.name, 'A');
    assert.match(pair.a.stderr(), /lost its backup B: the connection closed/);
    assert.match(pair.b.stderr(), new RegExp(`lost the primary A: no heartbeat for \\d+ ms \\(${torn} bytes of an incomplete frame dropped\\)`));
    await transfers(client, 2, next);
    console.log(`      torn frame: ${torn} of ${cut.frameLength < 0 ? '?' : cut.frameLength} bytes reached B; ${live.name} live in epoch 2, ${stopped.name} stopped (ERR_NOT_LIVE)`);
  });

  // A torn frame where the backup notices first: it wins epoch 2 and the old primary must stop.
  it('a frame torn on the primary → backup channel, the backup\'s side closed: the backup wins epoch 2, the primary stops', async function () {
    const seed = baseSeed + 200;
    const next = prng(seed);
    const keep = 1 + Math.floor(next() * 10);
    console.log(`      torn frame: seed ${seed} (keep ${keep} bytes of the next frame)`);
    // The proxy tears frames it finds on the wire: a plaintext (insecure) cluster, or it would see TLS records.
    await cluster.close();
    cluster = await Cluster.start('test-secret', { insecure: true });
    const pair = await startPair(cluster, { proxy: true, a: { repl: { timeoutMs: 2000, insecure: true } }, b: { repl: { insecure: true } } });
    proxy = pair.proxy;
    client = new Client({ nodes: [pair.a.url, pair.b.url], deadlineMs: WAIT_MS });
    await transfers(client, 3, next);
    const cut = await proxy!.truncateFrame('down', keep, 'client');
    const torn = cut.forwarded - cut.frameStart;
    assert.equal(torn, keep);
    await cluster.waitFor(pair.b, new RegExp(`lost the primary A: the connection closed \\(${torn} bytes of an incomplete frame dropped\\)`));
    const { live } = await exactlyOneLive(cluster, pair.a, pair.b);
    assert.equal(live.name, 'B');
    assert.match(pair.a.stderr(), /lost its backup B: no heartbeat for \d+ ms/);
    await transfers(client, 2, next);
  });
});
