// Test driver for a real etcd cluster (Debian's etcd-server, installed by scripts/install-etcd.sh):
// N members as child processes, each on its own loopback address (127.0.0.11, .12, …) with free
// ports and a temporary data folder. Members can be killed and the whole cluster is always killed
// in close(), which tests call from their after hooks.

import { freePort } from './cluster.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';

/** Bound on waiting for the cluster to serve requests. */
const READY_MS = 30_000;

export interface Member {
  name: string;
  host: string;
  clientPort: number;
  child: ChildProcess;
  exited: Promise<void>;
  log: () => string;
}

export function etcdInstalled(): boolean {
  return spawnSync('etcd', ['--version'], { encoding: 'utf8' }).status === 0;
}


export class EtcdCluster {
  readonly members: Member[] = [];

  private constructor(readonly dir: string) {}

  /** Starts `size` members on 127.0.0.<firstHost…> and waits until the cluster serves requests. */
  static async start(size: number, firstHost = 11): Promise<EtcdCluster> {
    const c = new EtcdCluster(mkdtempSync(join(tmpdir(), 'lockstep-etcd-')));
    try {
      const plan = [];
      for (let i = 0; i < size; i++) {
        const host = `127.0.0.${firstHost + i}`;
        plan.push({ name: `m${i}`, host, clientPort: await freePort(host), peerPort: await freePort(host) });
      }
      const initial = plan.map((p) => `${p.name}=http://${p.host}:${p.peerPort}`).join(',');
      for (const p of plan) {
        const args = [
          '--name', p.name, '--data-dir', join(c.dir, p.name),
          '--listen-client-urls', `http://${p.host}:${p.clientPort}`, '--advertise-client-urls', `http://${p.host}:${p.clientPort}`,
          '--listen-peer-urls', `http://${p.host}:${p.peerPort}`, '--initial-advertise-peer-urls', `http://${p.host}:${p.peerPort}`,
          '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', `lockstep-test-${process.pid}`,
          // A loaded 2-core test machine must not mistake slowness for a dead leader too often.
          '--heartbeat-interval', '100', '--election-timeout', '1500',
        ];
        const child = spawn('etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let log = '';
        child.stdout!.setEncoding('utf8').on('data', (s: string) => (log = (log + s).slice(-20_000)));
        child.stderr!.setEncoding('utf8').on('data', (s: string) => (log = (log + s).slice(-20_000)));
        const exited = new Promise<void>((r) => child.on('exit', () => r()));
        c.members.push({ name: p.name, host: p.host, clientPort: p.clientPort, child, exited, log: () => log });
      }
      await c.ready();
      return c;
    } catch (e) {
      await c.close();
      throw e;
    }
  }

  /** etcd://host:port,… for the live members (or all), with `prefix`. */
  url(prefix = '/lockstep', members = this.members): string {
    return `etcd://${members.map((m) => `${m.host}:${m.clientPort}`).join(',')}${prefix}`;
  }

  hosts(members = this.members): string[] {
    return members.map((m) => `http://${m.host}:${m.clientPort}`);
  }

  /** A client on the running members (the caller closes it). */
  client(): Etcd3 {
    const alive = this.members.filter((m) => m.child.exitCode === null && m.child.signalCode === null);
    return new Etcd3({ hosts: this.hosts(alive), dialTimeout: 2000, defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 3000 }) });
  }

  async ready(): Promise<void> {
    const end = Date.now() + READY_MS;
    for (;;) {
      const etcd = this.client();
      try {
        await etcd.put('/lockstep-test/ready').value('1');
        return;
      } catch (e) {
        if (Date.now() > end) throw new Error(`etcd did not serve within ${READY_MS} ms (${(e as Error).message}); logs:\n${this.members.map((m) => m.log().slice(-2000)).join('\n')}`);
        await new Promise((r) => setTimeout(r, 200));
      } finally {
        etcd.close();
      }
    }
  }

  async kill(m: Member): Promise<void> {
    m.child.kill('SIGKILL');
    await m.exited;
  }

  /** The member that leads the cluster now. */
  async leader(): Promise<Member> {
    const etcd = this.client();
    try {
      const leaderId = (await etcd.maintenance.status()).leader;
      const members = (await etcd.cluster.memberList({})).members;
      const name = members.find((m) => m.ID === leaderId)?.name;
      const m = this.members.find((x) => x.name === name);
      if (!m) throw new Error(`no leader known (${leaderId})`);
      return m;
    } finally {
      etcd.close();
    }
  }

  /** The epoch record and the live key under `prefix`. */
  async record(prefix = '/lockstep'): Promise<{ epoch: { epoch: number; owner: string } | null; live: string | null }> {
    const etcd = this.client();
    try {
      const raw = await etcd.get(`${prefix}/epoch`).string();
      return { epoch: raw === null ? null : JSON.parse(raw), live: await etcd.get(`${prefix}/live`).string() };
    } finally {
      etcd.close();
    }
  }

  async close(): Promise<void> {
    for (const m of this.members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    await Promise.all(this.members.map((m) => m.exited));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
