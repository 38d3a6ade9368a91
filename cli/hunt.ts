// `lockstep hunt [--runs N] [--time S] [--jobs J] -- <program> [args…]`: records the program
// again and again under chaos (engine/chaos.ts) with a fresh seed each run until it fails, keeps
// the failing logs, and prints the one-line command that replays the first one, with a summary
// (runs, failures, distinct failure signatures). A failure is anything that fails a recording
// (a non-zero exit, an uncaught error or failed assertion, ERR_DEADLOCK, a hang past
// --timeout) or a user predicate on the program's JSON result (the last JSON line it prints).
//
// The loop (huntLoop) takes the function that runs one recording, so bench/chaos.ts drives the
// same loop and a test can drive it without processes.

import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { usageError } from './errors.js';
import { ExitCode } from './exit_codes.js';
import { fields } from './format.js';
import { chaosSetting, isSeed } from './record.js';
import { programPath, runProgram, type ProgramOutcome } from './run_program.js';

/** Failing logs kept beyond the first of each signature. */
const KEPT_LOGS_MAX = 20;
const RUNS_DEFAULT = 100;
const TIMEOUT_MS_DEFAULT = 60_000;

export interface HuntConfig {
  runs: number;
  /** Stop starting runs after this many seconds (null: no limit). */
  timeS: number | null;
  jobs: number;
  /** Run i records with seed firstSeed + i (the chaos seed and the run's seed). */
  firstSeed: bigint;
  /** Go on after the first failure, to count failures and signatures over all runs. */
  all: boolean;
}

/** What one recording did: failed or not, why (a signature), and where its log is. */
export interface RunVerdict {
  failed: boolean;
  /** The failure, normalised so that the same bug in two runs reads the same (numbers → #). */
  signature: string | null;
  message: string | null;
}

export interface HuntRun extends RunVerdict {
  run: number;
  seed: bigint;
  /** ms since the hunt started, when this run ended. */
  atMs: number;
}

export interface HuntReport {
  runs: number;
  failures: number;
  /** Per signature: how often it was seen and the first run (and seed) that showed it. */
  signatures: Map<string, { count: number; first: HuntRun }>;
  first: HuntRun | null;
  elapsedMs: number;
}

/**
 * Runs `one(run, seed)` up to config.runs times, `jobs` at a time, until a failure (or, with
 * `all`, the budget) ends the hunt. Deterministic in which seeds it tries: run i gets seed
 * firstSeed + i, whatever the jobs' timing.
 */
export async function huntLoop(config: HuntConfig, one: (run: number, seed: bigint) => Promise<RunVerdict>,
  onRun: (r: HuntRun) => void = () => {}): Promise<HuntReport> {
  const started = performance.now();
  const report: HuntReport = { runs: 0, failures: 0, signatures: new Map(), first: null, elapsedMs: 0 };
  let next = 0;
  const stop = (): boolean => next >= config.runs || (report.first !== null && !config.all) ||
    (config.timeS !== null && performance.now() - started >= config.timeS * 1000);
  const worker = async (): Promise<void> => {
    while (!stop()) {
      const run = next++;
      const seed = config.firstSeed + BigInt(run);
      const verdict = await one(run, seed);
      const r: HuntRun = { ...verdict, run, seed, atMs: performance.now() - started };
      report.runs++;
      if (r.failed) {
        report.failures++;
        // With several jobs a later run can fail first: the earliest run number is the one reported.
        if (report.first === null || r.run < report.first.run) report.first = r;
        const sig = report.signatures.get(r.signature!);
        if (sig) {
          sig.count++;
          if (r.run < sig.first.run) sig.first = r;
        } else report.signatures.set(r.signature!, { count: 1, first: r });
      }
      onRun(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, config.jobs) }, worker));
  report.elapsedMs = performance.now() - started;
  return report;
}

