// The exit codes every lockstep command uses, and the one place that maps an engine error code
// to them. Scripts rely on these numbers (`lockstep verify run.lsl || page-someone`), so they are
// part of the CLI's contract: change them only with a major version.

export const ExitCode = {
  /** The command did what was asked (for `diff`: the recordings are the same). */
  Ok: 0,
  /** Replay left the recorded path (divergence), ended with another digest, or `diff` found a difference. */
  Different: 1,
  /** The command line is wrong: unknown flag, missing argument, a program that does not exist. */
  Usage: 2,
  /** The log cannot be used: missing, unreadable, not a lockstep log, corrupt, truncated, other version. */
  BadLog: 3,
  /** The program itself failed: it threw, exited non-zero, was killed, or never finished its session. */
  ProgramFailed: 4,
  /** A bug in lockstep itself (EX_SOFTWARE): outside the documented range so scripts can tell it apart. */
  Internal: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The exit code for a failure with `code` (an engine LockstepError code or one of the CLI's own).
 * A replay stall counts as a difference: the log and the program disagree about an ordering.
 * A wrong-program refusal is a usage error: the user asked for the wrong program (or wants
 * --allow-program-change).
 */
export function exitCodeFor(code: string): ExitCodeValue {
  switch (code) {
    case 'ERR_DIVERGENCE':
    case 'ERR_DIGEST_MISMATCH':
    case 'ERR_REPLAY_STALL':
    case 'ERR_RESULT_MISMATCH':
    case 'ERR_DIFFERENT':
      return ExitCode.Different;
    case 'ERR_USAGE':
    case 'ERR_WRONG_PROGRAM':
    case 'ERR_TSX_MISSING':
    case 'ERR_LOG_EXISTS':
    case 'ERR_LOG_UNWRITABLE':
      return ExitCode.Usage;
    case 'ERR_LOG_CORRUPT':
    case 'ERR_LOG_TRUNCATED':
    case 'ERR_LOG_VERSION':
    case 'ERR_NOT_A_LOG':
    case 'ERR_LOG_UNREADABLE':
    case 'ERR_LOG_INCONSISTENT':
      return ExitCode.BadLog;
    // A replicated node that stops is a failed run, never a usage error: the same command can
    // succeed once the peer or the arbiter is back (and ERR_NOT_LIVE is fail-stop working).
    case 'ERR_NOT_LIVE':
    case 'ERR_PEER_REFUSED':
    case 'ERR_PEER_LOST':
    case 'ERR_CHANNEL_CORRUPT':
    case 'ERR_ARBITER_UNREACHABLE':
      return ExitCode.ProgramFailed;
    default:
      return ExitCode.ProgramFailed;
  }
}
