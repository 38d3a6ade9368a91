// A loopback TCP proxy for fault injection on the log channel: a backup dials the proxy, the proxy
// dials the primary, and bytes are forwarded both ways until the test says otherwise. It can
//
// - pass: forward everything (the start state);
// - partition(): silently drop every byte both ways from now on, keeping every socket open, so
//   neither side sees a close or an error and only heartbeat silence reveals the fault;
// - cutAfter(direction, n): forward n more bytes in that direction, then cut the connection;
// - truncateFrame(direction, keep): forward the rest of the frame under way in that direction and
//   only the first `keep` bytes of the next one, then cut the connection, so the far end holds a
//   torn frame. Frames are the log channel's: [u32 length][u32 crc32][payload] (wire.ts).
//
// - hold(direction): keep what arrives in that direction instead of forwarding it (the far end
//   hears nothing); release() sends it all at once. When the side that sends in a held
//   direction closes, what was held is sent first and then the other side is closed, as bytes
//   already on the wire arrive before a dead peer's FIN.
//
// A cut closes one side or both (`close`): a closed side sees the end of the stream (after the
// bytes forwarded before the cut), a side left open sees nothing more at all (its bytes are
// dropped), so a test chooses which node learns of the fault at once and which only by silence.
//
// Directions are named from the proxy's client (the backup): 'down' is upstream → client (primary
// → backup), 'up' is client → upstream (backup → primary).

import { strict as assert } from 'node:assert';
import { connect, createServer, type Server, type Socket } from 'node:net';

export type Direction = 'down' | 'up';
/** Which sockets a cut closes: the client's (the backup's), the upstream's (the primary's), or both. */
export type CloseSide = 'both' | 'client' | 'upstream';

/** Frame header bytes on the log channel ([u32 length][u32 crc32]). */
const FRAME_HEADER_BYTES = 8;

/** Where a cut fell: bytes forwarded in its direction, and the frame under way then (length -1: its header was cut). */
export interface CutDone {
  forwarded: number;
  frameStart: number;
  frameLength: number;
}

/** A cut armed on one direction: after `left` more bytes, or inside the next frame after `keepLeft` of its bytes. */
interface Armed {
  cut: { left: number } | null;
  tear: { keepLeft: number; started: boolean } | null;
  close: CloseSide;
  resolve: (r: CutDone) => void;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Per direction, bytes held back by hold() (null: not holding). */
  held: Record<Direction, Buffer[] | null>;
  /** Cut: nothing more is forwarded either way, whichever sockets are still open. */
  cut: boolean;
}

export class Proxy {
  private readonly pairs = new Set<Pair>();
  /** Clients that connected during a partition: held open, never dialled through. */
  private readonly silenced = new Set<Socket>();
  private dropping = false;
  private readonly armed = new Map<Direction, Armed>();
  private readonly holding = new Set<Direction>();
  /** Per direction, bytes forwarded. */
  readonly forwarded: Record<Direction, number> = { down: 0, up: 0 };
  /** Per direction, bytes dropped (partitioned, or arriving at a cut connection's open side). */
  readonly dropped: Record<Direction, number> = { down: 0, up: 0 };
  /** Connections accepted so far. */
  accepted = 0;
  /** Per direction, the frame under way in what was forwarded: its offset, total size (-1: header incomplete) and header bytes so far. */
  private readonly frames: Record<Direction, { start: number; size: number; header: Buffer }> = {
    down: { start: 0, size: -1, header: Buffer.alloc(0) },
    up: { start: 0, size: -1, header: Buffer.alloc(0) },
  };

  private constructor(private readonly server: Server, private readonly target: { host: string; port: number }) {}

