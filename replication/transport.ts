// How replication traffic crosses the network: the one place that chooses between TLS with
// certificates, TLS with a pre-shared key, and plaintext. The log channel (sender.ts,
// receiver.ts) and the built-in arbiter (arbiter.ts) only call listen() and dial() here
// and get a stream back; the wire format and the HMAC handshake (wire.ts) run on top unchanged,
// so every frame, ack and heartbeat is encrypted and integrity-protected, not only the handshake.
//
// - certs: mutual TLS 1.3. Each node presents its certificate and accepts only peers whose
//   certificate chains to the cluster's CA (--tls-ca). The CA is the cluster's own, so any
//   certificate it signed is a cluster member: host names are not checked, which lets a node be
//   reached by any of its addresses (`lockstep certs` makes such a CA).
// - psk: TLS 1.2 with ECDHE-PSK (forward secrecy) and a key derived from the cluster secret with
//   HKDF, used when no certificates are given. A peer without the secret fails the handshake.
// - plain: no TLS; only when asked for explicitly (--insecure), for tests that inspect frames.
//
// Handshake failures never crash a serving node: the listener hands the refusal to its caller,
// which logs it as it logs its own; a dialling side sees an error that tlsRefusal() classifies.

import { hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as netConnect, createServer as netServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as tlsServer, type TLSSocket } from 'node:tls';
import { LockstepError, tlsError } from '../engine/errors.js';
import { Doorman, preAuthDefaults, type Admission, type PreAuthLimits } from './preauth.js';

/** Certificate, key and CA: each a PEM file's path, or the PEM text itself. */
export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

/** What a node knows that decides its transport. */
export interface SecurityOptions {
  secret: string;
  tls?: TlsFiles;
  /** Plaintext: only when asked for in so many words. */
  insecure?: boolean;
}

export type Transport =
  | { kind: 'plain' }
  | { kind: 'psk'; key: Buffer }
  | { kind: 'certs'; cert: Buffer; key: Buffer; ca: Buffer };

/** The PSK's identity hint and HKDF labels: changing them is a protocol change. */
const PSK_HINT = 'lockstep';
const PSK_INFO = 'lockstep tls-psk v1';
const PSK_KEY_BYTES = 32;
/** AEAD ciphers with an ephemeral key exchange only: a leaked secret does not decrypt recorded traffic. */
const PSK_CIPHERS = 'ECDHE-PSK-CHACHA20-POLY1305:DHE-PSK-AES256-GCM-SHA384:DHE-PSK-AES128-GCM-SHA256';
/** A PEM file is a few KiB; anything bigger is the wrong file. */
const PEM_BYTES_MAX = 1 << 20;

