// CRC-32 (IEEE 802.3, zlib's) of a frame's payload. A thread's first 16 MiB of payloads are summed
// here in JavaScript (slice-by-8 tables read a word at a time, ~1.1 GB/s on the bench machine);
// from then on node:zlib's native crc32 (~2.5 GB/s) takes over. Importing node:zlib costs a thread
// about 10 ms of CPU (zlib and the streams it brings), as much as ~11 MB summed here: a short run
// never pays it (the drain and the recording main thread each used to, for the header frame
// alone), and a long one pays it once it has summed enough for the faster sum to earn it back
// (renting before buying). The sum is the same either way, so the log format does not depend on it.

import { createRequire } from 'node:module';
import { LITTLE_ENDIAN } from '../event.js';

/** Bytes summed in JavaScript before zlib's crc32 is loaded and used for everything after. */
const NATIVE_AFTER = 16 << 20;

let native: ((data: Uint8Array) => number) | null = null;
let summed = 0;

/** Table t (0–7) at t·256: the CRC of a byte followed by t zero bytes. */
const TABLES = new Int32Array(256 * 8);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLES[n] = c;
}
for (let n = 0; n < 256; n++) {
  for (let t = 1; t < 8; t++) {
    const prev = TABLES[(t - 1) * 256 + n]!;
    TABLES[t * 256 + n] = (prev >>> 8) ^ TABLES[prev & 0xff]!;
  }
}

export function crc32(data: Uint8Array): number {
  if (native !== null) return native(data);
  summed += data.length;
  if (summed > NATIVE_AFTER) native = (createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib')).crc32;
  return crc32InJs(data);
}

/** The JavaScript sum (exported for its test): byte by byte up to a word boundary, then slice-by-8 on two little-endian words a step. */
export function crc32InJs(data: Uint8Array): number {
  const T = TABLES;
  const n = data.length;
  let c = -1;
  let i = 0;
  if (LITTLE_ENDIAN && n >= 64) {
    for (const lead = (4 - (data.byteOffset & 3)) & 3; i < lead; i++) c = T[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    const w = new Int32Array(data.buffer, data.byteOffset + i, (n - i) >>> 3 << 1);
    for (let k = 0; k < w.length; k += 2) {
      const lo = c ^ w[k]!;
      const hi = w[k + 1]!;
      c = T[1792 + (lo & 0xff)]! ^ T[1536 + ((lo >>> 8) & 0xff)]! ^ T[1280 + ((lo >>> 16) & 0xff)]! ^ T[1024 + (lo >>> 24)]! ^
        T[768 + (hi & 0xff)]! ^ T[512 + ((hi >>> 8) & 0xff)]! ^ T[256 + ((hi >>> 16) & 0xff)]! ^ T[hi >>> 24]!;
    }
    i += w.length * 4;
  }
  for (; i < n; i++) c = T[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
