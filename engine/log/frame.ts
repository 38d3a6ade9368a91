// Framing: every frame is [u32 payload length][u32 CRC-32 of payload][payload], little endian,
// so a torn tail (short read) and a flipped bit (CRC mismatch) are both detected. Pure: the
// scanner takes bytes and reports what it found; the caller turns that into typed errors.

import { crc32 } from './crc32.js';

export const FRAME_HEADER_BYTES = 8;

export function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  out.set(frameHeader(payload), 0);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** The 8 bytes that go before `payload` (for writers that write the payload from where it is). */
export function frameHeader(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, crc32(payload), true);
  return out;
}

export type ScanResult =
  | { kind: 'frame'; payload: Uint8Array; next: number }
  | { kind: 'end' }
  | { kind: 'truncated'; why: string }
  | { kind: 'corrupt'; why: string };

/**
 * Reads the frame at `offset` of `bytes`. The payload is copied, so it is aligned for FlatBuffers;
 * `copy` false returns a view of `bytes` instead, for a caller whose frame starts at an 8-byte
 * aligned offset of a buffer of its own and who is done with the payload before it reuses the
 * buffer (the replay log reader, which read every frame twice and copied it each time).
 */
export function scanFrame(bytes: Uint8Array, offset: number, frameBytesMax: number, copy = true): ScanResult {
  const left = bytes.length - offset;
  if (left === 0) return { kind: 'end' };
  if (left < FRAME_HEADER_BYTES) return { kind: 'truncated', why: `${left} bytes of a frame header` };
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, FRAME_HEADER_BYTES);
  const length = view.getUint32(0, true);
  const crc = view.getUint32(4, true);
  if (length === 0 || length > frameBytesMax) return { kind: 'corrupt', why: `frame length ${length} is impossible` };
  if (left - FRAME_HEADER_BYTES < length) {
    return { kind: 'truncated', why: `a frame of ${length} bytes has only ${left - FRAME_HEADER_BYTES}` };
  }
  // Uint8Array's slice copies; a Buffer's own slice would alias (and keep the odd offset).
  const from = offset + FRAME_HEADER_BYTES;
  const payload = copy ? Uint8Array.prototype.slice.call(bytes, from, from + length) : bytes.subarray(from, from + length);
  if (crc32(payload) !== crc) return { kind: 'corrupt', why: 'frame checksum mismatch' };
  return { kind: 'frame', payload, next: offset + FRAME_HEADER_BYTES + length };
}
