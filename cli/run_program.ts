// Runs the user's program as a child process in record or replay mode, or as a replicated
// primary or backup, the way `rr record` runs a binary: the program is unchanged, lockstep's
// start() reads its mode and log from the environment (a replicated node's role and peers from
// $LOCKSTEP_REPLICATION), and its finish() writes the run's result. This file is the driver
// that owns the child: environment, node flags, output forwarding, signals, and learning why it
// ended.
//
// Why the run ended comes from the first source that knows, most reliable first:
//   1. $LOCKSTEP_RESULT_FILE, written by the engine (finish(), start(), its uncaught monitor);
//   2. $LOCKSTEP_CLI_FAILURE_FILE, written by child_hook.ts for any fatal error in the program;
//   3. the child's stderr, for a program that catches the error, prints it and exits itself;
//   4. the exit status or signal alone.
//
// The child's stdout and stderr are always pipes that the CLI forwards, never the terminal:
// a program that checks isTTY then behaves the same when recorded at a terminal and replayed
// in CI, and the CLI's status line and the program's output do not tear each other.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tsxMissing } from '../engine/errors.js';
import { usageError, type CliCode } from './errors.js';
import type { StatusLine } from './progress.js';

/** What the engine writes to $LOCKSTEP_RESULT_FILE (runtime/process_run.ts). */
export interface RunResultFile {
  ok: boolean;
  mode?: string;
  digest?: string;
  recordedDigest?: string;
  events?: number;
  threads?: number;
  log?: string;
  logBytes?: number;
  /** Checkpoints: recorded and given up (record), or compared and matched (replay; replayer/checkpoint.ts). */
  checkpoints?: { recorded?: number; givenUp?: number; compared?: number; matched?: number; firstMismatch?: unknown };
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
}

export interface ProgramRun {
  /** primary and backup take their role from $LOCKSTEP_REPLICATION in `env`, not $LOCKSTEP_MODE. */
  mode: 'record' | 'replay' | 'primary' | 'backup';
  /** The entry file (.js, .mjs, .cjs, or TypeScript, which runs through tsx). */
  program: string;
  args: string[];
  log: string;
  /** Record: the run's seed (a decimal integer string). */
  seed?: string;
  /** Record: chaos ("on", "<seed>", "<seed>:<strength>"), as $LOCKSTEP_CHAOS. */
  chaos?: string;
  /** Record: ms between checkpoints, as $LOCKSTEP_CHECKPOINT_MS (unset: the inherited variable, else the default). */
  checkpointMs?: string;
  /** Record: false turns off patching of Math.random, Date, performance.now and crypto. */
  patch?: boolean;
  /** Replay: stop (ERR_UNTIL_REACHED) when this thread reaches this event. */
  until?: { thread: number; index: number };
  /** Replay: run even if the program's entry file differs from the recorded one. */
  allowProgramChange?: boolean;
  /** A node inspector flag (`--inspect`, `--inspect=127.0.0.1:9229`) to debug the run. */
  inspect?: string;
  /** Let lockstep errors print their stack in the child, as Node normally does. */
  verbose: boolean;
  /** Keep the program's output to the outcome (stdoutTail) instead of forwarding it (hunt runs many). */
  quiet?: boolean;
  /** Kill the program (SIGKILL) after this long: a hunt must not wait forever on a hung run. */
  timeoutMs?: number;
  /** More variables for the child, set after the CLI's own ($LOCKSTEP_REPLICATION, say). */
  env?: Record<string, string>;
  status?: StatusLine;
  /** Called with the program's process id once it is started (primary/backup print it). */
  onSpawn?: (pid: number) => void;
  /** Where the program's stdout goes (default: the CLI's stdout; --json sends it to stderr). */
  stdout?: NodeJS.WritableStream;
}

export type FailureSource = 'result' | 'hook' | 'stderr' | 'exit';

export interface ProgramOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The engine's result, if it wrote one. */
  result: RunResultFile | null;
  /** quiet runs: the end of the program's stdout. */
  stdoutTail?: string;
  /** The run was killed after timeoutMs. */
  timedOut?: boolean;
  /** Why the run failed; null if it did not (exit 0 and no failure reported anywhere). */
  failure: { code: string; message: string; name?: string; stack?: string; source: FailureSource } | null;
}

interface HookReport {
  code: string;
  name: string;
  message: string;
  stack?: string;
}

