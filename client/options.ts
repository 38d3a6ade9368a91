// The client's options, their defaults and their limits. resolveOptions() checks every value once,
// at construction, and says which one is wrong; the rest of the client trusts the result.

import { CLIENT_ID_PATTERN } from './protocol.js';
import { usage } from './errors.js';

export interface ClientOptions {
  /** Base URLs of the cluster's nodes, e.g. ['http://127.0.0.1:8001', 'http://127.0.0.1:8002']. */
  nodes: string[];
  /** Prefix of every request id (default: 12 random hex characters). */
  clientId?: string;
  /** How long one node has to answer one send before the client tries the next (default 2000). */
  attemptTimeoutMs?: number;
  /** Pause after every node has been tried once without an answer (default 50). */
  retryDelayMs?: number;
  /** How long a request may take in all before it fails with ERR_CLIENT_DEADLINE (default 10000). */
  deadlineMs?: number;
  /** Output ids remembered for dropping duplicates; the oldest is forgotten first (default 100000). */
  seenMax?: number;
  /** Largest reply body accepted (default 16 MiB). */
  replyBytesMax?: number;
  /** Sockets the keep-alive agent opens to one node (default 16); more requests queue. */
  socketsMax?: number;
}

export const optionsDefault = {
  attemptTimeoutMs: 2000,
  retryDelayMs: 50,
  deadlineMs: 10_000,
  seenMax: 100_000,
  replyBytesMax: 16 << 20,
  socketsMax: 16,
} as const;

/** Nodes in one cluster: a primary, a backup and room for a few more. */
export const NODES_MAX = 16;

export interface Settings {
  nodes: string[];
  /** nodes[i] as origin and path without a trailing '/', so that a request path can be appended. */
  bases: string[];
  clientId: string | undefined;
  attemptTimeoutMs: number;
  retryDelayMs: number;
  deadlineMs: number;
  seenMax: number;
  replyBytesMax: number;
  socketsMax: number;
}

function count(o: ClientOptions, name: keyof typeof optionsDefault, min: number): number {
  const v = o[name] ?? optionsDefault[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw usage(`client option ${name} must be an integer ≥ ${min}, got ${String(v)}`);
  }
  return v;
}

function parseNode(node: unknown): string {
  if (typeof node !== 'string') throw usage(`client option nodes: ${String(node)} is not a URL string`);
  let url: URL;
  try {
    url = new URL(node);
  } catch {
    throw usage(`client option nodes: "${node}" is not a URL; give a base URL such as http://127.0.0.1:8001`);
  }
  if (url.protocol !== 'http:') throw usage(`client option nodes: "${node}" is not an http: URL (the client speaks plain HTTP on loopback)`);
  if (url.search || url.hash) throw usage(`client option nodes: "${node}" has a query or fragment; give a base URL`);
  if (url.username || url.password) throw usage(`client option nodes: "${node}" has credentials; give a base URL`);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

export function resolveOptions(o: ClientOptions): Settings {
  if (!o || typeof o !== 'object') throw usage('new Client(options): options are required, e.g. { nodes: ["http://127.0.0.1:8001"] }');
  if (!Array.isArray(o.nodes) || o.nodes.length === 0) {
    throw usage('client option nodes must list at least one node base URL, e.g. ["http://127.0.0.1:8001"]');
  }
  if (o.nodes.length > NODES_MAX) throw usage(`client option nodes lists ${o.nodes.length} nodes; at most ${NODES_MAX} are allowed`);
  const bases = o.nodes.map(parseNode);
  const twice = bases.find((b, i) => bases.indexOf(b) !== i);
  if (twice !== undefined) throw usage(`client option nodes lists ${twice} twice`);
  if (o.clientId !== undefined && (typeof o.clientId !== 'string' || !CLIENT_ID_PATTERN.test(o.clientId))) {
    throw usage(`client option clientId "${String(o.clientId)}" must be 1 to 64 letters, digits, '_' or '-'`);
  }
  return {
    nodes: [...o.nodes],
    bases,
    clientId: o.clientId,
    attemptTimeoutMs: count(o, 'attemptTimeoutMs', 1),
    retryDelayMs: count(o, 'retryDelayMs', 0),
    deadlineMs: count(o, 'deadlineMs', 1),
    seenMax: count(o, 'seenMax', 1),
    replyBytesMax: count(o, 'replyBytesMax', 1),
    socketsMax: count(o, 'socketsMax', 1),
  };
}
