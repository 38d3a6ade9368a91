// What `lockstep primary` and `lockstep backup` share: checking their flags, reading the
// cluster secret, and running the program as a replicated node. The program runs unchanged, as
// under `lockstep record`: its start() reads the node's role, peers and limits from
// $LOCKSTEP_REPLICATION (replication/config.ts), which is built here from the flags.
//
// The secret never appears in a message, a summary or --verbose details: it travels to the
// child only inside $LOCKSTEP_REPLICATION.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseAddress, replicationDefaults, resolveReplication, type Address, type ReplicationOptions } from '../replication/config.js';
import { isEtcdUrl, parseEtcdUrl } from '../replication/etcd_arbiter.js';
import { transportOf, type TlsFiles } from '../replication/transport.js';
import { noResult, outputFailed, usageError } from './errors.js';
import { ExitCode } from './exit_codes.js';
import { num, shortDigest } from './format.js';
import { failureError } from './outcome.js';
import { programPath, runProgram } from './run_program.js';

/** Node names go into the default log name (lockstep-<node>.log), so they are kept path-safe. */
const NODE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** A secret file is a line of text; anything bigger is the wrong file. */
const SECRET_FILE_BYTES_MAX = 64 << 10;

/** The flags both commands take. */
export interface NodeFlags {
  node: string;
  arbiter: string;
  secret?: string;
  secretFile?: string;
  log?: string;
  heartbeatMs?: string;
  timeoutMs?: string;
  lagBytes?: string;
  arbiterMs?: string;
  verbose?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  insecure?: boolean;
}

/** The transport flags primary, backup and arbiter share (replication/transport.ts). */
export function securityOptions(c: Command): Command {
  return c
    .option('--tls-cert <file>', 'this node\'s certificate (PEM) for mutual TLS; with --tls-key and --tls-ca')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--tls-ca <file>', 'the cluster\'s CA certificate (PEM): peers must present a certificate it signed')
    .option('--insecure', 'plaintext log channel and arbiter protocol (default: TLS, with a key derived from the secret when no certificates are given)');
}

export const TLS_HELP = `
Every frame on the log channel and every arbiter request is encrypted and authenticated with TLS:
mutual TLS with --tls-cert/--tls-key/--tls-ca (lockstep certs --out <dir> makes a test CA),
otherwise TLS with a pre-shared key derived from the cluster secret. --insecure turns TLS off.`;

/** --tls-cert, --tls-key and --tls-ca: all three or none, readable PEM files; never with --insecure. */
export function tlsOf(flags: { tlsCert?: string; tlsKey?: string; tlsCa?: string; insecure?: boolean }, secret: string): { tls?: TlsFiles; insecure?: boolean } {
  const given = [flags.tlsCert, flags.tlsKey, flags.tlsCa].filter((x) => x !== undefined).length;
  if (given !== 0 && given !== 3) throw usageError('mutual TLS needs all of --tls-cert, --tls-key and --tls-ca');
  if (given === 3 && flags.insecure === true) throw usageError('give TLS certificates or --insecure, not both');
  const o = given === 3 ? { tls: { cert: resolve(flags.tlsCert!), key: resolve(flags.tlsKey!), ca: resolve(flags.tlsCa!) } } : flags.insecure === true ? { insecure: true } : {};
  // Reads and checks the files now, so a wrong path is reported before the program starts.
  transportOf({ secret, ...o });
  return o;
}

export const SECRET_HELP = `
The cluster secret authenticates the log channel and the arbiter; every node and the arbiter
must share it. Give it with --secret-file (trailing whitespace is ignored, as the arbiter does)
or $LOCKSTEP_SECRET rather than --secret, which other users can see in the process list.`;

/** Checks the flags both roles share and returns the common part of the node's options. */
export function nodeOptions(role: 'primary' | 'backup', flags: NodeFlags): ReplicationOptions {
  if (!NODE_NAME.test(flags.node)) {
    throw usageError(`--node must be 1 to 64 letters, digits, '.', '_' or '-', got "${flags.node}"`);
  }
  const secret = secretOf(flags);
  const o: ReplicationOptions = { role, node: flags.node, secret, arbiter: arbiterOf(flags.arbiter), ...tlsOf(flags, secret) };
  if (flags.heartbeatMs !== undefined) o.heartbeatMs = positiveInt('--heartbeat-ms', flags.heartbeatMs);
  if (flags.timeoutMs !== undefined) o.timeoutMs = positiveInt('--timeout-ms', flags.timeoutMs);
  if (flags.lagBytes !== undefined) o.lagBytesMax = positiveInt('--lag-bytes', flags.lagBytes);
  if (flags.arbiterMs !== undefined) o.arbiterMs = positiveInt('--arbiter-ms', flags.arbiterMs);
  const heartbeat = o.heartbeatMs ?? replicationDefaults.heartbeatMs;
  const timeout = o.timeoutMs ?? replicationDefaults.timeoutMs;
  if (timeout <= heartbeat) throw usageError(`--timeout-ms (${timeout}) must exceed --heartbeat-ms (${heartbeat})`);
  return o;
}

