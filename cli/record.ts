// `lockstep record [-o run.lsl] [--seed N] [--] <program> [args…]`: runs the program in record
// mode and reports where the log went and what it holds. The summary is read back from the log
// itself, not from the program's output, so it works for any program and proves the log is
// complete and readable.

import { accessSync, closeSync, constants, existsSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { MAGIC } from '../engine/log/format.js';
import { basename, dirname, extname, resolve } from 'node:path';
import { Command } from 'commander';
import { readLog, type Log } from '../replayer/log_reader.js';
import { CliError, outputFailed, programFailed, toCliError, usageError } from './errors.js';
import { ExitCode } from './exit_codes.js';
import { bytes, fields, num } from './format.js';
import { logJson, printJson } from './json_outcome.js';
import { failureError } from './outcome.js';
import { programPath, runProgram } from './run_program.js';

/** How many default names (`main-0.lsl`, `main-1.lsl`…) are tried before giving up. */
const DEFAULT_NAMES_MAX = 10_000;

interface RecordOptions {
  output?: string;
  seed?: string;
  patch: boolean;
  inspect?: string | true;
  verbose?: boolean;
  chaos?: string | true;
  chaosStrength?: string;
  checkpointMs?: string;
  json?: boolean;
}

export function recordCommand(): Command {
  return new Command('record')
    .description('run a program in record mode and write its log')
    .argument('<program>', 'the program\'s entry file (.js, .mjs, .cjs, or .ts through tsx)')
    .argument('[args...]', 'arguments for the program (put -- before them if they start with -)')
    .option('-o, --output <file>', 'where to write the log (default: <program>-<n>.lsl here, never overwriting)')
    .option('--seed <n>', 'the run\'s seed, an integer from 0 to 2^64-1 (default: random)')
    .option('--chaos [seed]', 'chaos recording: perturb the interleaving at every sync point to make rare schedules common (seed: default the run\'s seed)')
    .option('--chaos-strength <x>', 'how hard chaos perturbs, in (0, 1] (default 0.5)')
    .option('--checkpoint-ms <ms>', 'ms between checkpoints, so a replay\'s digest mismatch names the events after which memory diverged (0: none; default 1000)')
    .option('--no-patch', 'do not patch Math.random, Date, performance.now and crypto in recorded threads')
    .option('--inspect [host:port]', 'run the program under the Node inspector')
    .option('--verbose', 'print stacks and details with errors')
    .option('--json', 'print the outcome as one JSON object on stdout (the program\'s stdout goes to stderr)')
    .passThroughOptions()
    .addHelpText('after', `
The program runs unchanged: lockstep's start() picks up record mode from the environment, and
session.finish() seals the log. Options after <program> are the program's own.

Example:
  lockstep record -o bank.lsl --seed 7 -- dist/examples/bank/main.js`)
    .action(async (program: string, args: string[], options: RecordOptions, command: Command) => {
      // `--chaos main.js` gives the program to --chaos as its optional seed: take it back. A value
      // written with `=` (`--chaos=abc`) was meant as the seed, so chaosSetting reports it instead.
      const rawArgs = (command.parent as { rawArgs?: string[] } | null)?.rawArgs ?? process.argv;
      if (typeof options.chaos === 'string' && !isSeed(options.chaos) && !rawArgs.includes(`--chaos=${options.chaos}`)) {
        args = [program, ...args];
        program = options.chaos;
        options.chaos = true;
      }
      process.exitCode = await record(program, args, options);
    });
}

async function record(given: string, args: string[], options: RecordOptions): Promise<number> {
  const program = programPath(given, '');
  if (options.seed !== undefined && !isSeed(options.seed)) {
    throw usageError(`--seed must be an integer from 0 to 2^64-1, got "${options.seed}"`);
  }
  const chaos = chaosSetting(options.chaos, options.chaosStrength);
  if (options.checkpointMs !== undefined && !/^\d{1,10}$/.test(options.checkpointMs)) {
    throw usageError(`--checkpoint-ms must be a whole number of milliseconds (0: no checkpoints), got "${options.checkpointMs}"`);
  }
  const log = resolve(options.output ?? defaultLogName(program));
  checkWritable(log);

  const outcome = await runProgram({
    mode: 'record',
    program,
    args,
    log,
    seed: options.seed,
    chaos,
    checkpointMs: options.checkpointMs,
    patch: options.patch,
    inspect: inspectFlag(options.inspect),
    verbose: options.verbose === true,
    stdout: options.json ? process.stderr : undefined,
  });

  let written: Log | null = null;
  let unreadable: Error | null = null;
  if (existsSync(log)) {
    try {
      written = readLog(log);
    } catch (e) {
      unreadable = toCliError(e);
    }
  }
  // A program that fails after session.finish() still leaves a complete log: show it, because
  // recording a failing run is the point of recording.
  if (written && !options.json) process.stdout.write(summary(written));
  if (outcome.failure) {
    const e = failureError(outcome, `recording ${given}`);
    if (written?.trailer.cutOff) e.message += ` (the log ${log} holds the run up to the failure and can be replayed)`;
    else if (written) e.message += ` (the log ${log} is complete and can be replayed)`;
    else if (unreadable) e.message += ` (the log ${log} is incomplete: the program did not reach session.finish())`;
    throw e;
  }
  if (!written) {
    if (unreadable) throw programFailed(`recording ${given}: the program exited without finishing its lockstep session (${unreadable.message})`);
    throw programFailed(`recording ${given}: no log was written; does the program call lockstep's start()?`);
  }
  if (outcome.result?.ok && outcome.result.digest && outcome.result.digest !== written.trailer.digest) {
    throw toCliError(new Error(`the program reported digest ${outcome.result.digest} but its log ends with ${written.trailer.digest}`));
  }
  if (options.json) printJson({ command: 'record', ok: true, ...logJson(written) });
  return ExitCode.Ok;
}

function summary(log: Log): string {
  const args = log.header.args.length > 0 ? ` ${log.header.args.map((a) => JSON.stringify(a)).join(' ')}` : '';
  return `recorded ${log.path}\n${fields([
    ['program', `${log.header.programPath}${args}`],
    ['seed', log.header.seed.toString()],
    ...chaosLine(log),
    ['threads', log.trailer.threadCount],
    ['events', log.trailer.eventCount],
    ['bytes', `${num(log.bytes)} (${bytes(log.bytes)})`],
    ['digest', log.trailer.cutOff ? '(none: the run was cut off by the program\'s failure)' : log.trailer.digest],
  ])}\n`;
}

function chaosLine(log: Log): [string, string][] {
  const chaos = (JSON.parse(log.header.options) as { chaos?: { seed: string; strength: number } }).chaos;
  return chaos ? [['chaos', `seed ${chaos.seed}, strength ${chaos.strength}`]] : [];
}

/** `main-0.lsl`, `main-1.lsl`, … in the current directory: the first name not taken. */
function defaultLogName(program: string): string {
  const stem = basename(program, extname(program));
  for (let n = 0; n < DEFAULT_NAMES_MAX; n++) {
    const name = `${stem}-${n}.lsl`;
    if (!existsSync(name)) return name;
  }
  throw usageError(`${stem}-0.lsl … ${stem}-${DEFAULT_NAMES_MAX - 1}.lsl all exist here; pass -o <file>`);
}

/** --chaos[=seed] and --chaos-strength as $LOCKSTEP_CHAOS says them ("on", "<seed>", "<seed>:<strength>"). */
export function chaosSetting(chaos: string | true | undefined, strength: string | undefined): string | undefined {
  if (chaos === undefined) {
    if (strength !== undefined) throw usageError('--chaos-strength needs --chaos');
    return undefined;
  }
  if (chaos !== true && !isSeed(chaos)) throw usageError(`--chaos takes a seed, an integer from 0 to 2^64-1, got "${chaos}"`);
  if (strength !== undefined && !(Number(strength) > 0 && Number(strength) <= 1)) {
    throw usageError(`--chaos-strength must be a number in (0, 1], got "${strength}"`);
  }
  return `${chaos === true ? 'on' : chaos}${strength !== undefined ? `:${Number(strength)}` : ''}`;
}

export function isSeed(text: string): boolean {
  return /^\d+$/.test(text) && BigInt(text) < 1n << 64n;
}

/** `--inspect` alone, or `--inspect=host:port`, as node takes it. */
export function inspectFlag(given: string | true | undefined): string | undefined {
  if (given === undefined) return undefined;
  return given === true ? '--inspect' : `--inspect=${given}`;
}

/** The log's folder must exist and be writable: the program would otherwise fail at start(). */
function checkWritable(log: string): void {
  if (existsSync(log) && statSync(log).isDirectory()) throw outputFailed(log, 'it is a directory');
  if (existsSync(log) && !isLockstepLogOrEmpty(log)) throw outputFailed(log, 'it exists and is not a lockstep log, and recording would overwrite it; choose another file');
  const folder = dirname(log);
  try {
    if (!statSync(folder).isDirectory()) throw outputFailed(log, `${folder} is not a folder`);
    accessSync(folder, constants.W_OK);
    // access() says yes to root for any folder, even on a read-only file system: open the file
    // for appending (which changes nothing in an existing file), and remove it if it is new.
    const existed = existsSync(log);
    closeSync(openSync(log, 'a'));
    if (!existed) rmSync(log, { force: true });
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const folderThere = existsSync(folder);
    throw outputFailed(log, !folderThere ? `the folder ${folder} does not exist` : code === 'ENOTDIR' ? `${folder} is not a folder` : `it cannot be created or written there (${code ?? (e as Error).message})`);
  }
}

/** Only an empty file or an earlier lockstep log may be overwritten by a recording. */
function isLockstepLogOrEmpty(path: string): boolean {
  let head: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      head = Buffer.alloc(MAGIC.length);
      head = head.subarray(0, readSync(fd, head, 0, head.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return true; // unreadable: the engine's own check and the open for writing report it
  }
  return head.length === 0 || Buffer.from(MAGIC).equals(head);
}