/** Kept from the child's stderr for the fallback parse: enough for a Node error dump. */
const STDERR_TAIL_BYTES = 64 << 10;

/** Variables that steer start(); inherited values must not leak into a run the CLI describes. */
const STEERING = [
  'LOCKSTEP_MODE', 'LOCKSTEP_LOG', 'LOCKSTEP_SEED', 'LOCKSTEP_PROGRAM', 'LOCKSTEP_ALLOW_PROGRAM_CHANGE',
  'LOCKSTEP_UNTIL', 'LOCKSTEP_PATCH', 'LOCKSTEP_RESULT_FILE', 'LOCKSTEP_CLI_FAILURE_FILE', 'LOCKSTEP_CLI_QUIET',
  'LOCKSTEP_PROGRESS_FILE', 'LOCKSTEP_REPLICATION', 'LOCKSTEP_CHAOS', 'LOCKSTEP_DEADLOCK',
];

/** Resolves and checks the program's entry file; a missing one is a usage error. */
export function programPath(given: string, hint: string): string {
  const path = resolve(given);
  if (!existsSync(path)) throw usageError(`program ${path} does not exist${hint}`);
  if (!statSync(path).isFile()) throw usageError(`program ${path} is not a file${hint}`);
  return path;
}

export function isTypeScript(path: string): boolean {
  return /\.[cm]?tsx?$/.test(path);
}

/** tsx's loader, resolved from lockstep's install (tsx is an optional peer dependency). */
function tsxLoader(program: string): string {
  try {
    return import.meta.resolve('tsx');
  } catch (e) {
    throw tsxMissing(program, e);
  }
}

