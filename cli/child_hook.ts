// Loaded into the program's process by run_program.ts (`node --import …/child_hook.js program`),
// before the program's own modules. It tells the CLI why a run died, and keeps a lockstep
// error's stack dump off the terminal so that the CLI's one-line message is the report.
//
// The engine's $LOCKSTEP_RESULT_FILE is the primary channel (finish(), start() and the engine's
// own uncaught-error monitor write it). This hook covers what that file cannot: a run whose
// program dies of its own error (not a lockstep one), and an engine without that file. It uses
// 'uncaughtExceptionMonitor', which observes a fatal error without changing whether it is fatal:
// the program's own 'uncaughtException' handlers, if any, still decide. Only when nothing else
// would catch a lockstep error, and the CLI is not --verbose, does it add a handler that exits
// with the same code Node would (1) but without the dump. Worker threads inherit --import; the
// engine reports their failures through the main thread, so the hook does nothing there.

import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const failureFile = process.env.LOCKSTEP_CLI_FAILURE_FILE;
const quiet = process.env.LOCKSTEP_CLI_QUIET === '1';
let reported = false;

/** Engine errors are recognised by shape: importing the engine here would load a second copy. */
function lockstepCode(e: unknown): string | null {
  if (!(e instanceof Error)) return null;
  const code = (e as { code?: unknown }).code;
  const ours = e.name === 'LockstepError' || e.name === 'DivergenceError';
  return ours && typeof code === 'string' && /^ERR_[A-Z_]+$/.test(code) ? code : null;
}

if (isMainThread && failureFile) {
  process.on('uncaughtExceptionMonitor', (e: unknown) => {
    if (reported) return;
    reported = true;
    const code = lockstepCode(e);
    const error = e instanceof Error ? e : new Error(String(e));
    try {
      writeFileSync(failureFile, JSON.stringify({ code: code ?? 'ERR_PROGRAM', name: error.name, message: error.message, stack: error.stack ?? '' }));
    } catch {
      // The CLI falls back to the exit status and stderr; a failed report must not mask the error.
    }
    if (code && quiet && process.listenerCount('uncaughtException') === 0) {
      process.once('uncaughtException', () => process.exit(1));
    }
  });
}
