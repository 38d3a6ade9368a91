// `lockstep replay <run.lsl> [--until <thread>:<event>]`: runs the recorded program again in
// replay mode, forcing the recorded interleaving and values. The program and its arguments come
// from the log's header; --program and arguments after `--` override them. With --until the run
// stops (fail-stop, after a `debugger` statement) when that thread reaches that event, which is
// where a debugger attached with --inspect finds the program's state exactly as recorded.

import { Command } from 'commander';
import type { Log } from '../replayer/log_reader.js';
import { noResult, usageError } from './errors.js';
import { ExitCode } from './exit_codes.js';
import { num, shortDigest } from './format.js';
import { openLog } from './log_file.js';
import { printJson } from './json_outcome.js';
import { failureError } from './outcome.js';
import { StatusLine } from './progress.js';
import { inspectFlag } from './record.js';
import { programPath, runProgram, type ProgramOutcome } from './run_program.js';

export interface ReplayOptions {
  program?: string;
  allowProgramChange?: boolean;
  inspect?: string | true;
  verbose?: boolean;
  json?: boolean;
}

interface ReplayCommandOptions extends ReplayOptions {
  until?: string;
}

export function replayCommand(): Command {
  return new Command('replay')
    .description('replay a recorded run: same interleaving, same values, same result')
    .argument('<log>', 'the log written by lockstep record')
    .argument('[args...]', 'program arguments to use instead of the recorded ones (after --)')
    .option('--until <thread:event>', 'stop when <thread> reaches its event number <event> (e.g. 2:150)')
    .option('--program <path>', 'the program to run instead of the recorded path (e.g. after moving it)')
    .option('--allow-program-change', 'replay even though the program\'s entry file changed since recording')
    .option('--inspect [host:port]', 'run under the Node inspector; a debugger stops at the --until point')
    .option('--verbose', 'print stacks and details with errors')
    .option('--json', 'print the outcome as one JSON object on stdout (the program\'s stdout goes to stderr)')
    .addHelpText('after', `
Exit codes: 0 the replay matched the recording (or stopped at --until), 1 it diverged or its
digest differs, 2 usage error, 3 the log is unreadable or corrupt, 4 the program failed.

Example:
  lockstep replay bank.lsl --until 2:150 --inspect`)
    .action(async (logPath: string, args: string[], options: ReplayCommandOptions) => {
      process.exitCode = await replay(logPath, args, options);
    });
}

async function replay(logPath: string, args: string[], options: ReplayCommandOptions): Promise<number> {
  const log = openLog(logPath);
  const until = options.until === undefined ? undefined : parseUntil(options.until, log);
  const outcome = await replayProgram(log, args, options, until);
  if (until && outcome.failure?.code === 'ERR_UNTIL_REACHED') {
    const next = outcome.result?.details?.next;
    if (options.json) {
      printJson({ command: 'replay', ok: true, log: log.path, stoppedAt: until, next: typeof next === 'string' ? next : null });
      return ExitCode.Ok;
    }
    process.stdout.write(`stopped at thread ${until.thread}, event ${until.index}${typeof next === 'string' ? ` (before ${next})` : ''}, as asked\n`);
    return ExitCode.Ok;
  }
  if (outcome.failure) throw failureError(outcome, `replay of ${logPath}`);
  if (!outcome.result) throw noResult(`replay of ${logPath}`);
  const r = outcome.result;
  if (options.json) {
    printJson({
      command: 'replay', ok: true, log: log.path, threads: r.threads ?? log.trailer.threadCount, events: log.trailer.eventCount,
      digest: r.digest ?? null, matches: true, ...(until ? { stoppedAt: null } : {}),
      ...(r.checkpoints ? { checkpoints: r.checkpoints } : {}),
    });
    return ExitCode.Ok;
  }
  process.stdout.write(
    `replayed ${log.path}: ${num(r.threads ?? log.trailer.threadCount)} threads, ${num(log.trailer.eventCount)} events, ` +
      `digest ${shortDigest(r.digest ?? '')} matches the recording\n`,
  );
  if (until) process.stdout.write(`note: the run ended before thread ${until.thread} reached event ${until.index}\n`);
  const c = r.checkpoints;
  if (c?.compared) {
    // The digest matched, but memory can still have differed for a while (a race that healed).
    process.stdout.write(c.matched === c.compared ? `checkpoints: ${num(c.compared)} compared, all matched\n`
      : `note: ${num(c.compared - (c.matched ?? 0))} of ${num(c.compared)} checkpoints differed from the recording, though the end matches\n`);
  }
  return ExitCode.Ok;
}

/** Runs the log's program in replay mode; shared with verify. */
export async function replayProgram(log: Log, args: string[], options: ReplayOptions, until?: { thread: number; index: number }): Promise<ProgramOutcome> {
  const hint = options.program === undefined ? `; the log was recorded from it; pass --program <path> if it moved` : '';
  const program = programPath(options.program ?? log.header.programPath, hint);
  const status = new StatusLine(process.stderr, `replaying ${log.path} (${num(log.trailer.eventCount)} events, ${log.trailer.threadCount} threads)`);
  return await runProgram({
    mode: 'replay',
    program,
    args: args.length > 0 ? args : log.header.args,
    log: log.path,
    until,
    allowProgramChange: options.allowProgramChange === true,
    inspect: inspectFlag(options.inspect),
    verbose: options.verbose === true,
    status,
    stdout: options.json ? process.stderr : undefined,
  });
}

/** "2:150" → thread 2, event 150, checked against the log so a typo fails before the run. */
function parseUntil(text: string, log: Log): { thread: number; index: number } {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw usageError(`--until must look like <thread>:<event>, e.g. 2:150; got "${text}"`);
  const thread = Number(m[1]);
  const index = Number(m[2]);
  const stream = log.streams.find((s) => s.thread === thread);
  if (!stream) throw usageError(`--until ${text}: the log has no thread ${thread} (threads 0 to ${log.trailer.threadCount - 1})`);
  const events = stream.events.length / 2;
  if (index >= events) throw usageError(`--until ${text}: thread ${thread} has ${events} events (0 to ${events - 1})`);
  return { thread, index };
}
