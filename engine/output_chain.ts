// The per-thread output chain in the thread table (T_OUTPUT_DIGEST, 8 slots): each output folds
// its id and payload into the previous value, and finish() folds every thread's chain into the run
// digest. Record and replay chain with SHA-256 (the recorded end event carries the result and
// replay must reproduce it). Mode off has nothing to reproduce: there the digest only tells one run
// from another, so it chains with two 32-bit multiply-xor lanes instead, and a worker that emits
// outputs in mode off never loads node:crypto (10-20 ms of CPU per worker; issue 11 target 3).
// SHA-256 runs one-shot (crypto.hash) over one scratch buffer holding the previous chain, the id
// and the payload, the same bytes the three update() calls of a Hash object fed it: a Hash object
// per output (a native object with a weak handle) cost a job server's worker about 6 µs an output
// and a third of its garbage collection.

import { liveCrypto } from './thread_api.js';

const utf8 = new TextEncoder();
/** The bytes one output's SHA-256 reads: the previous chain (32), the id, the payload; grown as needed. */
let scratch = new Uint8Array(1024);

/** The chain at `slot` (8 words of `a`) after an output with `id` and serialized `payload`. */
export function chainOutput(a: Int32Array, slot: number, id: string, payload: Uint8Array, off: boolean): void {
  if (off) {
    chainCheap(a, slot, id, payload);
    return;
  }
  const chain = new Uint8Array(a.buffer, a.byteOffset + slot * 4, 32);
  // An id's UTF-8 takes at most 3 bytes a UTF-16 unit.
  const most = 32 + id.length * 3 + payload.length;
  if (scratch.length < most) scratch = new Uint8Array(Math.max(most, scratch.length * 2));
  scratch.set(chain, 0);
  const n = 32 + utf8.encodeInto(id, scratch.subarray(32)).written;
  scratch.set(payload, n);
  chain.set(liveCrypto().hash('sha256', scratch.subarray(0, n + payload.length), 'buffer'));
}

function chainCheap(a: Int32Array, slot: number, id: string, payload: Uint8Array): void {
  // FNV-1a in one lane, a murmur-style mix in the other, both seeded by the whole previous chain.
  let h1 = 0x811c9dc5 ^ a[slot]!;
  let h2 = 0x9e3779b9 ^ a[slot + 1]!;
  const step = (x: number): void => {
    h1 = Math.imul(h1 ^ x, 0x01000193);
    h2 = Math.imul(h2 ^ x, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  };
  for (let i = 0; i < id.length; i++) step(id.charCodeAt(i));
  step(0x10000); // ends the id: "1:2" + payload never equals "1:" + "2…"
  for (let i = 0; i < payload.length; i++) step(payload[i]!);
  a[slot] = h1;
  a[slot + 1] = h2;
}
