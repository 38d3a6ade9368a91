#!/usr/bin/env node
// The `lockstep` command: parses the command line with commander and dispatches to one file per
// command. Every failure ends here as one line on stderr and a documented exit code
// (exit_codes.ts); --verbose adds the stack and details.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { arbiterCommand } from './arbiter.js';
import { backupCommand } from './backup.js';
import { certsCommand } from './certs.js';
import { diffCommand } from './diff.js';
import { oneLine, toCliError } from './errors.js';
import { ExitCode } from './exit_codes.js';
import { huntCommand } from './hunt.js';
import { inspectCommand } from './inspect.js';
import { errorJson, printJson } from './json_outcome.js';
import { primaryCommand } from './primary.js';
import { recordCommand } from './record.js';
import { replayCommand } from './replay.js';
import { timelineCommand } from './timeline.js';
import { verifyCommand } from './verify.js';

const EXIT_CODES_HELP = `
Exit codes:
  0  success (diff: the recordings are the same)
  1  replay diverged, digests differ, or (diff) the recordings differ
  2  usage error: unknown flag, missing argument, no such program
  3  the log is missing, unreadable, not a lockstep log, corrupt, truncated or of another version
  4  the program itself failed (threw, exited non-zero, was killed, or never finished its session),
     or a replicated node stopped (not live, peer refused or lost, channel corrupt, arbiter unreachable)
  70 a bug in lockstep itself`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Commander checks required options before unknown ones, and with passThroughOptions an unknown
 * flag ends option parsing: `primary --connect 1 --arbiter 1 prog` then passes `--arbiter 1` to
 * the program and reports --arbiter (or --listen) missing instead of naming --connect. So
 * required options are checked here, in a preAction hook, which runs after the unknown check.
 */
function checkRequiredAfterUnknown(command: Command): void {
  const required = command.options.filter((o) => o.mandatory);
  if (required.length === 0) return;
  for (const o of required) o.mandatory = false;
  command.hook('preAction', (_, action) => {
    if (action !== command) return;
    for (const o of required) {
      if (command.getOptionValue(o.attributeName()) === undefined) {
        command.error(`error: required option '${o.flags}' not specified`, { exitCode: ExitCode.Usage, code: 'commander.missingMandatoryOptionValue' });
      }
    }
  });
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('lockstep')
    .description('record and replay multi-threaded Node.js programs deterministically')
    .version(version(), '-V, --version')
    .enablePositionalOptions()
    .exitOverride()
    .addHelpText('after', EXIT_CODES_HELP);
  let verbose = false;
  let json = false;
  let current = 'lockstep';
  for (const command of [recordCommand(), huntCommand(), replayCommand(), verifyCommand(), inspectCommand(), diffCommand(), timelineCommand(), arbiterCommand(), primaryCommand(), backupCommand(), certsCommand()]) {
    command
      .copyInheritedSettings(program)
      // Commander's own messages ("error: unknown option '--x'") become one line naming the command.
      .configureOutput({ outputError: (text, write) => write(`lockstep ${command.name()}: ${oneLine(text.replace(/^error: /, ''))}\n`) })
      .hook('preAction', (_, action) => {
        verbose = action.opts().verbose === true;
        json = action.opts().json === true;
        current = `lockstep ${action.name()}`;
      });
    checkRequiredAfterUnknown(command);
    program.addCommand(command);
  }
  program.configureOutput({ outputError: (text, write) => write(`lockstep: ${oneLine(text.replace(/^error: /, ''))}\n`) });

  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    const err = toCliError(e);
    process.stderr.write(`${current}: ${err.message}\n`);
    if (json) printJson(errorJson(current.replace(/^lockstep /, ''), err));
    if (verbose) {
      process.stderr.write(`code: ${err.code}\n`);
      if (Object.keys(err.details).length > 0) process.stderr.write(`details: ${JSON.stringify(err.details)}\n`);
      if (err.stack) process.stderr.write(`${err.stack}\n`);
    }
    return err.exitCode;
  }
}

quietOnClosedPipes();
process.exitCode = await main(process.argv);

/**
 * `lockstep … | head` closes stdout early. Node then reports EPIPE as an uncaught error with a
 * stack; a command-line tool just stops writing. Output after that point is dropped, and the
 * command finishes (a recording still completes its log) with its usual exit code.
 */
function quietOnClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
}
