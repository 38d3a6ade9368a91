// What a run holds per process: the process itself (the patched globals, the result file and the
// exit handler are per process, so a second run while one is going would record into the first
// one's threads), the result file a harness reads the run's outcome from, and the modules only
// record, replay and replication need (run_parts.ts), loaded once a run needs them: a program in
// mode off never loads the log writer, the drain's life, the replay pump or the replication layer.

import { writeFileSync } from 'node:fs';
import { LockstepError, usage } from '../engine/errors.js';
import { envValue } from './options.js';
import type * as RunParts from './run_parts.js';
import type { Session } from './session.js';

let running: Session | 'starting' | null = null;

/** Claims the process for a run about to start, or refuses (ERR_USAGE) while one holds it. */
export function claimProcess(): void {
  if (running !== null) {
    throw usage('a lockstep session is already running in this process: call finish() on it (or let it fail) before start() again');
  }
  running = 'starting';
}

/** The run that claimed the process has started (`session`) or failed to (null). */
export function settleProcess(session: Session | null): void {
  running = session;
}

/** The run is over (finished or failed): another may start. */
export function releaseProcess(session: Session): void {
  if (running === session) running = null;
}

// Where a CLI or harness wants the run's outcome as JSON ($LOCKSTEP_RESULT_FILE): written by
// finish(), by start() when it refuses to start, or on an uncaught error. Once per process.

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

let parts: typeof RunParts | null = null;

export async function loadParts(): Promise<typeof RunParts> {
  parts ??= await import('./run_parts.js');
  return parts;
}

/** Whether an earlier run in this process loaded them (the next start() uses them whatever its mode). */
export function partsIfLoaded(): typeof RunParts | null {
  return parts;
}

/** The loaded parts, on a path that only runs outside mode off (after loadParts()). */
export function loadedParts(): typeof RunParts {
  return parts!;
}
