// etcd as the arbiter (replication/etcd_arbiter.ts), against a real etcd cluster (Debian's
// etcd-server, scripts/install-etcd.sh) of three members on 127.0.0.11-13, with the bank-service
// primary and backup as separate processes on hosts of their own (127.0.0.2 and 127.0.0.3).
// Each test ends in a documented state: exactly one node live and the etcd epoch record naming
// it, or no node live when etcd cannot decide; never two live nodes. Bounded waits are failure
// guards only. Seeded choices print their seed; LOCKSTEP_ETCD_SEED reruns one.

import { strict as assert } from 'node:assert';
import { Client } from '../client/index.js';
import type { ReplicationStatus } from '../replication/replica.js';
import { parseEtcdUrl } from '../replication/etcd_arbiter.js';
import type { LockstepError } from '../engine/errors.js';
import { describePair, exitOf, running, statusOf, transfers, until } from './node_probe.js';
import { Cluster, type NodeProc } from './cluster.js';
import { EtcdCluster, etcdInstalled } from './etcd_cluster.js';
import { prng } from './prng.js';
import { Proxy } from './proxy.js';

const POLL_MS = 25;
const WAIT_MS = 30_000;
const HOST_A = '127.0.0.2';
const HOST_B = '127.0.0.3';
const baseSeed = process.env.LOCKSTEP_ETCD_SEED ? Number(process.env.LOCKSTEP_ETCD_SEED) : Date.now() % 1_000_000;

/** Polls both nodes until one is live alone in `epoch` and the other has exited; two live at once fails at once. */
async function exactlyOneLive(a: NodeProc, b: NodeProc, epoch: number): Promise<{ live: NodeProc; stopped: NodeProc }> {
  let last = '';
  return until(`one node live alone in epoch ${epoch}, the other stopped`, WAIT_MS, async () => {
    const [sa, sb] = await Promise.all([statusOf(a), statusOf(b)]);
    last = describePair(a, sa, b, sb);
    const live = (s: ReplicationStatus | null): boolean => s?.role === 'primary' && (s.alone || s.epoch === epoch);
    if (live(sa) && live(sb) && (sa!.alone && sb!.alone || sa!.epoch === sb!.epoch)) throw new Error(`split brain: two nodes live at once: ${last}`);
    if (!running(a) && !running(b)) throw new Error(`both nodes stopped: ${last}`);
    if (!running(b) && sa?.role === 'primary' && sa.alone && sa.epoch === epoch) return { live: a, stopped: b };
    if (!running(a) && sb?.role === 'primary' && sb.alone && sb.epoch === epoch) return { live: b, stopped: a };
    return null;
  }).catch((e: Error) => {
    throw new Error(e.message.startsWith('timed out') ? `${e.message}: ${last}` : e.message);
  });
}

describe('etcd arbiter addresses', function () {
  it('etcd://host:port[,host:port…][/prefix] gives the members and the key prefix; anything else is ERR_USAGE', function () {
    assert.deepEqual(parseEtcdUrl('etcd://10.0.0.11:2379,10.0.0.12:2379/bank'), { hosts: ['http://10.0.0.11:2379', 'http://10.0.0.12:2379'], prefix: '/bank' });
    assert.deepEqual(parseEtcdUrl('etcd://e1:2379'), { hosts: ['http://e1:2379'], prefix: '/lockstep' });
    assert.deepEqual(parseEtcdUrl('etcd://[::1]:2379/a/b/'), { hosts: ['http://[::1]:2379'], prefix: '/a/b' });
    for (const bad of ['etcd://', 'etcd://e1', 'etcd://e1:0', 'etcd://e1:70000', 'etcd://e1:2379,/x', 'etcd://e1:2379/has space', 'http://e1:2379']) {
      assert.throws(() => parseEtcdUrl(bad), (e: LockstepError) => e.code === 'ERR_USAGE', bad);
    }
  });
});

