// etcd as the arbiter: the epoch test-and-set of core/arbiter.ts as an etcd transaction, for
// clusters that already run etcd (a replicated coordination service, where the built-in arbiter
// is one process with one file). Uses the etcd3 npm client (gRPC, etcd's v3 API).
//
// Keys, under the URL's prefix (default /lockstep):
//   <prefix>/epoch  {"epoch":N,"owner":"name"}   never deleted: an epoch is granted at most once
//   <prefix>/live   "name", attached to the live node's lease: it vanishes when the lease ends
//
// claim(e): read the epoch key; if e is the next epoch, one transaction compares the key's value
// with what was read (epoch and owner, or that the key does not exist yet) and puts {e, node}.
// Two nodes racing for e both read e-1; etcd serialises their transactions, the second compare
// fails, and that node reads the winner back and stops. Asking again for the epoch one already
// holds wins (a retry after a lost reply), as with the built-in arbiter.
//
// hold(e): the live node grants a lease (TTL a few failure timeouts), puts the live key on it only
// if the epoch key still names it for e, and keeps the lease alive. When the lease ends (etcd
// unreachable for its TTL, the lease revoked, or a later epoch taken meanwhile), the node can no
// longer be sure it owns the epoch: it stops (ERR_LEASE_LOST, fail-stop), releasing nothing more.
//
// Every call has a deadline: etcd that does not answer in time, or answers with something that is
// not an epoch record, is ERR_ARBITER_UNREACHABLE / ERR_ARBITER_STATE, and the node does not go live.

// etcd3 (and gRPC under it) loads only when an etcd arbiter is used: every replicated node imports
// this file for parseEtcdUrl, and most of them talk to the built-in arbiter.
import type { Etcd3, Lease } from 'etcd3';
import { LockstepError, leaseLost, usage } from '../engine/errors.js';
import type { ArbiterRecord, Decision } from './core/arbiter.js';

export interface EtcdUrl {
  /** http://host:port, one per member. */
  hosts: string[];
  prefix: string;
}

const DEFAULT_PREFIX = '/lockstep';
/** etcd's own lower bound on lease TTLs (with its default election timeout) is about 2 s. */
const LEASE_SECONDS_MIN = 2;
/** An etcd record is a short JSON line; anything bigger is not ours. */
const RECORD_BYTES_MAX = 1024;
const HOSTS_MAX = 16;

export function isEtcdUrl(s: string): boolean {
  return s.startsWith('etcd://');
}

/** "etcd://host:port[,host:port…][/prefix]" → hosts and key prefix (ERR_USAGE when malformed). */
export function parseEtcdUrl(s: string): EtcdUrl {
  const m = /^etcd:\/\/([^/]+)(\/.*)?$/.exec(s);
  if (!m) throw usage(`an etcd arbiter looks like etcd://host:port[,host:port…][/prefix], got "${s}"`);
  const hosts = m[1]!.split(',').map((h) => {
    const hp = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(h);
    if (!hp || Number(hp[2]) < 1 || Number(hp[2]) > 65535) throw usage(`etcd member "${h}" in ${s} must be host:port`);
    return `http://${hp[1]}:${hp[2]}`;
  });
  if (hosts.length > HOSTS_MAX) throw usage(`an etcd arbiter takes at most ${HOSTS_MAX} members, got ${hosts.length}`);
  const prefix = (m[2] ?? DEFAULT_PREFIX).replace(/\/+$/, '');
  if (!/^\/[A-Za-z0-9_./-]*$/.test(prefix) || prefix.length > 256) throw usage(`the etcd key prefix in ${s} must be a path of letters, digits, '.', '_', '-' and '/'`);
  return { hosts, prefix: prefix || DEFAULT_PREFIX };
}

export class EtcdArbiter {
  private etcd: Etcd3 | null = null;
  private lease: Lease | null = null;
  private closed = false;

  /**
   * `timeoutMs`: how long one step (a read, a transaction) may take before the node gives up on
   * etcd (the node's arbiterMs); `leaseMs`: the live node's lease TTL (twice its failure timeout).
   */
  constructor(private readonly url: EtcdUrl, private readonly node: string, private readonly timeoutMs: number, private readonly leaseMs: number) {}

  private get epochKey(): string {
    return `${this.url.prefix}/epoch`;
  }

  private get liveKey(): string {
    return `${this.url.prefix}/live`;
  }

  private async client(): Promise<Etcd3> {
    if (this.etcd) return this.etcd;
    const { Etcd3: Client } = await import('etcd3');
    if (this.closed) throw new Error('the arbiter client is closed');
    this.etcd ??= new Client({
      hosts: this.url.hosts,
      dialTimeout: this.timeoutMs,
      // Streams (lease keep-alives) run for the node's life; every other call has a deadline.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + this.timeoutMs }),
    });
    return this.etcd;
  }

  private where(): string {
    return `etcd at ${this.url.hosts.map((h) => h.slice('http://'.length)).join(',')}`;
  }

