// CRC-32 (IEEE 802.3, zlib's) of a frame's payload. Small payloads are summed here in JavaScript
// (slice-by-8 tables, ~400 MB/s on the bench machine); large ones by node:zlib's native crc32
// (~2 GB/s), loaded on the first large payload. Importing node:zlib costs a thread about 10 ms of
// CPU (zlib and the streams it brings), more than all of a small log's checksums, and the drain
// and the recording main thread each paid it at start for the header frame alone.

import { createRequire } from 'node:module';

/** Payloads from this size on go to zlib (~0.3 ms of JavaScript; zlib's load pays off after ~4 MB). */
const NATIVE_FROM = 128 << 10;

let native: ((data: Uint8Array) => number) | null = null;

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
  if (data.length >= NATIVE_FROM) {
    native ??= (createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib')).crc32;
    return native(data);
  }
  const T = TABLES;
  let c = -1;
  let i = 0;
  const n = data.length;
  for (; i + 8 <= n; i += 8) {
    const lo = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    const hi = data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24);
    c = T[1792 + (lo & 0xff)]! ^ T[1536 + ((lo >>> 8) & 0xff)]! ^ T[1280 + ((lo >>> 16) & 0xff)]! ^ T[1024 + (lo >>> 24)]! ^
      T[768 + (hi & 0xff)]! ^ T[512 + ((hi >>> 8) & 0xff)]! ^ T[256 + ((hi >>> 16) & 0xff)]! ^ T[hi >>> 24]!;
  }
  for (; i < n; i++) c = T[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
