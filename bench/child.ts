// Runs one benchmark child process and measures it from outside: wall time (process.hrtime
// around spawn and exit), and, through /usr/bin/time where the machine has it, peak resident
// memory (the whole process, all its threads) and CPU time. Children are separate processes so
// that modes never share a JIT's type feedback or a heap.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const TIME = '/usr/bin/time';
export const hasTime = existsSync(TIME);

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  wallNs: number;
  stdout: string;
  stderr: string;
  /** Peak resident set size in KiB (GNU time's %M), when measured. */
  maxRssKiB?: number;
  userS?: number;
  sysS?: number;
}

export interface ChildOptions {
  env?: Record<string, string>;
  /** A file to give the child as stdin (default: none). */
  stdin?: string;
  /** Where /usr/bin/time may write its figures (a scratch folder). */
  scratch: string;
  /** Keep at most this many bytes of stdout (the tail); a chatty child (jobserver) prints a lot. */
  stdoutBytesMax?: number;
  /** Options for node before the script (--cpu-prof is not allowed in NODE_OPTIONS). */
  nodeArgs?: string[];
}

let sequence = 0;

export function runChild(script: string, args: string[], options: ChildOptions): Promise<ChildRun> {
  const timeFile = join(options.scratch, `time-${process.pid}-${sequence++}.txt`);
  const node = [...process.execArgv.filter((a) => !a.startsWith('--cpu-prof')), ...(options.nodeArgs ?? []), script, ...args];
  const [cmd, argv] = hasTime ? [TIME, ['-f', '%M %U %S', '-o', timeFile, process.execPath, ...node]] : [process.execPath, node];
  const stdinFd = options.stdin ? openSync(options.stdin, 'r') : null;
  const keep = options.stdoutBytesMax ?? 1 << 20;
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, argv, {
      env: { ...process.env, ...options.env },
      stdio: [stdinFd ?? 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (stdout.length > 2 * keep) stdout = stdout.slice(-keep);
    });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr = (stderr + s).slice(-(64 << 10));
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallNs = Number(process.hrtime.bigint() - started);
      if (stdinFd !== null) closeSync(stdinFd);
      const run: ChildRun = { code, signal, wallNs, stdout: stdout.slice(-keep), stderr };
      if (hasTime && existsSync(timeFile)) {
        // GNU time writes "Command exited with non-zero status N" first when the child failed.
        const line = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!;
        const [rss, user, sys] = line.split(/\s+/).map(Number);
        if (Number.isFinite(rss)) Object.assign(run, { maxRssKiB: rss, userS: user, sysS: sys });
        rmSync(timeFile, { force: true });
      }
      resolve(run);
    });
  });
}

/** The last line of a child's stdout that parses as a JSON object. */
export function lastJson<T>(stdout: string): T | null {
  const lines = stdout.trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (!l.startsWith('{')) continue;
    try {
      return JSON.parse(l) as T;
    } catch {
      continue;
    }
  }
  return null;
}

/** Throws with the child's stderr when it did not exit 0. */
export function check(run: ChildRun, what: string): void {
  if (run.code === 0) return;
  throw new Error(`${what} exited with ${run.code ?? run.signal}:\n${run.stderr.slice(-4000)}`);
}