  static async start(target: { host: string; port: number }): Promise<Proxy> {
    const server = createServer();
    const proxy = new Proxy(server, target);
    server.on('connection', (s) => proxy.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get address(): { host: string; port: number } {
    return { host: '127.0.0.1', port: (this.server.address() as { port: number }).port };
  }

  /**
   * Drops every byte both ways from now on. Sockets stay open, and one side closing is not passed
   * on to the other (no FIN crosses a partition); a connection made during it reaches nobody.
   */
  partition(): void {
    this.dropping = true;
    for (const p of this.pairs) p.cut = true;
  }

  /** Holds back every byte in `direction` from now on, until release() or the sending side closes. */
  hold(direction: Direction): void {
    this.holding.add(direction);
    for (const p of this.pairs) p.held[direction] ??= [];
  }

  /** Sends what hold() kept back, and forwards again. */
  release(): void {
    this.holding.clear();
    for (const p of this.pairs) this.flush(p);
  }

  /** Bytes held back now, in all connections. */
  get heldBytes(): number {
    let n = 0;
    for (const p of this.pairs) for (const d of ['down', 'up'] as const) for (const b of p.held[d] ?? []) n += b.length;
    return n;
  }

  private flush(pair: Pair): void {
    for (const d of ['down', 'up'] as const) {
      const chunks = pair.held[d];
      pair.held[d] = null;
      for (const c of chunks ?? []) this.forward(pair, d, c);
    }
  }

  /** Forwards `n` more bytes in `direction`, then cuts the connection; resolves at the cut. */
  cutAfter(direction: Direction, n: number, close: CloseSide = 'both'): Promise<CutDone> {
    assert(Number.isInteger(n) && n >= 0, 'proxy: cutAfter needs an integer n ≥ 0');
    return this.arm(direction, { cut: { left: n }, tear: null, close });
  }

  /**
   * Forwards the rest of the frame under way in `direction` and only the first `keep` bytes of the
   * next frame to start, then cuts the connection; resolves at the cut.
   */
  truncateFrame(direction: Direction, keep: number, close: CloseSide = 'both'): Promise<CutDone> {
    assert(Number.isInteger(keep) && keep >= 1, 'proxy: truncateFrame keeps at least one byte, or the cut would fall on a frame boundary');
    return this.arm(direction, { cut: null, tear: { keepLeft: keep, started: false }, close });
  }

  private arm(direction: Direction, how: Omit<Armed, 'resolve'>): Promise<CutDone> {
    assert(!this.armed.has(direction), `proxy: a cut of direction ${direction} is already armed`);
    return new Promise<CutDone>((resolve) => this.armed.set(direction, { ...how, resolve }));
  }

  /** Closes every connection and the listener. */
  async close(): Promise<void> {
    for (const p of this.pairs) this.destroy(p);
    this.pairs.clear();
    for (const s of this.silenced) s.destroy();
    this.silenced.clear();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private accept(client: Socket): void {
    this.accepted++;
    if (this.dropping) {
      this.silenced.add(client);
      client.on('data', (chunk: Buffer) => (this.dropped.up += chunk.length));
      client.on('error', () => {});
      client.on('close', () => this.silenced.delete(client));
      return;
    }
    const upstream = connect(this.target);
    const pair: Pair = { client, upstream, cut: false, held: { down: this.holding.has('down') ? [] : null, up: this.holding.has('up') ? [] : null } };
    this.pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => this.forward(pair, 'up', chunk));
    upstream.on('data', (chunk: Buffer) => this.forward(pair, 'down', chunk));
    for (const s of [client, upstream]) {
      // One side gone closes the other too, as a plain connection would; after a cut the side
      // left open stays open, silent.
      const gone = (): void => {
        if (pair.cut) return;
        const held = s === upstream ? pair.held.down : pair.held.up;
        if (held && held.length > 0) {
          // The sender died with bytes on the wire: they arrive, then its FIN.
          const other = s === upstream ? pair.client : pair.upstream;
          this.flush(pair);
          pair.cut = true;
          other.end(() => other.destroy());
          return;
        }
        this.destroy(pair);
      };
      s.on('error', gone);
      s.on('close', gone);
    }
  }

  private destroy(pair: Pair): void {
    pair.cut = true;
    pair.client.destroy();
    pair.upstream.destroy();
  }

  private forward(pair: Pair, direction: Direction, chunk: Buffer): void {
    if (pair.cut || this.dropping) {
      this.dropped[direction] += chunk.length;
      return;
    }
    const held = pair.held[direction];
    if (held) {
      held.push(chunk);
      return;
    }
    const armed = this.armed.get(direction);
    const pass = armed ? this.allowed(direction, armed, chunk) : chunk.length;
    const out = direction === 'down' ? pair.client : pair.upstream;
    if (pass > 0) {
      out.write(chunk.subarray(0, pass));
      this.track(direction, chunk.subarray(0, pass));
      this.forwarded[direction] += pass;
    }
    this.dropped[direction] += chunk.length - pass;
    if (!armed || !(armed.cut ? armed.cut.left === 0 : armed.tear!.started && armed.tear!.keepLeft === 0)) return;
    this.armed.delete(direction);
    pair.cut = true;
    const f = this.frames[direction];
    armed.resolve({ forwarded: this.forwarded[direction], frameStart: f.start, frameLength: f.size });
    // end() lets the bytes already written leave before the stream ends; destroy() would not.
    const closing = armed.close === 'both' ? [pair.client, pair.upstream] : [armed.close === 'client' ? pair.client : pair.upstream];
    for (const s of closing) s.end(() => s.destroy());
  }

  /** How many bytes of `chunk` may pass under an armed cut (and counts them against it). */
  private allowed(direction: Direction, armed: Armed, chunk: Buffer): number {
    if (armed.cut) {
      const pass = Math.min(chunk.length, armed.cut.left);
      armed.cut.left -= pass;
      return pass;
    }
    const tear = armed.tear!;
    let toBoundary = 0;
    if (!tear.started) {
      const f = this.frames[direction];
      if (f.size >= 0) {
        toBoundary = f.start + f.size - this.forwarded[direction];
      } else if (f.header.length > 0) {
        // The frame under way has an incomplete header: its length is in this chunk, or all of it passes.
        const header = Buffer.concat([f.header, chunk.subarray(0, FRAME_HEADER_BYTES - f.header.length)]);
        if (header.length < FRAME_HEADER_BYTES) return chunk.length;
        toBoundary = f.start + FRAME_HEADER_BYTES + header.readUInt32LE(0) - this.forwarded[direction];
      }
      if (toBoundary >= chunk.length) return chunk.length;
      tear.started = true;
    }
    const take = Math.min(tear.keepLeft, chunk.length - toBoundary);
    tear.keepLeft -= take;
    return toBoundary + take;
  }

  /** Follows the frame boundaries of what was forwarded in `direction`. */
  private track(direction: Direction, bytes: Buffer): void {
    const f = this.frames[direction];
    let at = 0;
    let offset = this.forwarded[direction];
    while (at < bytes.length) {
      if (f.size < 0) {
        const take = Math.min(FRAME_HEADER_BYTES - f.header.length, bytes.length - at);
        f.header = Buffer.concat([f.header, bytes.subarray(at, at + take)]);
        at += take;
        offset += take;
        if (f.header.length === FRAME_HEADER_BYTES) f.size = FRAME_HEADER_BYTES + f.header.readUInt32LE(0);
        continue;
      }
      const end = f.start + f.size;
      const take = Math.min(end - offset, bytes.length - at);
      at += take;
      offset += take;
      if (offset === end) {
        f.start = end;
        f.size = -1;
        f.header = Buffer.alloc(0);
      }
    }
  }
}