  /** Runs one etcd step with a deadline; any failure is ERR_ARBITER_UNREACHABLE (the node must not go live). */
  private async step<T>(what: string, run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([run(), late]);
    } catch (e) {
      if (e instanceof LockstepError) throw e;
      throw new LockstepError('ERR_ARBITER_UNREACHABLE', `the arbiter (${this.where()}) failed to ${what} (${(e as Error).message.split('\n')[0]}); ` +
        'a node that cannot reach the arbiter must not go live (fail-stop). Check the etcd cluster.', { hosts: this.url.hosts });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The epoch key's record and its raw value (null: no epoch granted yet). */
  private async current(): Promise<{ record: ArbiterRecord; raw: string | null }> {
    const raw = await this.step('read the epoch', async () => (await this.client()).get(this.epochKey).string());
    if (raw === null) return { record: { epoch: 0, owner: '' }, raw };
    return { record: parseRecord(raw, this.epochKey), raw };
  }

  async read(): Promise<ArbiterRecord> {
    return (await this.current()).record;
  }

  async claim(epoch: number): Promise<Decision> {
    if (!Number.isSafeInteger(epoch) || epoch < 1) throw new RangeError(`epoch must be a positive integer, got ${epoch}`);
    const { record, raw } = await this.current();
    if (epoch === record.epoch && this.node === record.owner) return { won: true, ...record };
    if (epoch !== record.epoch + 1) return { won: false, ...record };
    const next = JSON.stringify({ epoch, owner: this.node });
    const txn = await this.step('test-and-set the epoch', async () => {
      const etcd = await this.client();
      const cmp = raw === null ? etcd.if(this.epochKey, 'Version', '==', 0) : etcd.if(this.epochKey, 'Value', '==', raw);
      return cmp.then(etcd.put(this.epochKey).value(next)).commit();
    });
    if (txn.succeeded) return { won: true, epoch, owner: this.node };
    // Another node's transaction came first: report what it wrote.
    const after = await this.read();
    return { won: after.epoch === epoch && after.owner === this.node, ...after };
  }

  /**
   * This node is live for `epoch`: it holds a lease and the live key on it from now on; `onLost`
   * runs once if the lease ends or the epoch is no longer this node's. Holding again (a later
   * epoch) keeps the same lease.
   */
  hold(epoch: number, onLost: (e: Error) => void): void {
    this.held = { epoch, onLost };
    const seconds = Math.max(LEASE_SECONDS_MIN, Math.ceil(this.leaseMs / 1000));
    this.step('put the live key on a lease', async () => {
      const etcd = await this.client();
      if (!this.lease) {
        this.lease = etcd.lease(seconds);
        this.lease.on('lost', (e) => this.lost(`etcd says: ${e.message.split('\n')[0]}`));
        this.watch(this.lease, seconds * 1000);
      }
      const id = await this.lease.grant();
      return etcd.if(this.epochKey, 'Value', '==', JSON.stringify({ epoch, owner: this.node }))
        .then(etcd.put(this.liveKey).value(this.node).lease(id))
        .commit();
    }).then(
      (txn) => {
        if (!txn.succeeded) this.lost(`epoch ${epoch} is no longer this node's`);
      },
      (e: Error) => this.lost(e.message),
    );
  }

  private held: { epoch: number; onLost: (e: Error) => void } | null = null;
  private watchdog: NodeJS.Timeout | null = null;

  /**
   * etcd3 reports a lost lease only after twice its TTL without a keep-alive; by then etcd has
   * already expired it and deleted the live key. The node stops as soon as a whole TTL has passed
   * without an answered keep-alive: past that point it cannot be sure the lease still exists.
   */
  private watch(lease: Lease, ttlMs: number): void {
    let lastAlive = Date.now();
    lease.on('keepaliveSucceeded', () => (lastAlive = Date.now()));
    this.watchdog = setInterval(() => {
      if (Date.now() - lastAlive > ttlMs) this.lost(`no keep-alive answered within the lease's ${ttlMs / 1000} s TTL`);
    }, Math.max(100, ttlMs / 10));
    this.watchdog.unref();
  }
  private told = false;

  private lost(why: string): void {
    if (this.told || this.closed || !this.held) return;
    this.told = true;
    this.held.onLost(leaseLost(this.node, this.held.epoch, why));
  }

  /** Stops keeping the lease alive (it expires on its own) and closes the connections. */
  close(): void {
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.lease?.release();
    this.etcd?.close();
    this.etcd = null;
  }
}

/** An epoch record read from etcd; anything else there is ERR_ARBITER_STATE (refuse, never guess). */
function parseRecord(raw: string, key: string): ArbiterRecord {
  try {
    if (raw.length > RECORD_BYTES_MAX) throw new Error(`${raw.length} bytes`);
    const r = JSON.parse(raw) as ArbiterRecord;
    if (!Number.isSafeInteger(r.epoch) || r.epoch < 0 || typeof r.owner !== 'string') throw new Error('bad fields');
    return { epoch: r.epoch, owner: r.owner };
  } catch (e) {
    throw new LockstepError('ERR_ARBITER_STATE', `etcd key ${key} does not hold an epoch record (${(e as Error).message}); ` +
      'restore it (etcdctl put) or choose another prefix: guessing the epoch could grant an epoch twice.', { key });
  }
}
