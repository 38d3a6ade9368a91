// The log channel's wire format: every message is one frame in the log's own framing (length +
// CRC-32, engine/log/frame.ts) whose payload is a type byte and the body. Log frames travel as
// they are written to the log file, so the backup writes them to its own log unchanged. The
// handshake is challenge-response with HMAC-SHA256 over the shared secret, both ways: neither
// side sends log data to, or takes log data from, a peer that does not hold the secret.
// Everything a peer sends before it is authenticated is read with total functions (the decoder
// and the parse* functions never throw, whatever the bytes) under the limits of preauth.ts.
// Pure: bytes in, messages out; sockets live in sender.ts and receiver.ts.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { serialize, deserialize } from 'node:v8';
import { FRAME_HEADER_BYTES, frame, scanFrame } from '../engine/log/frame.js';

export const enum Msg {
  /** primary → peer: { nonce } */
  Challenge = 1,
  /** peer → primary: { node, join, mac(challenge), nonce } */
  Hello = 2,
  /** primary → peer: { mac(hello nonce), epoch, node } */
  Welcome = 3,
  /** either way: { why }, then the connection closes */
  Refused = 4,
  /** primary → backup: raw log frame bytes (the header frame first) */
  Log = 5,
  /** backup → primary: { frames } received so far, and { fence }: the highest fence heard */
  Ack = 6,
  /** either way: {}; primary → backup may carry { fence: n }, which the backup echoes in its acks */
  Heartbeat = 7,
  /** primary → backup: { outputs: per-thread counts the primary has released } */
  Released = 8,
  /** primary → joining backup: the state-transfer snapshot (snapshot.ts) */
  Snapshot = 9,
  /** primary → backup: the run finished normally; { frames } is the whole log */
  End = 10,
  /** backup → primary: it replayed the whole log to the recorded digest and finished: { digest } */
  Done = 11,
}

/** Largest message the channel accepts (a snapshot holds the whole arena). */
export const MESSAGE_BYTES_MAX = 1 << 30;

export function encode(type: Msg, body: unknown): Uint8Array {
  const b = type === Msg.Log ? (body as Uint8Array) : serialize(body);
  const payload = new Uint8Array(1 + b.length);
  payload[0] = type;
  payload.set(b, 1);
  return frame(payload);
}

export interface Message {
  type: Msg;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One step of the decoder: a message, nothing complete yet, or a stream that cannot go on. */
export type Decoded = { kind: 'message'; message: Message } | { kind: 'more' } | { kind: 'bad'; why: string };

/**
 * Cuts a byte stream into messages. Total: it never throws, whatever the bytes; a stream it cannot
 * read is reported as 'bad' (the caller drops the peer). Chunks are kept as they arrive and joined
 * once per message, when the whole message is there (never re-concatenated per chunk), and a
 * declared length over `bytesMax` is refused as soon as its header arrives, so a stranger's
 * declared 1 GiB frame costs nothing. The caller raises `bytesMax` once the peer is authenticated.
 */
export class WireDecoder {
  private chunks: Buffer[] = [];
  private total = 0;

  constructor(public bytesMax: number = MESSAGE_BYTES_MAX) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.total += chunk.length;
  }

  /** The next complete message, if any. Call until it says 'more'. */
  next(): Decoded {
    if (this.total < FRAME_HEADER_BYTES) return { kind: 'more' };
    const header = this.take(FRAME_HEADER_BYTES, false);
    const length = header.readUInt32LE(0);
    if (length === 0 || length > this.bytesMax) return { kind: 'bad', why: `message length ${length} is impossible here (at most ${this.bytesMax} bytes)` };
    if (this.total < FRAME_HEADER_BYTES + length) return { kind: 'more' };
    const bytes = this.take(FRAME_HEADER_BYTES + length, true);
    const r = scanFrame(bytes, 0, this.bytesMax);
    if (r.kind !== 'frame') return { kind: 'bad', why: r.kind === 'end' ? 'no frame' : r.why };
    const type = r.payload[0] as Msg;
    const rest = r.payload.subarray(1);
    if (type === Msg.Log) return { kind: 'message', message: { type, body: rest } };
    try {
      return { kind: 'message', message: { type, body: deserialize(rest) } };
    } catch (e) {
      return { kind: 'bad', why: `an unreadable message body (${(e as Error).message})` };
    }
  }

