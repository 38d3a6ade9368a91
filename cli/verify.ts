// `lockstep verify <run.lsl>`: replays the log and checks that the replay is the recording: the
// engine's own checks (every event in order, the end digest) must pass, and the result the
// replay reports must equal the log's trailer field by field. Exit 0 only if all of it holds.
// This is rr's compare_test as a command: the check a CI job or a backup runs on a log.

import { Command } from 'commander';
import { Kind, kindOf } from '../engine/event.js';
import type { Log } from '../replayer/log_reader.js';
import { noResult, resultMismatch } from './errors.js';
import { ExitCode } from './exit_codes.js';
import { table } from './format.js';
import { printJson } from './json_outcome.js';
import { openLog } from './log_file.js';
import { failureError } from './outcome.js';
import { replayProgram, type ReplayOptions } from './replay.js';

export function verifyCommand(): Command {
  return new Command('verify')
    .description('replay a log and check that the replay is identical to the recording')
    .argument('<log>', 'the log written by lockstep record')
    .argument('[args...]', 'program arguments to use instead of the recorded ones (after --)')
    .option('--program <path>', 'the program to run instead of the recorded path (e.g. after moving it)')
    .option('--allow-program-change', 'replay even though the program\'s entry file changed since recording')
    .option('--verbose', 'print stacks and details with errors')
    .option('--json', 'print the outcome as one JSON object on stdout (the program\'s stdout goes to stderr)')
    .addHelpText('after', `
Compared: the final digest of all registered shared memory and of every output (recorded,
replayed, and the log's trailer), the thread count and the event count. The replay itself fails
on the first event that differs from the log, an output with another value included.

Exit codes: 0 identical, 1 diverged or different, 2 usage error, 3 the log is unreadable or
corrupt, 4 the program failed.`)
    .action(async (logPath: string, args: string[], options: ReplayOptions) => {
      process.exitCode = await verify(logPath, args, options);
    });
}

async function verify(logPath: string, args: string[], options: ReplayOptions): Promise<number> {
  const log = openLog(logPath);
  const outcome = await replayProgram(log, args, options);
  if (outcome.failure) throw failureError(outcome, `verify of ${logPath}`);
  const r = outcome.result;
  if (!r) throw noResult(`verify of ${logPath}`);

  const rows: [string, string, string][] = [
    ['digest', log.trailer.digest, r.digest ?? '(none)'],
    ['recorded digest seen by the replay', log.trailer.digest, r.recordedDigest ?? '(none)'],
    ['threads', String(log.trailer.threadCount), String(r.threads ?? '(none)')],
    ['events', String(log.trailer.eventCount), String(r.events ?? '(none)')],
  ];
  const differing = rows.filter(([, a, b]) => a !== b);
  const table_ = [['', 'recording', 'replay', ''], ...rows.map(([k, a, b]) => [k, a, b, a === b ? 'same' : 'DIFFERENT'])];
  // Each output is an event the replay checked value for value, and every thread's chain of
  // output digests is folded into the run digest compared above; the engine reports no separate
  // output count, so this row says where the check happened rather than repeating a number.
  const outputs = countOutputs(log);
  if (outputs > 0) table_.push(['outputs', String(outputs), 'each checked', 'in digest']);
  const report = table(table_);
  if (differing.length > 0) {
    if (!options.json) process.stdout.write(`verify ${log.path}: the replay differs from the recording\n${report}\n`);
    throw resultMismatch(
      `verify of ${logPath}: the replay differs from the recording in ${differing.map(([k]) => k).join(', ')}`,
      Object.fromEntries(differing.map(([k, a, b]) => [k, { recording: a, replay: b }])),
    );
  }
  if (options.json) {
    printJson({
      command: 'verify', ok: true, log: log.path, identical: true, outputs,
      compared: Object.fromEntries(rows.map(([k, a, b]) => [k, { recording: a, replay: b, same: a === b }])),
    });
    return ExitCode.Ok;
  }
  process.stdout.write(`verified ${log.path}: the replay is identical to the recording\n${report}\n`);
  return ExitCode.Ok;
}

function countOutputs(log: Log): number {
  let n = 0;
  for (const s of log.streams) for (let p = 0; p < s.events.length; p += 2) if (kindOf(s.events[p]!) === Kind.Output) n++;
  return n;
}
