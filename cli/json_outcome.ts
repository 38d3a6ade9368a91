// `--json` for the commands that run a program (record, replay, verify): the outcome as one JSON
// object on stdout, for scripts, like inspect's and diff's reports. With --json the program's
// own stdout goes to stderr, so stdout holds that object and nothing else; a failure is an object
// too ({ ok: false, code, exitCode, message, details }), printed by main.ts, with the same exit
// code as without --json.

import type { Log } from '../replayer/log_reader.js';
import type { CliError } from './errors.js';

export interface JsonOption {
  json?: boolean;
}

export function printJson(outcome: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
}

/** What a log holds, as record reports it (the text summary's fields). */
export function logJson(log: Log): Record<string, unknown> {
  return {
    log: log.path,
    program: log.header.programPath,
    args: log.header.args,
    seed: log.header.seed.toString(),
    threads: log.trailer.threadCount,
    events: log.trailer.eventCount,
    bytes: log.bytes,
    digest: log.trailer.cutOff ? null : log.trailer.digest,
    cutOff: log.trailer.cutOff,
  };
}

export function errorJson(command: string, e: CliError): Record<string, unknown> {
  return { command, ok: false, code: e.code, exitCode: e.exitCode, message: e.message, details: e.details };
}