/** --arbiter: the built-in arbiter's host:port, or etcd://host:port[,host:port…][/prefix]. */
function arbiterOf(text: string): Address | string {
  if (!isEtcdUrl(text)) return address('--arbiter', text);
  try {
    parseEtcdUrl(text);
  } catch (e) {
    throw usageError(`--arbiter: ${(e as Error).message}`);
  }
  return text;
}

/** Exactly one of --secret and --secret-file, else $LOCKSTEP_SECRET. */
function secretOf(flags: NodeFlags): string {
  if (flags.secret !== undefined && flags.secretFile !== undefined) {
    throw usageError('give the cluster secret with --secret or --secret-file, not both');
  }
  if (flags.secretFile !== undefined) return readSecretFile(flags.secretFile);
  if (flags.secret !== undefined) {
    if (!flags.secret) throw usageError('--secret is empty');
    return flags.secret;
  }
  const env = process.env.LOCKSTEP_SECRET?.trim();
  if (!env) throw usageError('the cluster secret is required: --secret-file <file>, --secret <s> or $LOCKSTEP_SECRET');
  return env;
}

/** The secret in a --secret-file: one line of text (trailing whitespace ignored), never empty. */
export function readSecretFile(file: string): string {
  const path = resolve(file);
  let bytes: number;
  let text = '';
  try {
    bytes = statSync(path).size;
    if (bytes <= SECRET_FILE_BYTES_MAX) text = readFileSync(path, 'utf8');
  } catch (e) {
    throw usageError(`--secret-file ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (bytes > SECRET_FILE_BYTES_MAX) throw usageError(`--secret-file ${path} is larger than ${SECRET_FILE_BYTES_MAX} bytes: is it the right file?`);
  const secret = text.trim();
  if (!secret) throw usageError(`--secret-file ${path} is empty`);
  return secret;
}

export function positiveInt(flag: string, text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw usageError(`${flag} must be a positive integer, got "${text}"`);
  return n;
}

/**
 * "host:port" or "port". Port 0 (any free port; the engine prints the one it got) only where
 * this node listens: a node cannot connect to port 0.
 */
export function address(flag: string, text: string, anyPort = false): Address {
  let a: Address;
  try {
    a = parseAddress(text, flag);
  } catch (e) {
    throw usageError((e as Error).message);
  }
  if (a.port === 0 && !anyPort) throw usageError(`${flag} needs a port from 1 to 65535, got "${text}"`);
  return a;
}

/**
 * Runs the program as a replicated node with `repl`, writing to (or receiving into) `log`, and
 * reports how it ended: one summary line, or the run's failure as the CLI's error.
 */
export async function runNode(given: string, args: string[], repl: ReplicationOptions, log: string | undefined, verbose: boolean): Promise<number> {
  const program = programPath(given, '');
  const logPath = resolve(log ?? `lockstep-${repl.node}.log`);
  checkFolder(logPath);
  const options = { ...repl, log: logPath };
  try {
    resolveReplication(options, undefined);
  } catch (e) {
    // The flags are checked above; this is the engine's own check, so a gap shows as a usage error.
    throw usageError((e as Error).message);
  }

  const what = `${repl.role} ${repl.node} running ${basename(program)}`;
  const outcome = await runProgram({
    mode: repl.role,
    program,
    args,
    log: logPath,
    verbose,
    env: { LOCKSTEP_REPLICATION: JSON.stringify(options) },
    // The walkthrough kills this process (not the CLI) to show a crash: say which one it is.
    onSpawn: (pid) => process.stderr.write(`lockstep: ${repl.role} ${repl.node}: the program runs as pid ${pid}\n`),
  });
  if (outcome.failure) throw failureError(outcome, what);
  if (!outcome.result) throw noResult(what);
  const r = outcome.result;
  process.stdout.write(
    `${what} finished: ${num(r.threads ?? 0)} threads, ${num(r.events ?? 0)} events, digest ${shortDigest(r.digest ?? '')}` +
      `${r.log ? ` (log ${r.log})` : ''}\n`,
  );
  return ExitCode.Ok;
}

/** The log's folder must exist: the program would otherwise fail at start() or at cutover. */
function checkFolder(log: string): void {
  if (existsSync(log) && statSync(log).isDirectory()) throw outputFailed(log, 'it is a directory');
  const folder = dirname(log);
  if (!existsSync(folder)) throw outputFailed(log, `the folder ${folder} does not exist`);
}
