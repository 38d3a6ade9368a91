// The arbiter: a small standalone TCP test-and-set service (core/arbiter.ts holds the rule).
// Its state is persisted with fsync before any reply, so an arbiter restarted after a crash
// never grants an epoch twice. Protocol: one JSON object per line each way, one request per
// connection, bound to that connection by a challenge so a recorded request cannot be replayed:
//   arbiter  {"challenge":hex32}
//   request  {"op":"tas","epoch":N,"node":"name","nonce":hex32,"mac":hex}  or  {"op":"get",…,"epoch":0,"node":""}
//   reply    {"ok":true,"won":bool,"epoch":N,"owner":"name","mac":hex}  or  {"ok":false,"error":"..."}
// The request's `mac` is HMAC-SHA256(secret, "op:epoch:node:challenge:nonce"); the reply's is
// HMAC-SHA256(secret, "reply:won:epoch:owner:challenge:nonce"), so a node also knows the answer
// comes from an arbiter that holds the secret. A request without the right MAC is refused and the
// attempt is logged. Strangers get the limits of preauth.ts: a bounded line, a bounded time to
// send it, a bounded number of connections. Everything read from the socket is parsed by total
// functions: no input can throw inside the server.
//
// A node's claim survives a lost reply: requestEpoch asks again (a new connection, a new
// challenge) until its deadline, and the arbiter grants the same epoch again to its owner.

import { createHmac } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync, accessSync, constants } from 'node:fs';
import type { AddressInfo, Server, Socket } from 'node:net';
import { dirname } from 'node:path';
import { LockstepError, usage } from '../engine/errors.js';
import { askAgain, CLAIM_RETRY_MS, testAndSet, type ArbiterRecord, type Decision } from './core/arbiter.js';
import { DropLog, Doorman, resolvePreAuth, type PreAuthLimits } from './preauth.js';
import { dial, listen, tlsRefusal, transportOf, type TlsFiles } from './transport.js';
import { hexEqual, nonce, NODE_NAME_CHARS_MAX } from './wire.js';

export interface ArbiterOptions {
  /** Where (epoch, owner) is kept across restarts. */
  stateFile: string;
  secret: string;
  port?: number;
  host?: string;
  /** Where refused attempts and decisions are reported (default: stderr). */
  log?: (line: string) => void;
  /** Limits on strangers (preauth.ts): time to send the request, its size, connections held. */
  preAuth?: Partial<PreAuthLimits>;
  /** Mutual TLS with the cluster's certificates; without them, TLS with a key derived from the secret (transport.ts). */
  tls?: TlsFiles;
  /** Plaintext: only when asked for. */
  insecure?: boolean;
}

/** The MAC a request carries: bound to its op and fields, the connection's challenge and the client's nonce. */
export function requestMac(secret: string, op: string, epoch: number, node: string, challenge: string, clientNonce: string): string {
  return createHmac('sha256', secret).update(`${op}:${epoch}:${node}:${challenge}:${clientNonce}`).digest('hex');
}

/** The MAC a reply carries, so the node knows the arbiter holds the secret and the reply is for its request. */
export function replyMac(secret: string, d: { won: boolean; epoch: number; owner: string }, challenge: string, clientNonce: string): string {
  return createHmac('sha256', secret).update(`reply:${d.won}:${d.epoch}:${d.owner}:${challenge}:${clientNonce}`).digest('hex');
}

export function loadState(stateFile: string): ArbiterRecord {
  try {
    const s = JSON.parse(readFileSync(stateFile, 'utf8')) as ArbiterRecord | null;
    if (!s || !Number.isSafeInteger(s.epoch) || s.epoch < 0 || typeof s.owner !== 'string') throw new Error('bad fields');
    return { epoch: s.epoch, owner: s.owner };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { epoch: 0, owner: '' };
    throw new LockstepError('ERR_ARBITER_STATE', `arbiter state file ${stateFile} is unreadable (${(e as Error).message}); ` +
      'restore it from a backup: guessing the epoch could grant an epoch twice.', { stateFile });
  }
}

/** Only the arbiter may read or write its state (an owner could otherwise be forged on disk). */
const STATE_FILE_MODE = 0o600;

