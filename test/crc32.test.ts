// The frame checksum (engine/log/crc32.ts): JavaScript below 128 KiB, node:zlib's native crc32
// from there; both must be zlib's CRC-32 on every length, the slice-by-8 loop's tail included.

import assert from 'node:assert/strict';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32 } from '../engine/log/crc32.js';

describe('frame checksum', function () {
  it('equals zlib\'s CRC-32 for every length around the loop\'s steps and the native threshold', function () {
    const seed = 20261201;
    console.log(`      crc32 seed ${seed}`);
    let x = seed;
    const lengths = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 63, 64, 65, 4096, (128 << 10) - 1, 128 << 10, (128 << 10) + 3, 1 << 20];
    for (const n of lengths) {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        x = (Math.imul(x, 1103515245) + 12345) | 0;
        data[i] = x >>> 24;
      }
      assert.equal(crc32(data), zlibCrc32(data), `length ${n}`);
    }
  });
});