function pem(what: string, given: string): Buffer {
  if (given.includes('-----BEGIN')) return Buffer.from(given);
  let text: Buffer;
  try {
    text = readFileSync(given);
  } catch (e) {
    throw tlsError(`${what} ${given}`, `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (text.length > PEM_BYTES_MAX || !text.includes('-----BEGIN')) throw tlsError(`${what} ${given}`, 'is not a PEM file');
  return text;
}

/** The node's transport; reads and checks the PEM files (ERR_TLS) so a bad path fails at start. */
export function transportOf(o: SecurityOptions): Transport {
  if (o.insecure === true) {
    if (o.tls) throw new LockstepError('ERR_USAGE', 'give either TLS certificates or --insecure, not both');
    return { kind: 'plain' };
  }
  if (o.tls) return { kind: 'certs', cert: pem('certificate', o.tls.cert), key: pem('key', o.tls.key), ca: pem('CA certificate', o.tls.ca) };
  if (!o.secret) throw new LockstepError('ERR_USAGE', 'TLS without certificates needs the cluster secret (the pre-shared key is derived from it)');
  return { kind: 'psk', key: Buffer.from(hkdfSync('sha256', o.secret, PSK_HINT, PSK_INFO, PSK_KEY_BYTES)) };
}

/** OpenSSL's reason without its file and line noise: "ERR_SSL_…: decryption failed or bad record mac". */
function why(e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = /:SSL routines:[^:]*:([^:]+)/.exec(e.message)?.[1] ?? e.message.split('\n')[0]!;
  return code && !reason.includes(code) ? `${code}: ${reason}` : reason;
}

/** Why a listener turned a peer away at the TLS level: `secret` when a PSK peer does not hold the cluster secret. */
export interface Refusal {
  peer: string;
  /** The node name a PSK peer gave (empty with certificates or when unknown). */
  identity: string;
  secret: boolean;
  why: string;
}

/**
 * A server on `t`; `onConnection` gets each peer (TLS: the handshake under way or done, never
 * failed). A peer that fails the handshake goes to `onRefused`, which logs it the way the caller
 * logs its own refusals; the server itself never errors on it.
 */
export function listen(t: Transport, onConnection: (s: Socket) => void, onRefused: (r: Refusal) => void, preAuth?: PreAuthLimits): Server {
  if (t.kind === 'plain') return netServer(onConnection);
  const identities = new WeakMap<object, string>();
  // The TLS handshake is a stranger's first phase: the same time and count limits as the HMAC
  // handshake that follows (preauth.ts), or an idle or flooding peer is held for Node's 120 s.
  const doorman = preAuth ? new Doorman(preAuth, (s, why) => onRefused({ peer: `${s.remoteAddress}:${s.remotePort}`, identity: '', secret: false, why })) : null;
  const admissions = new WeakMap<object, Admission>();
  const secured = (s: Socket): void => {
    admissions.get((s as unknown as { _parent?: object })._parent ?? s)?.authenticated();
    onConnection(s);
  };
  const handshakeTimeout = preAuth?.handshakeMsMax ?? preAuthDefaults.handshakeMsMax;
  const server = t.kind === 'psk'
    ? tlsServer({
      minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: PSK_CIPHERS, pskIdentityHint: PSK_HINT, handshakeTimeout,
      pskCallback: (socket, identity) => {
        identities.set(socket, identity);
        return t.key;
      },
    }, secured)
    : tlsServer({ minVersion: 'TLSv1.3', cert: t.cert, key: t.key, ca: t.ca, requestCert: true, rejectUnauthorized: true, handshakeTimeout }, secured);
  if (doorman) server.on('connection', (raw: Socket) => admissions.set(raw, doorman.admit(raw)));
  // A peer that hangs up mid-handshake leaves a socket without an address: note it on arrival.
  const peers = new WeakMap<object, string>();
  server.on('connection', (raw: Socket) => peers.set(raw, `${raw.remoteAddress}:${raw.remotePort}`));
  server.on('tlsClientError', (e, s) => {
    const secret = t.kind === 'psk' && /decrypt|bad record mac/i.test(e.message);
    const raw = (s as unknown as { _parent?: object })._parent;
    const peer = (raw && peers.get(raw)) ?? (s.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : 'an unknown address');
    const reason = (e as NodeJS.ErrnoException).code === 'ECONNRESET'
      ? 'it hung up during the TLS handshake (it does not accept this node\'s certificate, or does not speak TLS)'
      : `TLS handshake failed (${why(e)})`;
    onRefused({ peer, identity: identities.get(s) ?? '', secret, why: reason });
    s.destroy();
  });
  return server;
}

/**
 * A dialled socket's error that is a refusal at the TLS level (wrong secret, a certificate the
 * peer does not accept or that this side does not), as a reason; null for a network error. A
 * refusal will not go away by retrying: the node stops with ERR_PEER_REFUSED or ERR_TLS.
 */
export function tlsRefusal(e: Error): string | null {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  // An alert that arrives while writing shows as EPROTO with OpenSSL's reason in the message.
  const ssl = code === 'EPROTO' && e.message.includes('SSL routines');
  if (!ssl && !/^ERR_SSL_|^ERR_TLS_|CERT|SIGNATURE|SELF_SIGNED|UNABLE_TO/.test(code)) return null;
  if (/BAD_RECORD_MAC|DECRYPT/i.test(code) || /bad record mac|decrypt/i.test(e.message)) return 'the TLS handshake failed: the peer does not hold the same cluster secret';
  return `the TLS handshake failed (${why(e)})`;
}

/**
 * Connects to `to` over `t`. The socket emits 'connect' when the peer is reached (TLS: before the
 * handshake ends; what is written meanwhile waits for it) and closes if the handshake fails.
 * `identity` names this node to a PSK listener.
 */
export function dial(t: Transport, to: { host: string; port: number }, identity: string): Socket {
  if (t.kind === 'plain') return netConnect(to);
  const s: TLSSocket = t.kind === 'psk'
    ? tlsConnect({
      host: to.host, port: to.port, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: PSK_CIPHERS,
      pskCallback: () => ({ psk: t.key, identity: identity || PSK_HINT }),
      checkServerIdentity: () => undefined,
    })
    : tlsConnect({
      host: to.host, port: to.port, minVersion: 'TLSv1.3', cert: t.cert, key: t.key, ca: t.ca, rejectUnauthorized: true,
      // The CA is the cluster's own: a chain to it is membership; see the header.
      checkServerIdentity: () => undefined,
    });
  return s;
}

/** "TLS (certificates)" etc., for status lines. */
export function describe(t: Transport): string {
  return t.kind === 'plain' ? 'plaintext (--insecure)' : t.kind === 'psk' ? 'TLS (pre-shared key from the cluster secret)' : 'TLS (certificates)';
}
