// Structure-aware log mutations for the log fuzzer: each mutant lies in one place a reader would
// believe (an offset, a vector length, a vtable entry, a scalar such as a thread id, a count or a
// sequence number, an event's kind, object or payload length, a header option) and keeps every
// frame's CRC valid, so the lie reaches the decoder. A mutant is a pure function of its seed.

import { crc32 } from 'node:zlib';
import { PREAMBLE_BYTES } from '../engine/log/format.js';
import { FRAME_HEADER_BYTES, frame } from '../engine/log/frame.js';
import { decodeHeader, encodeHeader, type HeaderData } from '../engine/log/codec.js';
import { FRAME_SHAPE, HEADER_SHAPE, verifyRoot, type Site } from '../engine/log/verify.js';
import { prng } from './prng.js';

export interface Mutant {
  bytes: Uint8Array;
  /** What was changed, for the failure message. */
  what: string;
}

interface Span {
  at: number;
  length: number;
}

/** The payload spans of a valid log's frames (the first is the header). */
export function frameSpans(log: Uint8Array): Span[] {
  const view = new DataView(log.buffer, log.byteOffset, log.byteLength);
  const spans: Span[] = [];
  for (let at = PREAMBLE_BYTES; at < log.length;) {
    const length = view.getUint32(at, true);
    spans.push({ at: at + FRAME_HEADER_BYTES, length });
    at += FRAME_HEADER_BYTES + length;
  }
  return spans;
}

/** Mutant number `n` of `log` under `seed`. */
export function mutant(log: Uint8Array, spans: Span[], seed: number, n: number): Mutant {
  const r = prng((seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0);
  const int = (k: number): number => Math.floor(r() * k);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const which = r() < 0.2 ? 0 : 1 + int(spans.length - 1);
  if (which === 0 && r() < 0.6) return headerLie(log, spans, r, int, pick);
  const span = spans[which]!;
  const out = new Uint8Array(log); // a copy (a Buffer's slice would alias)
  const payload = out.subarray(span.at, span.at + span.length);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let what: string;
  if (r() < 0.15) {
    // An unstructured change too: a random byte anywhere in the payload.
    const at = int(payload.length);
    payload[at] = int(256);
    what = `frame ${which}: byte ${at} set to ${payload[at]}`;
  } else {
    const sites: Site[] = [];
    verifyRoot(payload.slice(), which === 0 ? HEADER_SHAPE : FRAME_SHAPE, (s) => sites.push(s));
    const site = pick(sites);
    what = `frame ${which}: ${site.what} (${site.role} at ${site.at})`;
    if (site.bytes === 1) {
      view.setUint8(site.at, pick([0, 1, 2, 255, int(256)]));
    } else if (site.bytes === 2) {
      const v = view.getUint16(site.at, true);
      view.setUint16(site.at, pick([0, 1, 3, 0x7fff, 0x8000, 0xffff, v + 2, v - 2, v + 4, v * 2, int(0x10000)]) & 0xffff, true);
    } else if (site.bytes === 8) {
      const lo = view.getUint32(site.at, true);
      const [a, b] = pick([[0, 0x200000], [0xffffffff, 0xffffffff], [0, 1], [lo + 1, 0], [int(2 ** 32), int(2 ** 32)], [0x7fffffff, 0]] as const);
      view.setUint32(site.at, a >>> 0, true);
      view.setUint32(site.at + 4, b >>> 0, true);
    } else if (site.role === 'element') {
      // An event word: lie about the kind, the object (thread ids for spawn), or the argument.
      const v = view.getUint32(site.at, true);
      const kinds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 20, 26, 28, 40, 41, 42, 50, 51, 52, 53, 54, 55, 56, 57, 60, 61, 62, 99, 255];
      const x = pick([
        ((pick(kinds) << 24) | (v & 0xffffff)) >>> 0,
        ((v & 0xff000000) | pick([0, 1, 2, 63, 64, 0xffff, 0xffffff, int(1 << 24)])) >>> 0,
        pick([0, 1, 0xffffffff, 0x7fffffff, 0x80000000, v + 1, v - 1, v + 8, int(2 ** 32)]) >>> 0,
      ]);
      view.setUint32(site.at, x, true);
    } else {
      const v = view.getInt32(site.at, true);
      view.setUint32(site.at, pick([0, 1, -1, 0x7fffffff, -0x80000000, v + 1, v - 1, v + 4, v - 4, v * 2, v + 0x10000, int(2 ** 32), int(64)]) >>> 0, true);
    }
  }
  new DataView(out.buffer, out.byteOffset).setUint32(span.at - 4, crc32(payload), true);
  return { bytes: out, what };
}