export async function runProgram(run: ProgramRun): Promise<ProgramOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
  const resultFile = join(dir, 'result.json');
  const failureFile = join(dir, 'failure.json');
  try {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of STEERING) delete env[name];
    if (run.mode === 'record' || run.mode === 'replay') env.LOCKSTEP_MODE = run.mode;
    env.LOCKSTEP_LOG = resolve(run.log);
    env.LOCKSTEP_RESULT_FILE = resultFile;
    env.LOCKSTEP_CLI_FAILURE_FILE = failureFile;
    if (!run.verbose) env.LOCKSTEP_CLI_QUIET = '1';
    if (run.seed !== undefined) env.LOCKSTEP_SEED = run.seed;
    if (run.patch === false) env.LOCKSTEP_PATCH = '0';
    if (run.chaos !== undefined && run.mode === 'record') env.LOCKSTEP_CHAOS = run.chaos;
    if (run.checkpointMs !== undefined && run.mode === 'record') env.LOCKSTEP_CHECKPOINT_MS = run.checkpointMs;
    if (run.until) env.LOCKSTEP_UNTIL = `${run.until.thread}:${run.until.index}`;
    if (run.allowProgramChange) env.LOCKSTEP_ALLOW_PROGRAM_CHANGE = '1';
    if (run.status?.enabled && run.mode === 'replay') {
      env.LOCKSTEP_PROGRESS_FILE = join(dir, 'progress.json');
      run.status.progressFile = env.LOCKSTEP_PROGRESS_FILE;
    }
    Object.assign(env, run.env);

    const nodeArgs: string[] = [];
    if (run.inspect) nodeArgs.push(run.inspect);
    nodeArgs.push('--import', new URL('./child_hook.js', import.meta.url).href);
    // tsx is resolved from the CLI's own install, so a program need not depend on it.
    // Its disk cache stays off: it calls Date.now from a setImmediate, at a moment that depends on
    // timing, which inside a recorded thread would take a recorded value (workers/entry.ts).
    if (isTypeScript(run.program)) {
      nodeArgs.push('--import', tsxLoader(run.program));
      env.TSX_DISABLE_CACHE ??= '1';
    }

    const child = spawn(process.execPath, [...nodeArgs, run.program, ...run.args], { env, stdio: ['inherit', 'pipe', 'pipe'] });
    if (child.pid !== undefined) run.onSpawn?.(child.pid);
    const status = run.status;
    let tail = Buffer.alloc(0);
    const out = run.stdout ?? process.stdout;
    let outTail = Buffer.alloc(0);
    let timedOut = false;
    const timer = run.timeoutMs === undefined ? null : setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, run.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      if (run.quiet) {
        outTail = Buffer.concat([outTail, chunk]);
        if (outTail.length > STDERR_TAIL_BYTES) outTail = outTail.subarray(outTail.length - STDERR_TAIL_BYTES);
        return;
      }
      // The status line (on stderr, the same terminal) is cleared first and redrawn after.
      if (status) status.beside(() => out.write(chunk), chunk[chunk.length - 1] === 0x0a);
      else out.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (run.quiet) {
        // kept below for the failure parse only
      } else if (status) status.write(chunk);
      else process.stderr.write(chunk);
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > STDERR_TAIL_BYTES) tail = tail.subarray(tail.length - STDERR_TAIL_BYTES);
    });

    // Ctrl-C reaches the child through the terminal's process group: the CLI waits for it to
    // stop and then reports, rather than dying first and leaving the child's output unexplained.
    // A SIGTERM aimed at the CLI alone is passed on. A replicated node usually runs under a
    // supervisor, not at a terminal, so its SIGINT is passed on too, unless stdin is a terminal:
    // there Ctrl-C has already reached the child, and a second SIGINT would cut short a program
    // that shuts down gracefully on the first.
    const forwardInt = (run.mode === 'primary' || run.mode === 'backup') && !process.stdin.isTTY;
    const onInt = (): void => {
      if (forwardInt) child.kill('SIGINT');
    };
    const onTerm = (): void => {
      child.kill('SIGTERM');
    };
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    status?.start();
    const { exitCode, signal } = await new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>((done, fail) => {
      child.on('error', fail);
      child.on('close', (code, sig) => done({ exitCode: code, signal: sig }));
    }).finally(() => {
      if (timer) clearTimeout(timer);
      status?.stop();
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    });

    const result = readJson<RunResultFile>(resultFile);
    const hook = readJson<HookReport>(failureFile);
    const failure = timedOut
      ? { code: 'ERR_TIMEOUT' satisfies CliCode, message: `the program did not finish within ${run.timeoutMs} ms (a hang?) and was killed`, source: 'exit' as const }
      : failureOf(exitCode, signal, result, hook, tail.toString('utf8'));
    return { exitCode, signal, result, failure, timedOut, ...(run.quiet ? { stdoutTail: outTail.toString('utf8') } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function failureOf(
  exitCode: number | null,
  signal: NodeJS.Signals | null,
  result: RunResultFile | null,
  hook: HookReport | null,
  stderr: string,
): ProgramOutcome['failure'] {
  if (result && !result.ok) {
    // For the program's own error the hook also knows the error's class name.
    if (result.code === 'ERR_PROGRAM' && hook) return { ...hook, source: 'hook' };
    return { code: result.code ?? 'ERR_PROGRAM', message: result.message ?? 'the run failed', stack: hook?.stack, source: 'result' };
  }
  // A lockstep error the hook saw is more precise than a generic one in the result file.
  if (hook && (hook.code !== 'ERR_PROGRAM' || exitCode !== 0)) return { ...hook, source: 'hook' };
  if (exitCode === 0 && signal === null) return null;
  const parsed = parseStderr(stderr);
  if (parsed) return { ...parsed, source: 'stderr' };
  if (signal) return { code: 'ERR_PROGRAM', message: `the program was killed by ${signal}`, source: 'exit' };
  // Node exits 13 when the entry module's top-level await can never settle: the program was
  // waiting for something (a task, a thread) that will not come, and nothing else was left to run.
  const why = exitCode === 13 ? ': its top-level await never settled (it was still waiting for something when the run stopped)' : '';
  return { code: 'ERR_PROGRAM', message: `the program exited with code ${exitCode}${why}`, source: 'exit' };
}

/**
 * Finds a lockstep error in a Node error dump or a console.error(e) print:
 *   DivergenceError: replay diverged in thread 2 …
 *       at …
 *     code: 'ERR_DIVERGENCE',
 * The last such code wins: it is the error that ended the run.
 */
export function parseStderr(text: string): { code: string; message: string } | null {
  // Node's own errors print `code: 'ERR_…'` too (ERR_MODULE_NOT_FOUND): only a code that
  // follows a lockstep error's name line counts.
  const names = [...text.matchAll(/^(?:Uncaught )?(?:LockstepError|DivergenceError): (.*)$/gm)];
  const last = names.at(-1);
  if (!last) return null;
  const code = /\bcode: '(ERR_[A-Z_]+)'/.exec(text.slice(last.index))?.[1];
  return code ? { code, message: last[1]! } : null;
}

function readJson<T>(path: string): T | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    // A half-written file (the child was killed mid-write) says nothing reliable.
    return null;
  }
}
