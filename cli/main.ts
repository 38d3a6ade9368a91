#!/usr/bin/env node
// The `lockstep` command: parses the command line with commander and dispatches to one file per
// command. Every failure ends here as one line on stderr and a documented exit code
// (exit_codes.ts); --verbose adds the stack and details.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { arbiterCommand } from './arbiter.js';
import { backupCommand } from './backup.js';
import { diffCommand } from './diff.js';
import { oneLine, toCliError } from './errors.js';
import { ExitCode } from './exit_codes.js';
import { huntCommand } from './hunt.js';
import { inspectCommand } from './inspect.js';
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

export async function main(argv: string[]): Promise<number> {
  const program = new Command('lockstep')
    .description('record and replay multi-threaded Node.js programs deterministically')
    .version(version(), '-V, --version')
    .enablePositionalOptions()
    .exitOverride()
    .addHelpText('after', EXIT_CODES_HELP);
  let verbose = false;
  let current = 'lockstep';
  for (const command of [recordCommand(), huntCommand(), replayCommand(), verifyCommand(), inspectCommand(), diffCommand(), timelineCommand(), arbiterCommand(), primaryCommand(), backupCommand()]) {
    command
      .copyInheritedSettings(program)
      // Commander's own messages ("error: unknown option '--x'") become one line naming the command.
      .configureOutput({ outputError: (text, write) => write(`lockstep ${command.name()}: ${oneLine(text.replace(/^error: /, ''))}\n`) })
      .hook('preAction', (_, action) => {
        verbose = action.opts().verbose === true;
        current = `lockstep ${action.name()}`;
      });
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
    if (verbose) {
      process.stderr.write(`code: ${err.code}\n`);
      if (Object.keys(err.details).length > 0) process.stderr.write(`details: ${JSON.stringify(err.details)}\n`);
      if (err.stack) process.stderr.write(`${err.stack}\n`);
    }
    return err.exitCode;
  }
}

process.exitCode = await main(process.argv);