/** A header re-encoded with one field lying (options, limits, thread count, version), reframed. */
function headerLie(log: Uint8Array, spans: Span[], r: () => number, int: (k: number) => number, pick: <T>(xs: readonly T[]) => T): Mutant {
  const span = spans[0]!;
  const h: HeaderData = decodeHeader(log.slice(span.at, span.at + span.length));
  const options = JSON.parse(h.options) as { limits: Record<string, unknown>; patchGlobals: unknown };
  const keys = Object.keys(options.limits);
  let what: string;
  switch (int(6)) {
    case 0: {
      const key = pick(keys);
      const value = pick([0, -1, 1, 3, 2 ** 31, 2 ** 50, 2 ** 53 + 1, 1.5, 'x', null, [], {}, 1e308, 4095]);
      options.limits[key] = value;
      h.options = JSON.stringify(options);
      what = `header option limits.${key} = ${JSON.stringify(value)}`;
      break;
    }
    case 1: {
      const text = pick(['', '{', 'null', '[]', '{"limits":null}', '{"limits":{}}', '"x"', '{"limits":{"bogus":1},"patchGlobals":true}', h.options.slice(0, int(h.options.length))]);
      h.options = text;
      what = `header options = ${JSON.stringify(text)}`;
      break;
    }
    case 2:
      options.patchGlobals = pick([1, 'yes', null]);
      h.options = JSON.stringify(options);
      what = `header option patchGlobals = ${JSON.stringify(options.patchGlobals)}`;
      break;
    case 3:
      h.threadsMax = pick([0, 1, 2, 65, 0x7fffffff, 0xffffffff]);
      what = `header threadsMax = ${h.threadsMax}`;
      break;
    case 4:
      h.formatVersion = pick([0, 1, 2, 4, 0xffffffff]);
      what = `header formatVersion = ${h.formatVersion}`;
      break;
    default:
      h.args = r() < 0.5 ? [] : ['\u0000', 'x'.repeat(int(4000))];
      h.programHash = pick(['', 'zz', h.programHash.toUpperCase()]);
      what = `header args/programHash changed`;
  }
  return { bytes: reheader(log, (x) => Object.assign(x, h)), what };
}

/** `log` with its header changed by `change` (re-encoded and reframed: the CRC is valid). */
export function reheader(log: Uint8Array, change: (h: HeaderData) => void): Uint8Array {
  const span = frameSpans(log)[0]!;
  const h = decodeHeader(log.slice(span.at, span.at + span.length));
  change(h);
  const framed = frame(encodeHeader(h));
  const out = new Uint8Array(log.length - span.length - FRAME_HEADER_BYTES + framed.length);
  out.set(log.subarray(0, span.at - FRAME_HEADER_BYTES), 0);
  out.set(framed, span.at - FRAME_HEADER_BYTES);
  out.set(log.subarray(span.at + span.length), span.at - FRAME_HEADER_BYTES + framed.length);
  return out;
}

/** `log` with the first 4-byte site of frame `index` that `match` picks set to `value`, CRC fixed. */
export function lieAt(log: Uint8Array, index: number, match: (s: Site) => boolean, value: number): Uint8Array {
  const out = new Uint8Array(log); // a copy (a Buffer's slice would alias)
  const span = frameSpans(out)[index]!;
  const payload = out.subarray(span.at, span.at + span.length);
  const sites: Site[] = [];
  verifyRoot(payload.slice(), index === 0 ? HEADER_SHAPE : FRAME_SHAPE, (s) => sites.push(s));
  const site = sites.find((s) => s.bytes === 4 && match(s));
  if (!site) throw new Error(`no such site in frame ${index}`);
  new DataView(payload.buffer, payload.byteOffset).setUint32(site.at, value >>> 0, true);
  new DataView(out.buffer, out.byteOffset).setUint32(span.at - 4, crc32(payload), true);
  return out;
}
