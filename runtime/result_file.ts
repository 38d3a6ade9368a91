// Where a CLI or harness wants the run's outcome as JSON ($LOCKSTEP_RESULT_FILE): written by
// finish(), by start() when it refuses to start, or on an uncaught error. Once per process.

import { writeFileSync } from 'node:fs';
import { LockstepError } from '../engine/errors.js';
import { envValue } from './options.js';

let resultWritten = false;

export function writeResultFile(result: Record<string, unknown>): void {
  const path = envValue('LOCKSTEP_RESULT_FILE');
  if (path && !resultWritten) writeFileSync(path, JSON.stringify(result) + '\n');
  resultWritten = true;
}

/** A run that dies without reaching finish() (an uncaught divergence, say) still reports why. */
export function reportUncaught(): void {
  if (!envValue('LOCKSTEP_RESULT_FILE')) return;
  process.on('uncaughtExceptionMonitor', (e) => writeResultFile(failureOf(e)));
}

export function failureOf(e: unknown): Record<string, unknown> {
  if (e instanceof LockstepError) return { ok: false, code: e.code, message: e.message, details: e.details };
  return { ok: false, code: 'ERR_PROGRAM', message: e instanceof Error ? e.message : String(e) };
}
