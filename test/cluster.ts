// Test driver for live replication: an in-process arbiter and bank-service nodes (examples/
// bankservice) as child processes on loopback, each role configured through $LOCKSTEP_REPLICATION
// the way `lockstep primary` / `lockstep backup` set it. Free ports are taken from the OS.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Arbiter, type ArbiterOptions } from '../replication/arbiter.js';
import type { ReplicationOptions } from '../replication/config.js';

const SERVICE = new URL('../examples/bankservice/main.js', import.meta.url).pathname;

/** Another service than the bank (the document store): its entry file and its environment for a port and a summary file. */
export interface Service {
  path: string;
  env: (port: number, summaryFile: string) => Record<string, string>;
}

/**
 * Ports handed out by freePort, below the kernel's ephemeral range (32768-60999 on Linux): a port
 * the OS picks for `listen(0)` comes from that range, and so does the local port of every outgoing
 * connection, so between freePort closing its probe and the child binding it, a connection (the
 * test's own HTTP client, a node's log channel) could take it (seen: a node exiting with
 * EADDRINUSE once in ~300 runs of a replication test). Below the range only listeners compete.
 */
const PORT_LOW = 20_000;
const PORT_HIGH = 32_000;
const handedOut = new Set<number>();

/** A port free on `host` now, never handed out before by this process (tests bind it in a child). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await bindable(port, host)) return port;
  }
}

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

export interface NodeProc {
  name: string;
  child: ChildProcess;
  /** The node's client URL (it listens there once live). */
  url: string;
  /** The address it binds (its "host"). */
  host: string;
  /** Its log channel port. */
  channel: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  summaryFile: string;
  /** The JSON line the service prints when its run ends. */
  result: () => { mode: string; digest: string; total: number; applied: number } | null;
  summary: () => { total: number; applied: { key: string; ok: boolean; from: number; to: number; output: string }[] };
}

export class Cluster {
  readonly nodes: NodeProc[] = [];

  private constructor(readonly dir: string, readonly arbiter: Arbiter, readonly secret: string, private readonly arbiterOptions: Partial<ArbiterOptions> = {}) {}

  /** How a test asks the arbiter itself (readEpoch): its address, the secret and its transport. */
  get arbiterAccess(): { host: string; port: number; secret: string; tls?: ArbiterOptions['tls']; insecure?: boolean } {
    return { ...this.arbiter.address, secret: this.secret, tls: this.arbiterOptions.tls, insecure: this.arbiterOptions.insecure };
  }

  /** `arbiter`: the built-in arbiter's transport (tls, insecure) and address, as the nodes will use. */
  static async start(secret = 'test-secret', arbiterOptions: Partial<ArbiterOptions> = {}): Promise<Cluster> {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-cluster-'));
    const arbiter = await Arbiter.start({ stateFile: join(dir, 'arbiter.json'), secret, log: () => {}, ...arbiterOptions });
    return new Cluster(dir, arbiter, secret, arbiterOptions);
  }

  /** `host`: the loopback address this node binds and is reached at (a host of its own: 127.0.0.2, …). */
  async node(name: string, role: 'primary' | 'backup', o: { connect?: NodeProc; join?: boolean; secret?: string; host?: string; env?: Record<string, string>; repl?: Partial<ReplicationOptions>; service?: Service } = {}): Promise<NodeProc> {
    const host = o.host ?? '127.0.0.1';
    const bankPort = await freePort(host);
    const channel = await freePort(host);
    const repl: ReplicationOptions = {
      role, node: name, secret: o.secret ?? this.secret,
      arbiter: this.arbiter.address,
      listen: { host, port: channel },
      ...(o.connect ? { connect: { host: o.connect.host, port: o.connect.channel } } : {}),
      join: o.join ?? false,
      log: join(this.dir, `${name}.log`),
      // The primary waits for its backup's connection (an event) up to this bound: a loaded box
      // can take many seconds to start the backup's process, and a backup that connects after
      // the bound is refused (the primary has gone on alone). Tests of "alone" set a small one.
      waitBackupMs: 60_000,
      // Lenient failure detection: a loaded 2-core CI box must not mistake slowness for death.
      heartbeatMs: 100,
      timeoutMs: 1500,
      ...o.repl,
    };
    const summaryFile = join(this.dir, `${name}.summary.json`);
    const child = spawn(process.execPath, [o.service?.path ?? SERVICE], {
      cwd: this.dir,
      env: {
        ...process.env, LOCKSTEP_MODE: '', LOCKSTEP_REPLICATION: JSON.stringify(repl), LOCKSTEP_LOG: join(this.dir, `${name}.log`),
        ...(o.service ? o.service.env(bankPort, summaryFile) : { BANK_PORT: String(bankPort), BANK_HOST: host, BANK_SUMMARY: summaryFile, BANK_ACCOUNTS: '16', BANK_WORKERS: '2' }),
        ...o.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    const node: NodeProc = {
      name, host, child, url: `http://${host}:${bankPort}`, channel, stdout: () => out, stderr: () => err, exited, summaryFile,
      result: () => {
        const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
        return line ? JSON.parse(line) : null;
      },
      summary: () => JSON.parse(readFileSync(summaryFile, 'utf8')),
    };
    this.nodes.push(node);
    return node;
  }

  /** Resolves once `node`'s stderr matches `re` (or rejects after `ms`, with its stderr). */
  async waitFor(node: NodeProc, re: RegExp, ms = 60_000): Promise<void> {
    const until = Date.now() + ms;
    while (!re.test(node.stderr())) {
      if (Date.now() > until) throw new Error(`${node.name} never printed ${re}; stderr:\n${node.stderr()}`);
      if (node.child.exitCode !== null) throw new Error(`${node.name} exited (${node.child.exitCode}) before printing ${re}; stderr:\n${node.stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    for (const n of this.nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
    await Promise.all(this.nodes.map((n) => n.exited));
    await this.arbiter.close();
  }
}

/** GET /status of a live node. */
export async function status(node: NodeProc): Promise<Record<string, unknown>> {
  const r = await fetch(`${node.url}/status`);
  return (await r.json()) as Record<string, unknown>;
}

/**
 * A node's own view of its replication state, for watching a primary whose backup is paused or
 * cut off: such a node cannot prove its epoch, so it refuses /status (503) and sends its view
 * only as `unconfirmed`. Never to be taken for a live node's answer.
 */
export async function observe(node: NodeProc): Promise<Record<string, unknown>> {
  const body = (await (await fetch(`${node.url}/status`)).json()) as Record<string, unknown>;
  return (body.unconfirmed as Record<string, unknown> | undefined) ?? body;
}
