// `lockstep backup --node b --connect 7401 --arbiter 7400 --secret-file secret [--] <program> [args…]`:
// runs the program as the backup of a primary/backup pair. It follows the primary's log as it
// arrives (or, with --join, starts from a state transfer), and when the primary is lost and the
// arbiter grants it the next epoch it takes over: its threads go live, it writes its own log
// (<log>.epoch<N>) and, with --listen, serves it to a new backup.

import { Command } from 'commander';
import { address, nodeOptions, positiveInt, runNode, SECRET_HELP, securityOptions, TLS_HELP, type NodeFlags } from './replicated.js';

interface BackupFlags extends NodeFlags {
  connect: string;
  listen?: string;
  join?: boolean;
  connectMs?: string;
}

export function backupCommand(): Command {
  return securityOptions(new Command('backup')
    .description('run a program as the backup of a replicated pair, ready to take over from the primary')
    .argument('<program>', 'the program\'s entry file: the same program the primary runs')
    .argument('[args...]', 'arguments for the program (put -- before them if they start with -)')
    .requiredOption('--node <name>', 'this node\'s name, as the arbiter records owners')
    .requiredOption('--connect <host:port|port>', 'the primary\'s log channel (its --listen)')
    .option('--listen <host:port|port>', 'where to listen for a joining backup after taking over')
    .requiredOption('--arbiter <host:port|port>', 'the arbiter that grants epochs: a lockstep arbiter\'s host:port, or an etcd cluster as etcd://host:port[,host:port…][/prefix]')
    .option('--secret <s>', 'the cluster\'s shared secret (prefer --secret-file)')
    .option('--secret-file <path>', 'a file holding the cluster\'s shared secret (else $LOCKSTEP_SECRET)')
    .option('--join', 'join a running primary by state transfer instead of following its log from the start')
    .option('--log <file>', 'where to write the log received; after cutover <file>.epoch<N> is its own log (default: lockstep-<node>.log here)')
    .option('--heartbeat-ms <n>', 'heartbeat interval on the log channel (default: 50)')
    .option('--timeout-ms <n>', 'a primary silent this long is lost, and this node asks the arbiter to take over (default: 300)')
    .option('--arbiter-ms <n>', 'how long a claim of an epoch keeps asking the arbiter when no answer comes (default: 5000)')
    .option('--lag-bytes <n>', 'after taking over: threads wait while its own backup lags by more than this many log bytes (default: 4 MiB)')
    .option('--connect-ms <n>', 'how long to keep trying to reach the primary at start (default: 10000)')
    .option('--verbose', 'print stacks and details with errors'))
    .passThroughOptions()
    .addHelpText('after', `
The program runs unchanged and must be the same file the primary runs. A backup that loses the
arbiter's flag to another node stops (ERR_NOT_LIVE); start it again with --join to restore
redundancy. Options after <program> are the program's own.
${SECRET_HELP}
${TLS_HELP}

Example:
  lockstep backup --node b --connect 7401 --listen 7402 --arbiter 7400 --secret-file secret -- dist/examples/bank/main.js`)
    .action(async (program: string, args: string[], flags: BackupFlags) => {
      const repl = nodeOptions('backup', flags);
      repl.connect = address('--connect', flags.connect);
      if (flags.listen !== undefined) repl.listen = address('--listen', flags.listen, true);
      if (flags.join === true) repl.join = true;
      if (flags.connectMs !== undefined) repl.connectMs = positiveInt('--connect-ms', flags.connectMs);
      process.exitCode = await runNode(program, args, repl, flags.log, flags.verbose === true);
    });
}
