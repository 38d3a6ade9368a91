// What an unauthenticated peer may make a node or the arbiter spend, declared in one place. Until a
// peer has proved it holds the cluster secret it is a stranger: it gets a bounded time to finish
// the handshake, a bounded message size, and a bounded share of the connections. A stranger that
// trickles bytes, sits idle, declares a huge frame or opens hundreds of connections is dropped,
// and the node's real peers and clients are served throughout.
//
// The Doorman below is the driver that enforces the time and count limits on a listening socket;
// the size limit is enforced by the decoders (wire.ts, the arbiter's line reader).

import type { Socket } from 'node:net';
import { usage } from '../engine/errors.js';

export interface PreAuthLimits {
  /** A peer must finish the handshake this many milliseconds after it connected, or it is dropped. */
  handshakeMsMax: number;
  /** Largest message (the log channel: declared frame payload; the arbiter: one request line) a stranger may send, bytes. */
  preAuthBytesMax: number;
  /** Unauthenticated connections held at once; a connection past this is closed at accept. */
  pendingConnectionsMax: number;
}

export const preAuthDefaults: Readonly<PreAuthLimits> = {
  handshakeMsMax: 5000,
  preAuthBytesMax: 4096,
  pendingConnectionsMax: 32,
};

/** The defaults, with any given overrides checked (positive integers). */
export function resolvePreAuth(given: Partial<PreAuthLimits> | undefined): PreAuthLimits {
  const r = { ...preAuthDefaults, ...given };
  for (const k of ['handshakeMsMax', 'preAuthBytesMax', 'pendingConnectionsMax'] as const) {
    if (!Number.isSafeInteger(r[k]) || r[k] <= 0) throw usage(`pre-authentication limit ${k} must be a positive integer, got ${String(r[k])}`);
  }
  return r;
}

/** A stranger's admission: call authenticated() once it has proved the secret (idempotent). */
export interface Admission {
  authenticated(): void;
}

/** Enforces handshakeMsMax and pendingConnectionsMax on the connections of one listener. */
export class Doorman {
  private pending = 0;

  constructor(
    private readonly limits: PreAuthLimits,
    /** Told why a stranger was dropped (to log it); never throws into the server. */
    private readonly dropped: (socket: Socket, why: string) => void,
  ) {}

  /** Strangers held now (for tests and status). */
  get strangers(): number {
    return this.pending;
  }

  /** Admits a new connection as a stranger, or closes it at once when too many are pending. */
  admit(socket: Socket): Admission | null {
    if (this.pending >= this.limits.pendingConnectionsMax) {
      this.dropped(socket, `more than ${this.limits.pendingConnectionsMax} unauthenticated connections (pendingConnectionsMax)`);
      socket.destroy();
      return null;
    }
    this.pending++;
    let open = true;
    const leave = (): void => {
      if (!open) return;
      open = false;
      this.pending--;
      clearTimeout(timer);
    };
    const timer = setTimeout(() => {
      if (!open) return;
      leave();
      this.dropped(socket, `no handshake within ${this.limits.handshakeMsMax} ms (handshakeMsMax)`);
      socket.destroy();
    }, this.limits.handshakeMsMax);
    timer.unref();
    socket.once('close', leave);
    return { authenticated: leave };
  }
}

/**
 * Reports dropped strangers without letting a flood flood the log: at most one line per
 * `intervalMs`, the next one saying how many were dropped in between. Time is an input.
 */
export class DropLog {
  private last = -Infinity;
  private suppressed = 0;

  constructor(private readonly write: (line: string) => void, private readonly intervalMs = 1000, private readonly now: () => number = Date.now) {}

  note(line: string): void {
    const t = this.now();
    if (t - this.last < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.last = t;
    const more = this.suppressed > 0 ? ` (and ${this.suppressed} more since the last report)` : '';
    this.suppressed = 0;
    this.write(line + more);
  }
}