/** Writes the state durably: temp file (mode 0600), fsync, rename, fsync of the folder. */
function saveState(stateFile: string, s: ArbiterRecord): void {
  const tmp = `${stateFile}.tmp`;
  const fd = openSync(tmp, 'w', STATE_FILE_MODE);
  try {
    // The mode given to open applies only to a file it creates: a stale temp file keeps its own.
    fchmodSync(fd, STATE_FILE_MODE);
    writeSync(fd, JSON.stringify(s) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, stateFile);
  const dir = openSync(dirname(stateFile), 'r');
  fsyncSync(dir);
  closeSync(dir);
}

/** Refuses at start what would make the arbiter refuse every epoch later: a state folder it cannot write. */
function checkStateFolder(stateFile: string): void {
  const dir = dirname(stateFile);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw usage(`the arbiter's --state folder ${dir} does not exist; create it first`);
  }
  if (!isDir) throw usage(`the arbiter's --state folder ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw usage(`the arbiter cannot write its --state folder ${dir}; give it write permission or choose another`);
  }
}

/** A request line, read by a total function: the fields, or why it is malformed. */
export type ParsedRequest = { op: 'tas' | 'get'; epoch: number; node: string; nonce: string; mac: string };

const HEX32 = /^[0-9a-f]{32}$/;

export function parseRequest(line: string): ParsedRequest | string {
  let req: unknown;
  try {
    req = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof req !== 'object' || req === null || Array.isArray(req)) return 'not a JSON object';
  const r = req as Record<string, unknown>;
  if (r.op !== 'tas' && r.op !== 'get') return 'unknown op';
  if (typeof r.nonce !== 'string' || !HEX32.test(r.nonce)) return 'no nonce';
  if (typeof r.mac !== 'string') return 'no mac';
  if (r.op === 'get') return { op: 'get', epoch: 0, node: '', nonce: r.nonce, mac: r.mac };
  if (!Number.isSafeInteger(r.epoch) || (r.epoch as number) < 1) return 'epoch must be a positive integer';
  if (typeof r.node !== 'string' || r.node.length === 0 || r.node.length > NODE_NAME_CHARS_MAX) return 'bad node name';
  return { op: 'tas', epoch: r.epoch as number, node: r.node, nonce: r.nonce, mac: r.mac };
}

export class Arbiter {
  private state: ArbiterRecord;
  private readonly server: Server;
  private readonly log: (line: string) => void;
  private readonly limits: PreAuthLimits;
  private readonly doorman: Doorman;
  private readonly drops: DropLog;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly options: ArbiterOptions) {
    this.limits = resolvePreAuth(options.preAuth);
    this.state = loadState(options.stateFile);
    this.log = options.log ?? ((line) => process.stderr.write(`lockstep arbiter: ${line}\n`));
    this.drops = new DropLog(this.log);
    this.doorman = new Doorman(this.limits, (s, why) => this.drops.note(`dropped ${s.remoteAddress}:${s.remotePort}: ${why}`));
    this.server = listen(transportOf(options), (socket) => this.serve(socket),
      (r) => this.drops.note(`refused ${r.peer}: ${r.secret ? `wrong or missing secret (TLS, node "${r.identity}")` : r.why}`), this.limits);
  }

  static async start(options: ArbiterOptions): Promise<Arbiter> {
    if (!options.secret) throw new LockstepError('ERR_USAGE', 'the arbiter needs a shared secret');
    checkStateFolder(options.stateFile);
    const a = new Arbiter(options);
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    await new Promise<void>((resolve, reject) => {
      a.server.once('error', (e: NodeJS.ErrnoException) => {
        reject(usage(`the arbiter cannot listen on ${host}:${port} (${e.code ?? e.message}); choose a --host this machine has and a free --port`));
      });
      a.server.listen(port, host, resolve);
    });
    a.server.on('error', (e) => a.log(`listener error: ${e.message}`));
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

  /** Connections that have not been answered and closed yet. */
  get strangers(): number {
    return this.doorman.strangers;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    this.doorman.admit(socket);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const challenge = nonce();
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.write(JSON.stringify({ challenge }) + '\n');
    const chunks: Buffer[] = [];
    let bytes = 0;
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      if (answered) return;
      const nl = chunk.indexOf(10);
      const upTo = nl < 0 ? chunk.length : nl;
      if (bytes + upTo > this.limits.preAuthBytesMax) {
        this.drops.note(`refused ${peer}: request longer than ${this.limits.preAuthBytesMax} bytes (preAuthBytesMax)`);
        socket.destroy();
        return;
      }
      chunks.push(chunk.subarray(0, upTo));
      bytes += upTo;
      if (nl < 0) return;
      answered = true;
      const reply = this.handle(Buffer.concat(chunks).toString('utf8'), peer, challenge);
      socket.end(JSON.stringify(reply) + '\n');
    });
  }

  /** One request: checked, decided, persisted before the reply leaves. Total: it answers every line. */
  private handle(line: string, peer: string, challenge: string): Record<string, unknown> {
    const req = parseRequest(line);
    if (typeof req === 'string') {
      this.drops.note(`refused ${peer}: ${req}`);
      return { ok: false, error: req };
    }
    if (!hexEqual(req.mac, requestMac(this.options.secret, req.op, req.epoch, req.node, challenge, req.nonce))) {
      this.drops.note(`refused ${peer}: wrong or missing secret (op ${req.op}, node ${JSON.stringify(req.node)})`);
      return { ok: false, error: 'authentication failed' };
    }
    let decision: Decision;
    if (req.op === 'get') {
      decision = { won: false, ...this.state };
    } else {
      try {
        const r = testAndSet(this.state, req.epoch, req.node);
        if (r.next !== this.state) saveState(this.options.stateFile, r.next);
        this.state = r.next;
        decision = r.decision;
      } catch (e) {
        this.log(`cannot decide for ${req.node} (epoch ${req.epoch}): ${(e as Error).message}`);
        return { ok: false, error: (e as Error).message };
      }
      this.log(`${req.node} asked for epoch ${req.epoch}: ${decision.won ? 'granted' : `refused (epoch ${decision.epoch} is ${decision.owner}'s)`}`);
    }
    return { ok: true, ...decision, mac: replyMac(this.options.secret, decision, challenge, req.nonce) };
  }
}

export interface ArbiterClientOptions {
  host: string;
  port: number;
  secret: string;
  /** One attempt's patience, milliseconds (default 2000). */
  timeoutMs?: number;
  /** How long to keep asking again after attempts that got no answer, milliseconds (default 0: one attempt). */
  deadlineMs?: number;
  tls?: TlsFiles;
  insecure?: boolean;
}

/**
 * Asks the arbiter for `epoch` on behalf of `node`. An attempt that gets no answer (unreachable,
 * timed out, closed, a reply lost or garbled) is made again until `deadlineMs`: the arbiter grants
 * an epoch again to the node that owns it, so a claim whose reply was lost learns it won. An
 * answer is final (a refusal is not retried). Giving up: ERR_ARBITER_UNREACHABLE.
 */
export function requestEpoch(c: ArbiterClientOptions, epoch: number, node: string): Promise<Decision> {
  return retrying(c, () => ask(c, 'tas', epoch, node)) as Promise<Decision>;
}

/** Reads (epoch, owner) without changing it (asked again like requestEpoch). */
export function readEpoch(c: ArbiterClientOptions): Promise<ArbiterRecord & { ok: true; won: false }> {
  return retrying(c, () => ask(c, 'get', 0, '')).then((d) => ({ ok: true as const, won: false as const, epoch: d.epoch, owner: d.owner }));
}

async function retrying(c: ArbiterClientOptions, attempt: () => Promise<Decision>): Promise<Decision> {
  const deadline = Date.now() + (c.deadlineMs ?? 0);
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      return await attempt();
    } catch (e) {
      const answered = !(e instanceof LockstepError && e.details.answered === false);
      if (!askAgain(answered, Date.now(), deadline)) {
        if (attempts > 1 && e instanceof LockstepError) e.message += ` (${attempts} attempts in ${c.deadlineMs} ms)`;
        throw e;
      }
      await new Promise((r) => setTimeout(r, CLAIM_RETRY_MS));
    }
  }
}

function arbiterError(c: ArbiterClientOptions, why: string, answered: boolean): LockstepError {
  return new LockstepError('ERR_ARBITER_UNREACHABLE', `the arbiter at ${c.host}:${c.port} ${why}; a node that cannot ` +
    'reach the arbiter must not go live (fail-stop). Check the arbiter and the secret.', { host: c.host, port: c.port, answered });
}

/** One line of JSON from the arbiter, read by a total function. */
function jsonLine(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Longest line read from the arbiter, bytes (a reply is ~200). */
const REPLY_BYTES_MAX = 4096;

/** One attempt: connection, challenge, request, checked reply. */
function ask(c: ArbiterClientOptions, op: 'tas' | 'get', epoch: number, node: string): Promise<Decision> {
  return new Promise((resolve, reject) => {
    const myNonce = nonce();
    let challenge: string | null = null;
    let settled = false;
    const done = (e: LockstepError | null, d?: Decision): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (e) reject(e);
      else resolve(d!);
    };
    const noAnswer = (why: string): void => done(arbiterError(c, why, false));
    const socket = dial(transportOf(c), c, node);
    socket.setTimeout(c.timeoutMs ?? 2000, () => noAnswer('did not answer in time'));
    socket.on('error', (e) => {
      // A TLS refusal is the arbiter's answer: asking again cannot change it.
      const refused = tlsRefusal(e);
      if (refused) done(arbiterError(c, `refused the connection: authentication failed (${refused})`, true));
      else noAnswer(`cannot be reached (${(e as NodeJS.ErrnoException).code ?? e.message})`);
    });
    socket.on('close', () => noAnswer('closed the connection without an answer'));
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > REPLY_BYTES_MAX) return noAnswer('sent a line too long to be a reply');
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = jsonLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if (challenge === null) {
          if (!line || typeof line.challenge !== 'string' || !HEX32.test(line.challenge)) return noAnswer('sent no valid challenge');
          challenge = line.challenge;
          socket.write(JSON.stringify({ op, epoch, node, nonce: myNonce, mac: requestMac(c.secret, op, epoch, node, challenge, myNonce) }) + '\n');
          continue;
        }
        if (!line) return noAnswer('sent a reply that is not JSON');
        if (line.ok !== true) return done(arbiterError(c, `refused the request: ${typeof line.error === 'string' ? line.error.slice(0, 200) : 'no reason given'}`, true));
        const d = { won: line.won === true, epoch: line.epoch as number, owner: line.owner as string };
        if (!Number.isSafeInteger(d.epoch) || typeof d.owner !== 'string' || !hexEqual(line.mac, replyMac(c.secret, d, challenge, myNonce))) {
          return noAnswer('sent a reply it cannot prove (wrong secret, or not the arbiter)');
        }
        return done(null, d as Decision);
      }
    });
  });
}
