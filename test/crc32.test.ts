// The frame checksum (engine/log/crc32.ts): JavaScript for a thread's first 16 MiB, node:zlib's
// native crc32 after; both must be zlib's CRC-32 on every length and every alignment (the
// word loop starts at a word boundary and ends with a byte tail). The JavaScript sum is checked
// through its own export, so the test holds whatever this process summed before it.

import assert from 'node:assert/strict';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32, crc32InJs } from '../engine/log/crc32.js';

describe('frame checksum', function () {
  const seed = 20261201;
  let x = seed;
  function random(n: number): Uint8Array {
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) | 0;
      data[i] = x >>> 24;
    }
    return data;
  }
  const lengths = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 63, 64, 65, 66, 67, 68, 71, 72, 73, 4096, 4099, (128 << 10) + 3, 1 << 20];

  function agree(sum: (data: Uint8Array) => number, when: string): void {
    for (const n of lengths) {
      const data = random(n + 3);
      for (let offset = 0; offset < 4; offset++) {
        const view = data.subarray(offset, offset + n);
        assert.equal(sum(view), zlibCrc32(view), `${when}: length ${n} at byte offset ${offset}`);
      }
    }
  }

  it('equals zlib\'s CRC-32 for every length around the loop\'s steps, at every alignment, before and after zlib takes over', function () {
    console.log(`      crc32 seed ${seed}`);
    agree(crc32InJs, 'summed in JavaScript');
    // Past 16 MiB summed, zlib's crc32 takes over: the sums must not change.
    const block = random(1 << 20);
    for (let i = 0; i < 17; i++) assert.equal(crc32(block), zlibCrc32(block), `block ${i}`);
    agree(crc32, 'summed by zlib');
  });
});
