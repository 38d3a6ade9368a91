// `lockstep certs --out <dir> [--nodes a,b,arbiter] [--days 30]`: makes a test CA and one
// certificate per node for mutual TLS between replicated nodes and the arbiter (--tls-cert,
// --tls-key, --tls-ca). It drives the system's `openssl` (no hand-written X.509): EC P-256 keys,
// certificates good for both server and client use, signed by a CA made for this cluster only.
// For a walkthrough or a test: a production cluster takes its certificates from its own PKI.

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { usageError } from './errors.js';
import { LockstepError } from '../engine/errors.js';

const NODE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const NODES_MAX = 64;
const DAYS_MAX = 3650;

interface CertsFlags {
  out: string;
  nodes: string;
  days: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = r.error ? (r.error as NodeJS.ErrnoException).code ?? r.error.message : r.stderr.trim().split('\n').pop();
    throw new LockstepError('ERR_TLS', `openssl ${args[0]} failed (${why}); lockstep certs needs the openssl command on PATH`, { args });
  }
}

/** Writes ca.pem/ca.key and <node>.pem/<node>.key under `out`; returns the files written. */
export function makeCerts(out: string, nodes: string[], days: number): string[] {
  mkdirSync(out, { recursive: true });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', '-new', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', String(days), '-subj', '/CN=lockstep cluster CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], out);
  const files = ['ca.pem', 'ca.key'];
  for (const n of nodes) {
    openssl(['req', '-new', ...key, '-keyout', `${n}.key`, '-out', `${n}.csr`, '-subj', `/CN=${n}`], out);
    const ext = join(out, `${n}.ext`);
    writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:${n}\n`);
    openssl(['x509', '-req', '-in', `${n}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${n}.pem`, '-days', String(days), '-extfile', `${n}.ext`], out);
    rmSync(ext);
    rmSync(join(out, `${n}.csr`));
    files.push(`${n}.pem`, `${n}.key`);
  }
  rmSync(join(out, 'ca.srl'), { force: true });
  for (const f of files) if (f.endsWith('.key')) chmodSync(join(out, f), 0o600);
  return files.map((f) => join(out, f));
}

export function certsCommand(): Command {
  return new Command('certs')
    .description('make a test CA and node certificates for mutual TLS (--tls-cert, --tls-key, --tls-ca), with openssl')
    .requiredOption('--out <dir>', 'folder to write ca.pem, ca.key and <node>.pem, <node>.key into')
    .option('--nodes <names>', 'comma-separated node names, one certificate each', 'primary,backup,arbiter')
    .option('--days <n>', 'validity in days', '30')
    .addHelpText('after', `
Hosts are not checked against certificates: a certificate signed by the cluster's CA is what makes
a peer a member, so keep ca.key off the nodes. Example:
  lockstep certs --out certs --nodes a,b,arbiter
  lockstep primary --node a ... --tls-cert certs/a.pem --tls-key certs/a.key --tls-ca certs/ca.pem`)
    .action((flags: CertsFlags) => {
      const nodes = flags.nodes.split(',').map((n) => n.trim()).filter((n) => n.length > 0);
      if (nodes.length === 0 || nodes.length > NODES_MAX) throw usageError(`--nodes needs 1 to ${NODES_MAX} names`);
      for (const n of nodes) if (!NODE_NAME.test(n) || n === 'ca') throw usageError(`--nodes: "${n}" is not a usable node name`);
      const days = /^\d+$/.test(flags.days) ? Number(flags.days) : NaN;
      if (!(days >= 1 && days <= DAYS_MAX)) throw usageError(`--days must be 1 to ${DAYS_MAX}, got "${flags.days}"`);
      const out = resolve(flags.out);
      if (existsSync(join(out, 'ca.key'))) throw usageError(`${out} already holds a CA (ca.key); choose another --out or remove it`);
      for (const f of makeCerts(out, nodes, days)) process.stdout.write(`${f}\n`);
    });
}
