// Every error a lockstep command reports is made here: a CliError with a stable `code` (the
// engine's code when the engine raised it, or one of the CLI's own), the exit code it maps to,
// and a one-line message that says what happened and what to do. main.ts prints the message;
// --verbose adds the stack and details.

import { LockstepError } from '../engine/errors.js';
import { ExitCode, exitCodeFor, type ExitCodeValue } from './exit_codes.js';

export type CliCode =
  | 'ERR_USAGE'
  | 'ERR_LOG_UNREADABLE'
  | 'ERR_LOG_INCONSISTENT'
  | 'ERR_PROGRAM_FAILED'
  | 'ERR_NO_RESULT'
  | 'ERR_RESULT_MISMATCH'
  | 'ERR_OUTPUT'
  | 'ERR_TIMEOUT'
  | 'ERR_INTERNAL';

export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly details: Record<string, unknown>;
  constructor(code: string, message: string, details: Record<string, unknown> = {}, exitCode: ExitCodeValue = exitCodeFor(code)) {
    super(oneLine(message));
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
    this.details = details;
  }
}

/** Messages are printed as one line: engine messages and child output may hold newlines. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

export function usageError(message: string): CliError {
  return new CliError('ERR_USAGE', message, {}, ExitCode.Usage);
}

/** The log file could not be read at all (missing, a directory, no permission). */
export function logUnreadable(path: string, why: string): CliError {
  return new CliError('ERR_LOG_UNREADABLE', `cannot read log ${path}: ${why}`, { path }, ExitCode.BadLog);
}

/** The log's frames are intact but its events contradict each other (a version no thread takes). */
export function logInconsistent(path: string, why: string): CliError {
  return new CliError(
    'ERR_LOG_INCONSISTENT',
    `log ${path} is inconsistent: ${why}. It was not written by a working lockstep recorder; record the program again.`,
    { path, why },
    ExitCode.BadLog,
  );
}

/** The program exited non-zero, was killed, or threw something that is not a lockstep error. */
export function programFailed(message: string, details: Record<string, unknown> = {}): CliError {
  return new CliError('ERR_PROGRAM_FAILED', message, details, ExitCode.ProgramFailed);
}

/** The program exited without reporting a result: it never reached session.finish(). */
export function noResult(what: string): CliError {
  return new CliError(
    'ERR_NO_RESULT',
    `${what}: the program exited without finishing its lockstep session (it must await session.finish()), so nothing was checked`,
    {},
    ExitCode.ProgramFailed,
  );
}

export function resultMismatch(message: string, details: Record<string, unknown>): CliError {
  return new CliError('ERR_RESULT_MISMATCH', message, details, ExitCode.Different);
}

/** A file the command was asked to write could not be written. */
export function outputFailed(path: string, why: string): CliError {
  return new CliError('ERR_OUTPUT', `cannot write ${path}: ${why}`, { path }, ExitCode.Usage);
}

/**
 * Turns anything thrown inside a command into a CliError. Engine errors keep their code; the
 * engine's ERR_USAGE from readLog means the log file could not be read, which is a log problem.
 */
export function toCliError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  if (e instanceof LockstepError) {
    if (e.code === 'ERR_USAGE' && typeof e.details.path === 'string') {
      return withStack(new CliError('ERR_LOG_UNREADABLE', e.message, e.details, ExitCode.BadLog), e);
    }
    return withStack(new CliError(e.code, e.message, e.details), e);
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return withStack(new CliError('ERR_INTERNAL', `internal error: ${err.message} (please report it with --verbose output)`, {}, ExitCode.Internal), err);
}

function withStack(to: CliError, from: Error): CliError {
  if (from.stack) to.stack = from.stack;
  return to;
}
