// The arbiter: a small standalone TCP test-and-set service (arbiter_state.ts holds the rule).
// Its state is persisted with fsync before any reply, so an arbiter restarted after a crash
// never grants an epoch twice. Protocol: one JSON object per line each way.
//   request  {"op":"tas","epoch":N,"node":"name","mac":hex}  or  {"op":"get","mac":hex}
//   reply    {"ok":true,"won":bool,"epoch":N,"owner":"name"}  or  {"ok":false,"error":"..."}
// `mac` is HMAC-SHA256(secret, "op:epoch:node"); a request without the right one is refused and
// the attempt is logged.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { AddressInfo, Server, Socket } from 'node:net';
import { dirname } from 'node:path';
import { LockstepError } from '../engine/errors.js';
import { testAndSet, type ArbiterRecord, type Decision } from './arbiter_state.js';
import { dial, listen, tlsRefusal, transportOf, type TlsFiles } from './transport.js';

export interface ArbiterOptions {
  /** Where (epoch, owner) is kept across restarts. */
  stateFile: string;
  secret: string;
  port?: number;
  host?: string;
  /** Where refused attempts and decisions are reported (default: stderr). */
  log?: (line: string) => void;
  /** Mutual TLS with the cluster's certificates; without them, TLS with a key derived from the secret (transport.ts). */
  tls?: TlsFiles;
  /** Plaintext: only when asked for. */
  insecure?: boolean;
}

const LINE_BYTES_MAX = 4096;

export function mac(secret: string, op: string, epoch: number, node: string): string {
  return createHmac('sha256', secret).update(`${op}:${epoch}:${node}`).digest('hex');
}

function macOk(secret: string, given: unknown, op: string, epoch: number, node: string): boolean {
  if (typeof given !== 'string' || given.length !== 64) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(mac(secret, op, epoch, node), 'hex'));
}

export function loadState(stateFile: string): ArbiterRecord {
  try {
    const s = JSON.parse(readFileSync(stateFile, 'utf8')) as ArbiterRecord;
    if (!Number.isSafeInteger(s.epoch) || typeof s.owner !== 'string') throw new Error('bad fields');
    return s;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { epoch: 0, owner: '' };
    throw new LockstepError('ERR_ARBITER_STATE', `arbiter state file ${stateFile} is unreadable (${(e as Error).message}); ` +
      'restore it from a backup: guessing the epoch could grant an epoch twice.', { stateFile });
  }
}

/** Writes the state durably: temp file, fsync, rename, fsync of the folder. */
function saveState(stateFile: string, s: ArbiterRecord): void {
  const tmp = `${stateFile}.tmp`;
  const fd = openSync(tmp, 'w');
  writeSync(fd, JSON.stringify(s) + '\n');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, stateFile);
  const dir = openSync(dirname(stateFile), 'r');
  fsyncSync(dir);
  closeSync(dir);
}

export class Arbiter {
  private state: ArbiterRecord;
  private readonly server: Server;
  private readonly log: (line: string) => void;

  private constructor(private readonly options: ArbiterOptions) {
    this.state = loadState(options.stateFile);
    this.log = options.log ?? ((line) => process.stderr.write(`lockstep arbiter: ${line}\n`));
    this.server = listen(transportOf(options), (socket) => this.serve(socket),
      (r) => this.log(`refused ${r.peer}: ${r.secret ? `wrong or missing secret (TLS, node "${r.identity}")` : r.why}`));
  }

  static async start(options: ArbiterOptions): Promise<Arbiter> {
    if (!options.secret) throw new LockstepError('ERR_USAGE', 'the arbiter needs a shared secret');
    const a = new Arbiter(options);
    await new Promise<void>((resolve, reject) => {
      a.server.once('error', reject);
      a.server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
    });
    a.log(`listening on ${a.address.host}:${a.address.port}, epoch ${a.state.epoch} owned by ${a.state.owner || '(nobody)'}`);
    return a;
  }