describe('etcd as the arbiter', function () {
  this.timeout(180_000);
  let etcd: EtcdCluster | null = null;
  let cluster: Cluster | null = null;
  let proxy: Proxy | null = null;
  let client: Client | null = null;
  let prefixes = 0;

  before(function () {
    if (!etcdInstalled()) throw new Error('etcd is not installed: run scripts/install-etcd.sh (npm test runs it in pretest)');
  });

  afterEach(async function () {
    client?.close();
    client = null;
    await proxy?.close();
    proxy = null;
    await cluster?.close();
    cluster = null;
    await etcd?.close();
    etcd = null;
  });

  /** Primary A on HOST_A and backup B on HOST_B with etcd at `url`; resolves once B is attached. */
  async function pair(url: string, o: { proxy?: boolean } = {}): Promise<{ a: NodeProc; b: NodeProc }> {
    cluster = await Cluster.start('etcd-test-secret');
    const repl = { arbiter: url, waitBackupMs: WAIT_MS };
    const a = await cluster.node('A', 'primary', { host: HOST_A, repl });
    await cluster.waitFor(a, /is the primary \(epoch 1\)/, WAIT_MS);
    if (o.proxy) proxy = await Proxy.start({ host: HOST_A, port: a.channel });
    const b = await cluster.node('B', 'backup', { host: HOST_B, repl: { ...repl, ...(proxy ? { connect: proxy.address } : { connect: { host: HOST_A, port: a.channel } }) } });
    await until('B to attach to A', WAIT_MS, async () => {
      if (!running(b)) throw new Error(`B exited before attaching; stderr:\n${b.stderr()}`);
      if (!running(a)) throw new Error(`A exited; stderr:\n${a.stderr()}`);
      return (await statusOf(a))?.backup === 'B';
    });
    client = new Client({ nodes: [a.url, b.url], deadlineMs: WAIT_MS });
    return { a, b };
  }

  function prefix(): string {
    return `/lockstep-test-${process.pid}-${++prefixes}`;
  }

  it('failover is decided through etcd: the backup wins epoch 2, holds the live key, and serves', async function () {
    etcd = await EtcdCluster.start(3);
    const p = prefix();
    const next = prng(baseSeed);
    console.log(`      etcd failover: seed ${baseSeed}`);
    const { a, b } = await pair(etcd.url(p));
    assert.deepEqual((await etcd.record(p)).epoch, { epoch: 1, owner: 'A' });
    await until('A to hold the live key', WAIT_MS, async () => (await etcd!.record(p)).live === 'A');
    await transfers(client!, 3, next);
    a.child.kill('SIGKILL');
    const s = await until('B to go live in epoch 2', WAIT_MS, async () => {
      const st = await statusOf(b);
      if (!running(b)) throw new Error(`B stopped; stderr:\n${b.stderr()}`);
      return st?.role === 'primary' && st.epoch === 2 && st;
    });
    assert.equal(s.alone, true);
    assert.deepEqual((await etcd.record(p)).epoch, { epoch: 2, owner: 'B' });
    await until('B to hold the live key', WAIT_MS, async () => (await etcd!.record(p)).live === 'B');
    await transfers(client!, 2, next);
  });

  it('an etcd member (the leader) killed mid-run: the cluster still decides the failover', async function () {
    etcd = await EtcdCluster.start(3);
    const p = prefix();
    const next = prng(baseSeed + 1);
    const { a, b } = await pair(etcd.url(p));
    await transfers(client!, 2, next);
    const leader = await etcd.leader();
    await etcd.kill(leader);
    console.log(`      killed etcd leader ${leader.name} (${leader.host})`);
    await transfers(client!, 2, next);
    a.child.kill('SIGKILL');
    await until('B to go live in epoch 2', WAIT_MS, async () => {
      if (!running(b)) throw new Error(`B stopped; stderr:\n${b.stderr()}`);
      const st = await statusOf(b);
      return st?.role === 'primary' && st.epoch === 2;
    });
    assert.deepEqual((await etcd.record(p)).epoch, { epoch: 2, owner: 'B' });
    await transfers(client!, 2, next);
  });

  it('etcd unreachable at failover (quorum lost): the backup does not go live and stops with ERR_ARBITER_UNREACHABLE', async function () {
    etcd = await EtcdCluster.start(3);
    const p = prefix();
    const { a, b } = await pair(etcd.url(p));
    await transfers(client!, 2, prng(baseSeed + 2));
    // Two of three members gone: the last one cannot commit anything.
    await etcd.kill(etcd.members[0]!);
    await etcd.kill(etcd.members[1]!);
    a.child.kill('SIGKILL');
    let everLive = false;
    const watch = setInterval(() => {
      void statusOf(b).then((s) => {
        if (s?.role === 'primary') everLive = true;
      });
    }, POLL_MS);
    try {
      await exitOf(b, WAIT_MS);
    } finally {
      clearInterval(watch);
    }
    assert.equal(everLive, false, 'B never answered as the primary');
    assert.notEqual(b.child.exitCode, 0);
    assert.match(b.stderr(), /ERR_ARBITER_UNREACHABLE|the arbiter \(etcd at .*\) failed to/, b.stderr());
  });

  it('a partition between the nodes with etcd reachable from both: exactly one goes live, the other stops (ERR_NOT_LIVE)', async function () {
    etcd = await EtcdCluster.start(3);
    const p = prefix();
    const { a, b } = await pair(etcd.url(p), { proxy: true });
    await transfers(client!, 2, prng(baseSeed + 3));
    proxy!.partition();
    const { live, stopped } = await exactlyOneLive(a, b, 2);
    assert.match(stopped.stderr(), /ERR_NOT_LIVE/, stopped.stderr());
    assert.deepEqual((await etcd.record(p)).epoch, { epoch: 2, owner: live.name });
    console.log(`      partition: ${live.name} live in epoch 2, ${stopped.name} stopped`);
    await transfers(client!, 2, prng(baseSeed + 4));
  });

  it('a live node that loses its lease (etcd gone) stops with ERR_LEASE_LOST; a garbage epoch record is refused', async function () {
    etcd = await EtcdCluster.start(1);
    const p = prefix();
    cluster = await Cluster.start('etcd-test-secret');
    const a = await cluster.node('A', 'primary', { host: HOST_A, repl: { arbiter: etcd.url(p), waitBackupMs: 100 } });
    await cluster.waitFor(a, /runs alone \(epoch 1\)/, WAIT_MS);
    await until('A to hold the live key', WAIT_MS, async () => (await etcd!.record(p)).live === 'A');

    // Garbage where the epoch record should be: a node refuses to guess an epoch.
    const q = prefix();
    const raw = etcd.client();
    try {
      await raw.put(`${q}/epoch`).value('not an epoch record');
    } finally {
      raw.close();
    }
    const g = await cluster.node('G', 'primary', { host: '127.0.0.4', repl: { arbiter: etcd.url(q) } });
    await exitOf(g, WAIT_MS);
    assert.match(g.stderr(), /ERR_ARBITER_STATE|does not hold an epoch record/, g.stderr());

    await etcd.kill(etcd.members[0]!);
    const exit = await exitOf(a, WAIT_MS);
    assert.notEqual(exit.code, 0);
    assert.match(a.stderr(), /lost its etcd lease for epoch 1/, a.stderr());
  });
});
