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
  /** Unauthenticated connections held at once; past this, the oldest stranger is closed to make room. */
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

interface Held {
  socket: Socket;
  timer: NodeJS.Timeout;
}

/**
 * Enforces handshakeMsMax and pendingConnectionsMax on the connections of one listener. When all
 * pendingConnectionsMax places are taken, a new stranger takes the place of the oldest one (which
 * is closed) rather than being turned away: a real peer finishes its handshake in a round trip, so
 * a flood of idle or slow strangers cannot lock it out, and the number held stays bounded.
 */
export class Doorman {
  /** Strangers held now, oldest first (a Set keeps insertion order). */
  private readonly held = new Set<Held>();

  constructor(
    private readonly limits: PreAuthLimits,
    /** Told why a stranger was dropped (to log it); never throws into the server. */
    private readonly dropped: (socket: Socket, why: string) => void,
  ) {}

  /** Strangers held now (for tests and status). */
  get strangers(): number {
    return this.held.size;
  }

  /** Admits a new connection as a stranger, closing the oldest stranger if every place is taken. */
  admit(socket: Socket): Admission {
    if (this.held.size >= this.limits.pendingConnectionsMax) {
      const oldest = this.held.values().next().value as Held;
      this.release(oldest);
      this.dropped(oldest.socket, `more than ${this.limits.pendingConnectionsMax} unauthenticated connections (pendingConnectionsMax): the oldest is dropped`);
      oldest.socket.destroy();
    }
    const h: Held = {
      socket,
      timer: setTimeout(() => {
        if (!this.held.has(h)) return;
        this.release(h);
        this.dropped(socket, `no handshake within ${this.limits.handshakeMsMax} ms (handshakeMsMax)`);
        socket.destroy();
      }, this.limits.handshakeMsMax),
    };
    h.timer.unref();
    this.held.add(h);
    socket.once('close', () => this.release(h));
    return { authenticated: () => this.release(h) };
  }

  private release(h: Held): void {
    if (!this.held.delete(h)) return;
    clearTimeout(h.timer);
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