/** A failure message with its run-specific parts (numbers, paths, seeds) blurred, to group runs by bug. */
export function signatureOf(code: string, message: string): string {
  const text = message
    .replace(/(?:\/[\w.@+-]+)+/g, '<path>')
    .replace(/0x[0-9a-f]+/gi, '#')
    .replace(/\d+(\.\d+)?/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
  return `${code}: ${text}`.slice(0, 300);
}

/** The last line of `stdout` that parses as JSON, or undefined. */
export function lastJson(stdout: string): unknown {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{') || l.startsWith('['));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i]!);
    } catch {
      // not JSON after all: try the line before
    }
  }
  return undefined;
}

/** A run's verdict from how it ended and the user's predicate (`r` is the program's JSON result). */
export function verdictOf(outcome: ProgramOutcome, failIf: ((r: unknown) => boolean) | null): RunVerdict {
  if (outcome.failure) {
    return { failed: true, signature: signatureOf(outcome.failure.code, outcome.failure.message), message: `${outcome.failure.code}: ${outcome.failure.message}` };
  }
  if (failIf) {
    const r = lastJson(outcome.stdoutTail ?? '');
    let hit = false;
    try {
      hit = r !== undefined && failIf(r) === true;
    } catch {
      hit = false; // a predicate that throws on this result does not call it a failure
    }
    if (hit) return { failed: true, signature: `fail-if: ${signatureOf('', JSON.stringify(r)).slice(2)}`, message: `--fail-if held for ${JSON.stringify(r)}` };
  }
  return { failed: false, signature: null, message: null };
}

export function compileFailIf(expr: string | undefined): ((r: unknown) => boolean) | null {
  if (expr === undefined) return null;
  try {
    return new Function('r', `"use strict"; return (${expr});`) as (r: unknown) => boolean;
  } catch (e) {
    throw usageError(`--fail-if is not a JavaScript expression: ${(e as Error).message}`);
  }
}

export interface RecordOnce {
  program: string;
  args: string[];
  /** null: a plain recording (no chaos), for comparison. */
  chaos: string | null;
  timeoutMs: number;
  failIf: ((r: unknown) => boolean) | null;
}

/** One recording into `log`, judged. */
export async function recordOnce(spec: RecordOnce, seed: bigint, log: string): Promise<RunVerdict> {
  const outcome = await runProgram({
    mode: 'record', program: spec.program, args: spec.args, log, seed: seed.toString(),
    chaos: spec.chaos === null ? undefined : spec.chaos === 'on' ? seed.toString() : spec.chaos.replace(/^on/, seed.toString()),
    verbose: false, quiet: true, timeoutMs: spec.timeoutMs,
  });
  return verdictOf(outcome, spec.failIf);
}

interface HuntOptions {
  runs: string;
  time?: string;
  jobs: string;
  keep: string;
  seed?: string;
  chaosStrength?: string;
  failIf?: string;
  all?: boolean;
  timeout: string;
  plain?: boolean;
  verbose?: boolean;
}

export function huntCommand(): Command {
  return new Command('hunt')
    .description('record a program again and again under chaos until it fails; keep the failing logs')
    .argument('<program>', 'the program\'s entry file (.js, .mjs, .cjs, or .ts through tsx)')
    .argument('[args...]', 'arguments for the program (put -- before the program)')
    .option('--runs <n>', 'the most recordings to make', String(RUNS_DEFAULT))
    .option('--time <s>', 'stop starting recordings after this many seconds')
    .option('--jobs <j>', 'recordings to run at once', '1')
    .option('--keep <dir>', 'where to keep failing logs', 'lockstep-hunt')
    .option('--seed <n>', 'the first run\'s seed (run i uses seed + i; default: random)')
    .option('--chaos-strength <x>', 'how hard chaos perturbs, in (0, 1] (default 0.5)')
    .option('--fail-if <expr>', 'also a failure: this JavaScript expression holds for the program\'s JSON result r (its last JSON line)')
    .option('--all', 'go on after the first failure, to count failures and distinct signatures')
    .option('--timeout <ms>', 'a recording running longer than this is killed and counts as a failure (a hang)', String(TIMEOUT_MS_DEFAULT))
    .option('--plain', 'record without chaos (to compare)')
    .option('--verbose', 'print every run')
    .passThroughOptions()
    .addHelpText('after', `
Exit codes: 0 no failure in the budget, 1 a failure was found (its log is kept), 2 usage error.

Example:
  lockstep hunt --runs 200 --jobs 2 -- dist/examples/bugs/check_then_act.js`)
    .action(async (program: string, args: string[], options: HuntOptions) => {
      process.exitCode = await hunt(program, args, options);
    });
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw usageError(`${flag} must be a positive integer, got "${text}"`);
  return n;
}

async function hunt(given: string, args: string[], options: HuntOptions): Promise<number> {
  const program = programPath(given, '');
  const runs = positiveInt(options.runs, '--runs');
  const jobs = positiveInt(options.jobs, '--jobs');
  const timeoutMs = positiveInt(options.timeout, '--timeout');
  const timeS = options.time === undefined ? null : Number(options.time);
  if (timeS !== null && !(timeS > 0)) throw usageError(`--time must be a positive number of seconds, got "${options.time}"`);
  if (options.seed !== undefined && !isSeed(options.seed)) throw usageError(`--seed must be an integer from 0 to 2^64-1, got "${options.seed}"`);
  const chaos = options.plain ? null : chaosSetting(true, options.chaosStrength)!;
  const failIf = compileFailIf(options.failIf);
  const firstSeed = options.seed !== undefined ? BigInt(options.seed) : BigInt(Math.floor(Math.random() * 2 ** 40));
  const keep = resolve(options.keep);
  mkdirSync(keep, { recursive: true });
  const stem = basename(program, extname(program));
  const spec: RecordOnce = { program, args, chaos, timeoutMs, failIf };
  const kept: string[] = [];
  const keptSignatures = new Set<string>();
  const logOf = (seed: bigint): string => join(keep, `${stem}-${seed}.lsl`);

  process.stderr.write(`hunting ${given}: up to ${runs} ${chaos ? 'chaos' : 'plain'} recordings${timeS !== null ? ` or ${timeS} s` : ''}, ${jobs} at a time, seeds from ${firstSeed}\n`);
  const report = await huntLoop({ runs, timeS, jobs, firstSeed, all: options.all === true }, async (_run, seed) => {
    const tmp = join(keep, `.${stem}-${seed}.partial.lsl`);
    const verdict = await recordOnce(spec, seed, tmp);
    // Keep every failing log up to a cap, and beyond it only the first of each new signature.
    const keepIt = verdict.failed && existsSync(tmp) && (kept.length < KEPT_LOGS_MAX || !keptSignatures.has(verdict.signature!));
    if (keepIt) {
      renameSync(tmp, logOf(seed));
      kept.push(logOf(seed));
      keptSignatures.add(verdict.signature!);
    } else rmSync(tmp, { force: true });
    return verdict;
  }, (r) => {
    if (options.verbose || r.failed) process.stderr.write(`run ${r.run + 1} (seed ${r.seed}): ${r.failed ? `FAILED ${r.message}` : 'ok'}\n`);
  });

  const rows: [string, string | number][] = [
    ['runs', report.runs],
    ['failures', report.failures],
    ['signatures', report.signatures.size],
    ['time', `${(report.elapsedMs / 1000).toFixed(1)} s`],
  ];
  if (report.first) rows.push(['first failure', `run ${report.first.run + 1} (seed ${report.first.seed}) after ${(report.first.atMs / 1000).toFixed(1)} s`]);
  let text = `${report.first ? 'found a failure' : 'no failure found'} in ${given}\n${fields(rows)}\n`;
  for (const [sig, s] of report.signatures) text += `  ${s.count}× ${sig}\n     log: ${existsSync(logOf(s.first.seed)) ? logOf(s.first.seed) : '(not kept)'}\n`;
  if (report.first && existsSync(logOf(report.first.seed))) text += `replay it:\n  lockstep replay ${logOf(report.first.seed)}\n`;
  process.stdout.write(text);
  return report.first ? ExitCode.Different : ExitCode.Ok;
}
