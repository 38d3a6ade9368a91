// Turns how a program run ended (run_program.ts) into the CLI's error for it. Shared by record,
// replay and verify so that the same failure gets the same exit code and wording everywhere.

import { CliError, programFailed } from './errors.js';
import { ExitCode } from './exit_codes.js';
import type { ProgramOutcome } from './run_program.js';

/** The error for a failed run; `what` says which run ("recording main.js", "replay of run.lsl"). */
export function failureError(outcome: ProgramOutcome, what: string): CliError {
  const f = outcome.failure!;
  let e: CliError;
  if (f.code === 'ERR_PROGRAM') {
    const why = f.source === 'exit' ? f.message : `the program threw ${f.name ?? 'an error'}: ${f.message}`;
    e = programFailed(`${what} failed: ${why}`, { exitCode: outcome.exitCode, signal: outcome.signal });
  } else if (f.code === 'ERR_USAGE') {
    // Inside the program, ERR_USAGE is the program misusing the lockstep API: its own failure.
    e = new CliError('ERR_USAGE', `${what} failed: ${f.message}`, {}, ExitCode.ProgramFailed);
  } else {
    e = new CliError(f.code, `${what} failed: ${f.message}`, { ...(f.source === 'result' ? outcome.result?.details : {}), source: f.source });
  }
  if (f.stack) e.stack = f.stack;
  return e;
}
