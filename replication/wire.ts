// The log channel's wire format: every message is one frame in the log's own framing (length +
// CRC-32, engine/log/frame.ts) whose payload is a type byte and the body. Log frames travel as
// they are written to the log file, so the backup writes them to its own log unchanged. The
// handshake is challenge-response with HMAC-SHA256 over the shared secret, both ways: neither
// side sends log data to, or takes log data from, a peer that does not hold the secret.
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
  /** backup → primary: { frames } received so far */
  Ack = 6,
  /** either way: {} */
  Heartbeat = 7,
  /** primary → backup: { outputs: per-thread counts the primary has released } */
  Released = 8,
  /** primary → joining backup: the state-transfer snapshot (snapshot.ts) */
  Snapshot = 9,
  /** primary → backup: the run finished normally; { frames } is the whole log */
  End = 10,
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

/** Cuts a byte stream into messages; throws Error('…') on a corrupt frame (the caller drops the peer). */
export class WireDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): Message[] {
    this.buffered = this.buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffered, chunk]);
    const out: Message[] = [];
    let offset = 0;
    for (;;) {
      if (this.buffered.length - offset < FRAME_HEADER_BYTES) break;
      const length = this.buffered.readUInt32LE(offset);
      if (length > MESSAGE_BYTES_MAX || length === 0) throw new Error(`message length ${length} is impossible`);
      if (this.buffered.length - offset - FRAME_HEADER_BYTES < length) break;
      const r = scanFrame(this.buffered, offset, MESSAGE_BYTES_MAX);
      if (r.kind !== 'frame') throw new Error(r.kind === 'end' ? 'no frame' : r.why);
      const type = r.payload[0] as Msg;
      const rest = r.payload.subarray(1);
      out.push({ type, body: type === Msg.Log ? rest : deserialize(rest) });
      offset = r.next;
    }
    this.buffered = this.buffered.subarray(offset);
    return out;
  }

  /** Bytes of an incomplete message held (a torn frame at a peer's death). */
  get pending(): number {
    return this.buffered.length;
  }
}

export function nonce(): string {
  return randomBytes(16).toString('hex');
}

export function mac(secret: string, purpose: string, challenge: string, node: string): string {
  return createHmac('sha256', secret).update(`${purpose}:${challenge}:${node}`).digest('hex');
}

export function macOk(secret: string, given: unknown, purpose: string, challenge: string, node: string): boolean {
  if (typeof given !== 'string' || given.length !== 64) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(mac(secret, purpose, challenge, node), 'hex'));
}
