// Probes the replication tests share for a node running as a child process (cluster.ts): is it
// running, what does its /status say, wait for a condition, wait for its exit, drive a few bank
// transfers through the failover client. Waits are bounds on an event (failure guards), never
// deadlines a test races.

import { strict as assert } from 'node:assert';
import type { Client } from '../client/index.js';
import type { ReplicationStatus } from '../replication/replica.js';
import type { NodeProc } from './cluster.js';

const POLL_MS = 25;

export function running(n: NodeProc): boolean {
  return n.child.exitCode === null && n.child.signalCode === null;
}

/** GET /status, or null when the node does not answer within `timeoutMs` (not listening, gone, or too slow). */
export async function statusOf<S = ReplicationStatus>(n: NodeProc, timeoutMs = 1000): Promise<S | null> {
  if (!running(n)) return null;
  try {
    const r = await fetch(`${n.url}/status`, { signal: AbortSignal.timeout(timeoutMs) });
    return r.ok ? ((await r.json()) as S) : null;
  } catch {
    return null;
  }
}

/** Polls `probe` until it returns something truthy; throws after `ms`. */
export async function until<T>(what: string, ms: number, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The node's exit, bounded by `ms`. */
export async function exitOf(n: NodeProc, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${n.name} did not exit within ${ms} ms; stderr:\n${n.stderr()}`)), ms);
  });
  try {
    return await Promise.race([n.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A few bank transfers through the client; each answered once, from a live node. */
export async function transfers(client: Client, count: number, next: () => number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const from = Math.floor(next() * 16);
    const r = await client.request<{ ok: boolean }>('/transfer', { from, to: (from + 1) % 16, amount: 1 + Math.floor(next() * 5) });
    assert.equal(r.status, 200);
    assert.equal(r.body.ok, true, `transfer ${i}: ${JSON.stringify(r.body)}`);
  }
}

/** Both nodes' state and stderr, for a failure message. */
export function describePair(a: NodeProc, sa: ReplicationStatus | null, b: NodeProc, sb: ReplicationStatus | null): string {
  const one = (n: NodeProc, s: ReplicationStatus | null): string =>
    `${n.name} ${running(n) ? 'running' : `exited ${n.child.exitCode}`}, /status ${s ? JSON.stringify({ role: s.role, epoch: s.epoch, alone: s.alone, backup: s.backup }) : 'none'}`;
  return `${one(a, sa)}; ${one(b, sb)}\n${a.name} stderr:\n${a.stderr()}\n${b.name} stderr:\n${b.stderr()}`;
}
