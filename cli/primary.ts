// `lockstep primary --node a --listen 7401 --arbiter 7400 --secret-file secret [--] <program> [args…]`:
// runs the program as the live node of a primary/backup pair. It claims the next epoch from the
// arbiter, records its log as `lockstep record` does, and streams the log to the backup that
// connects to --listen (replication/replica.ts).

import { Command } from 'commander';
import { address, nodeOptions, positiveInt, runNode, SECRET_HELP, securityOptions, TLS_HELP, type NodeFlags } from './replicated.js';

interface PrimaryFlags extends NodeFlags {
  listen: string;
  waitBackupMs?: string;
}

export function primaryCommand(): Command {
  return securityOptions(new Command('primary')
    .description('run a program as the live primary of a replicated pair, streaming its log to a backup')
    .argument('<program>', 'the program\'s entry file (.js, .mjs, .cjs, or .ts through tsx)')
    .argument('[args...]', 'arguments for the program (put -- before them if they start with -)')
    .requiredOption('--node <name>', 'this node\'s name, as the arbiter records owners')
    .requiredOption('--listen <host:port|port>', 'where the backup connects for the log channel (port 0: any free port, printed)')
    .requiredOption('--arbiter <host:port|port>', 'the arbiter that grants epochs: a lockstep arbiter\'s host:port, or an etcd cluster as etcd://host:port[,host:port…][/prefix]')
    .option('--secret <s>', 'the cluster\'s shared secret (prefer --secret-file)')
    .option('--secret-file <path>', 'a file holding the cluster\'s shared secret (else $LOCKSTEP_SECRET)')
    .option('--log <file>', 'where to write the log (default: lockstep-<node>.log here)')
    .option('--heartbeat-ms <n>', 'heartbeat interval on the log channel (default: 50)')
    .option('--timeout-ms <n>', 'a backup silent this long is lost (default: 300)')
    .option('--arbiter-ms <n>', 'how long a claim of an epoch keeps asking the arbiter when no answer comes (default: 5000)')
    .option('--lag-bytes <n>', 'threads wait while the backup lags by more than this many unacknowledged log bytes (default: 4 MiB)')
    .option('--wait-backup-ms <n>', 'how long to wait at start for the first backup before running alone (default: 5000)')
    .option('--verbose', 'print stacks and details with errors'))
    .passThroughOptions()
    .addHelpText('after', `
The program runs unchanged: lockstep's start() reads the node's role from the environment and
claims the next epoch from the arbiter; an unreachable arbiter or a lost claim stops it
(fail-stop). Options after <program> are the program's own.
${SECRET_HELP}
${TLS_HELP}

Example:
  lockstep primary --node a --listen 7401 --arbiter 7400 --secret-file secret -- dist/examples/bank/main.js`)
    .action(async (program: string, args: string[], flags: PrimaryFlags) => {
      const repl = nodeOptions('primary', flags);
      repl.listen = address('--listen', flags.listen, true);
      if (flags.waitBackupMs !== undefined) repl.waitBackupMs = positiveInt('--wait-backup-ms', flags.waitBackupMs);
      process.exitCode = await runNode(program, args, repl, flags.log, flags.verbose === true);
    });
}
