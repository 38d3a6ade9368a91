// `lockstep arbiter --state arbiter.json --secret-file secret [--port N] [--host H]`: runs the
// test-and-set service that decides which node may go live for each epoch (replication/arbiter.ts).
// It runs until it is stopped (SIGINT/SIGTERM); its state survives restarts.

import { resolve } from 'node:path';
import { Command } from 'commander';
import { Arbiter } from '../replication/arbiter.js';
import { usageError } from './errors.js';
import { readSecretFile, securityOptions, tlsOf } from './replicated.js';

function nonNegativeInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw usageError(`--port must be a port number, got "${text}"`);
  return n;
}

interface ArbiterCommandOptions {
  state: string;
  secretFile?: string;
  port: number;
  host: string;
  verbose?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  insecure?: boolean;
}

export function arbiterCommand(): Command {
  return securityOptions(new Command('arbiter')
    .description('run the test-and-set arbiter that decides which node goes live for each epoch')
    .requiredOption('--state <file>', 'where (epoch, owner) is kept, fsynced before every reply')
    .option('--secret-file <file>', 'the cluster\'s shared secret (else $LOCKSTEP_SECRET)')
    .option('--port <n>', 'TCP port to listen on (0: any free port, printed)', nonNegativeInt, 7400)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--verbose', 'print stacks and details with errors'))
    .action(async (options: ArbiterCommandOptions) => {
      const secret = options.secretFile ? readSecretFile(options.secretFile) : process.env.LOCKSTEP_SECRET;
      if (!secret) throw usageError('the arbiter needs the cluster secret: --secret-file <file> or $LOCKSTEP_SECRET');
      const arbiter = await Arbiter.start({ stateFile: resolve(options.state), secret, port: options.port, host: options.host, ...tlsOf(options, secret) });
      await new Promise<void>((done) => {
        const stop = (): void => {
          arbiter.close().then(done, done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
