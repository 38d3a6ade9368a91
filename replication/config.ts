// A node's replication settings: its role, who it is to the arbiter, where the log channel runs,
// and the failure-detection and lag limits. Read from start({ replication }) or from
// $LOCKSTEP_REPLICATION (JSON), which the `lockstep primary` / `lockstep backup` commands set.

import { usage } from '../engine/errors.js';
import type { ArbiterClientOptions } from './arbiter.js';
import { isEtcdUrl, parseEtcdUrl } from './etcd_arbiter.js';
import type { TlsFiles } from './transport.js';
import { resolvePreAuth, type PreAuthLimits } from './preauth.js';

export interface Address {
  host: string;
  port: number;
}

export interface ReplicationOptions {
  role: 'primary' | 'backup';
  /** This node's name, as the arbiter records owners. */
  node: string;
  /** The shared secret of the cluster (log channel and arbiter). */
  secret: string;
  /** The built-in arbiter's address, or an etcd cluster: "etcd://host:port[,host:port…][/prefix]". */
  arbiter: Address | string;
  /** Mutual TLS with the cluster's certificates (log channel and built-in arbiter); without it, TLS with a key derived from the secret. */
  tls?: TlsFiles;
  /** Plaintext log channel and arbiter protocol: only when asked for explicitly. */
  insecure?: boolean;
  /** Primary: where backups connect. A backup listens here after it has taken over. */
  listen?: Address;
  /** Backup: the primary's log channel. */
  connect?: Address;
  /** Backup: join a running primary by state transfer instead of following its log from the start. */
  join?: boolean;
  /** Heartbeat interval, both ways (default 50 ms). */
  heartbeatMs?: number;
  /** A peer silent this long is dead (default 300 ms). */
  timeoutMs?: number;
  /** The primary's threads wait when the backup lags by more than this many unacknowledged log bytes (default 4 MiB). */
  lagBytesMax?: number;
  /** Primary: how long it waits at start for its first backup before it runs alone (default 5000 ms). */
  waitBackupMs?: number;
  /** Backup: how long it keeps trying to reach the primary at start (default 10000 ms). */
  connectMs?: number;
  /** Backup: where it writes the log it receives (and, after cutover, its own new log's path prefix). */
  log?: string;
  /**
   * How long a node that claims an epoch keeps asking the arbiter (a lost reply is asked again: the
   * claim is idempotent for the same node and epoch) before it gives up and stops (default 5000 ms).
   */
  arbiterMs?: number;
  /** Limits on unauthenticated peers of the log channel (preauth.ts; defaults there). */
  preAuth?: Partial<PreAuthLimits>;
}

export type Replication = Required<Omit<ReplicationOptions, 'listen' | 'connect' | 'log' | 'preAuth' | 'tls'>> & Pick<ReplicationOptions, 'listen' | 'connect' | 'log' | 'tls'> & { preAuth: PreAuthLimits };

export const replicationDefaults = {
  heartbeatMs: 50,
  timeoutMs: 300,
  lagBytesMax: 4 << 20,
  waitBackupMs: 5000,
  connectMs: 10_000,
  arbiterMs: 5000,
  join: false,
  insecure: false,
};

export function resolveReplication(given: ReplicationOptions | undefined, env: string | undefined): Replication | null {
  let o = given;
  if (!o && env) {
    try {
      o = JSON.parse(env) as ReplicationOptions;
    } catch (e) {
      throw usage(`LOCKSTEP_REPLICATION is not JSON: ${(e as Error).message}`);
    }
  }
  if (!o) return null;
  const r = { ...replicationDefaults, ...o, preAuth: resolvePreAuth(o.preAuth) } as Replication;
  if (r.role !== 'primary' && r.role !== 'backup') throw usage(`replication role must be primary or backup, got "${String(r.role)}"`);
  if (!r.node) throw usage('replication needs a node name');
  if (!r.secret) throw usage('replication needs the cluster secret: without it any peer could join');
  if (typeof r.arbiter === 'string') {
    if (!isEtcdUrl(r.arbiter)) throw usage(`replication arbiter must be host:port or etcd://host:port[,…][/prefix], got "${r.arbiter}"`);
    parseEtcdUrl(r.arbiter);
  } else if (!r.arbiter?.host || !(r.arbiter.port > 0)) throw usage('replication needs the arbiter address (host:port)');
  if (r.tls && (typeof r.tls.cert !== 'string' || typeof r.tls.key !== 'string' || typeof r.tls.ca !== 'string')) {
    throw usage('replication tls needs cert, key and ca (PEM files or PEM text)');
  }
  if (r.tls && r.insecure) throw usage('replication takes TLS certificates or insecure, not both');
  if (r.role === 'primary' && !r.listen) throw usage('a primary needs an address to listen on for its backup');
  if (r.role === 'backup' && !r.connect) throw usage('a backup needs the primary\'s address to connect to');
  for (const k of ['heartbeatMs', 'timeoutMs', 'lagBytesMax', 'waitBackupMs', 'connectMs', 'arbiterMs'] as const) {
    if (!Number.isInteger(r[k]) || r[k] <= 0) throw usage(`replication ${k} must be a positive integer, got ${r[k]}`);
  }
  if (r.timeoutMs <= r.heartbeatMs) throw usage(`replication timeoutMs (${r.timeoutMs}) must exceed heartbeatMs (${r.heartbeatMs})`);
  return r;
}

/** How a node asks the arbiter: with the cluster secret, a few timeouts' patience per attempt, and arbiterMs in all. */
export function arbiterClient(repl: Replication): ArbiterClientOptions {
  if (typeof repl.arbiter === 'string') throw usage(`the arbiter ${repl.arbiter} is etcd, not the built-in arbiter`);
  return { ...repl.arbiter, secret: repl.secret, timeoutMs: repl.timeoutMs * 4, deadlineMs: repl.arbiterMs, tls: repl.tls, insecure: repl.insecure };
}

/** "host:port" or "port" → Address (loopback when no host). */
export function parseAddress(s: string, what: string): Address {
  const m = /^(?:(.+):)?(\d+)$/.exec(s);
  if (!m || Number(m[2]) > 65535) throw usage(`${what} must look like host:port or port, got "${s}"`);
  return { host: m[1] ?? '127.0.0.1', port: Number(m[2]) };
}