  /** The first `n` buffered bytes (n ≤ total), removed when `consume`. One copy at most. */
  private take(n: number, consume: boolean): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      for (const c of this.chunks) {
        const k = Math.min(c.length, n - at);
        c.copy(out, at, 0, k);
        at += k;
        if (at === n) break;
      }
    }
    if (consume) {
      let left = n;
      while (left > 0) {
        const c = this.chunks[0]!;
        if (c.length <= left) {
          this.chunks.shift();
          left -= c.length;
        } else {
          this.chunks[0] = c.subarray(left);
          left = 0;
        }
      }
      this.total -= n;
    }
    return out;
  }

  /** Bytes of an incomplete message held (a torn frame at a peer's death). */
  get pending(): number {
    return this.total;
  }
}

export function nonce(): string {
  return randomBytes(16).toString('hex');
}

export function mac(secret: string, purpose: string, challenge: string, node: string): string {
  return createHmac('sha256', secret).update(`${purpose}:${challenge}:${node}`).digest('hex');
}

/** Total: false for anything that is not 64 hex digits, never an exception (timingSafeEqual throws on unequal lengths). */
export function macOk(secret: string, given: unknown, purpose: string, challenge: string, node: string): boolean {
  return hexEqual(given, mac(secret, purpose, challenge, node));
}

const MAC_HEX = /^[0-9a-f]{64}$/;
const NONCE_HEX = /^[0-9a-f]{32}$/;
/** Longest node name a peer may present, characters. */
export const NODE_NAME_CHARS_MAX = 200;
/** Longest refusal reason kept from a peer, characters. */
const WHY_CHARS_MAX = 500;

/** Compares a MAC given by a peer with the expected one in constant time; false for any malformed input. */
export function hexEqual(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || !MAC_HEX.test(given) || !MAC_HEX.test(expected)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(expected, 'hex'));
}

// ---- handshake bodies, read with total functions: null for anything malformed ----

function record(body: unknown): Record<string, unknown> | null {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
}

function nodeName(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 && v.length <= NODE_NAME_CHARS_MAX ? v : null;
}

export function parseChallenge(body: unknown): { nonce: string } | null {
  const b = record(body);
  return b && typeof b.nonce === 'string' && NONCE_HEX.test(b.nonce) ? { nonce: b.nonce } : null;
}

export interface Hello {
  node: string;
  join: boolean;
  mac: string;
  nonce: string;
}

export function parseHello(body: unknown): Hello | null {
  const b = record(body);
  if (!b) return null;
  const node = nodeName(b.node);
  if (node === null || typeof b.mac !== 'string' || !MAC_HEX.test(b.mac) || typeof b.nonce !== 'string' || !NONCE_HEX.test(b.nonce)) return null;
  return { node, join: b.join === true, mac: b.mac, nonce: b.nonce };
}

export function parseWelcome(body: unknown): { mac: string; epoch: number; node: string } | null {
  const b = record(body);
  if (!b) return null;
  const node = nodeName(b.node);
  if (node === null || typeof b.mac !== 'string' || !MAC_HEX.test(b.mac) || !Number.isSafeInteger(b.epoch) || (b.epoch as number) < 0) return null;
  return { mac: b.mac, epoch: b.epoch as number, node };
}

export function parseRefused(body: unknown): { why: string } {
  const b = record(body);
  const why = b && typeof b.why === 'string' ? b.why.slice(0, WHY_CHARS_MAX) : 'no reason given';
  return { why };
}

/** A count in a message (frames acknowledged, a fence): a non-negative safe integer, or null. */
export function count(body: unknown, field: string): number | null {
  const b = record(body);
  const v = b?.[field];
  return Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : null;
}