  get address(): { host: string; port: number } {
    const addr = this.server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  get current(): ArbiterRecord {
    return { ...this.state };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > LINE_BYTES_MAX) {
        this.log(`refused ${socket.remoteAddress}:${socket.remotePort}: request too long`);
        socket.destroy();
        return;
      }
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        socket.write(JSON.stringify(this.handle(line, `${socket.remoteAddress}:${socket.remotePort}`)) + '\n');
      }
    });
  }

  /** One request: checked, decided, persisted before the reply leaves. */
  private handle(line: string, peer: string): Record<string, unknown> {
    let req: { op?: unknown; epoch?: unknown; node?: unknown; mac?: unknown };
    try {
      req = JSON.parse(line) as typeof req;
    } catch {
      return { ok: false, error: 'not JSON' };
    }
    const epoch = typeof req.epoch === 'number' ? req.epoch : 0;
    const node = typeof req.node === 'string' ? req.node : '';
    const op = req.op === 'tas' || req.op === 'get' ? req.op : null;
    if (!op) return { ok: false, error: 'unknown op' };
    if (!macOk(this.options.secret, req.mac, op, epoch, node)) {
      this.log(`refused ${peer}: wrong or missing secret (op ${op}, node "${node}")`);
      return { ok: false, error: 'authentication failed' };
    }
    if (op === 'get') return { ok: true, won: false, ...this.state };
    let decision: Decision;
    try {
      const r = testAndSet(this.state, epoch, node);
      if (r.next !== this.state) saveState(this.options.stateFile, r.next);
      this.state = r.next;
      decision = r.decision;
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
    this.log(`${node} asked for epoch ${epoch}: ${decision.won ? 'granted' : `refused (epoch ${decision.epoch} is ${decision.owner}'s)`}`);
    return { ok: true, ...decision };
  }
}

export interface ArbiterClientOptions {
  host: string;
  port: number;
  secret: string;
  timeoutMs?: number;
  tls?: TlsFiles;
  insecure?: boolean;
}

/** Asks the arbiter for `epoch` on behalf of `node`. Unreachable or refusing: ERR_ARBITER_UNREACHABLE. */
export function requestEpoch(c: ArbiterClientOptions, epoch: number, node: string): Promise<Decision> {
  return ask(c, { op: 'tas', epoch, node, mac: mac(c.secret, 'tas', epoch, node) }) as Promise<Decision>;
}

/** Reads (epoch, owner) without changing it. */
export function readEpoch(c: ArbiterClientOptions): Promise<ArbiterRecord> {
  return ask(c, { op: 'get', epoch: 0, node: '', mac: mac(c.secret, 'get', 0, '') }) as Promise<ArbiterRecord>;
}

function ask(c: ArbiterClientOptions, req: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const unreachable = (why: string): void => {
      socket.destroy();
      reject(new LockstepError('ERR_ARBITER_UNREACHABLE', `the arbiter at ${c.host}:${c.port} ${why}; a node that cannot ` +
        'reach the arbiter must not go live (fail-stop). Check the arbiter and the secret.', { host: c.host, port: c.port }));
    };
    const socket = dial(transportOf(c), c, typeof req.node === 'string' ? req.node : '');
    socket.setTimeout(c.timeoutMs ?? 2000, () => unreachable('did not answer in time'));
    socket.on('error', (e) => {
      const refused = tlsRefusal(e);
      unreachable(refused ? `refused the connection: authentication failed (${refused})` : `cannot be reached (${(e as NodeJS.ErrnoException).code ?? e.message})`);
    });
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      socket.end();
      const reply = JSON.parse(buffered.slice(0, nl)) as { ok: boolean; error?: string };
      if (!reply.ok) unreachable(`refused the request: ${reply.error}`);
      else resolve(reply);
    });
    socket.on('connect', () => socket.write(JSON.stringify(req) + '\n'));
  });
}
