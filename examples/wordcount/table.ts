// The shared word-count table: an open-addressing hash table (linear probing) in registered
// shared memory, guarded by striped lockstep mutexes. Created on the main thread, attached by
// name in the pool's tasks.
//
// Memory (capacity slots, a power of two):
//   "wc.hashes"  Int32Array(capacity)            0: empty slot; else the word's FNV-1a hash (never 0)
//   "wc.counts"  Int32Array(capacity)            occurrences of the slot's word
//   "wc.keys"    Uint8Array(capacity × KEY_BYTES) the word's bytes, zero-padded
// Locks: "stripe", `stripes` mutexes. Stripe k guards the contiguous run of slots
// [k × capacity / stripes, (k + 1) × capacity / stripes), so a linear probe usually needs one
// lock. Every read and write of a slot happens under its stripe's lock; a slot goes from empty to
// a word exactly once and never changes word again, so a prober that saw another word in a slot
// may let go of that stripe and move on. Two tasks adding the same new word walk the same probe
// sequence, and whichever reaches the first empty slot first claims it; the other finds it there.
//
// Which of two colliding words gets the nearer slot depends on which task got there first: slot
// placement, and with it the table's bytes and the run's digest, depend on the interleaving,
// while every word's count does not.

import type { LockstepThread } from 'lockstep';
import { WORD_BYTES_MAX } from './corpus.js';

/** Bytes per key slot: the longest word plus at least one zero byte. */
export const KEY_BYTES = 16;

/** FNV-1a over `bytes[start, end)`, never 0 (0 marks an empty slot). */
export function hashWord(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h === 0 ? 1 : h;
}

/** What the table needs of a lock: a lockstep Mutex, or a plain Atomics mutex in bench/macro/plain. */
export interface StripeLock {
  lock(): void;
  unlock(): void;
}

export class WordTable {
  private readonly mask: number;
  private readonly stripeShift: number;

  private constructor(
    private readonly hashes: Int32Array,
    private readonly counts: Int32Array,
    private readonly keys: Uint8Array,
    private readonly stripes: StripeLock[],
  ) {
    this.mask = hashes.length - 1;
    this.stripeShift = Math.log2(hashes.length / stripes.length);
  }

  /** Main thread: registers the table's memory and its stripe locks. */
  static create(lt: LockstepThread, capacity: number, stripes: number): WordTable {
    if (!isPowerOfTwo(capacity) || !isPowerOfTwo(stripes) || stripes > capacity) {
      throw new Error(`the table needs a power-of-two capacity and stripe count, stripes <= capacity (got ${capacity}, ${stripes})`);
    }
    return new WordTable(
      lt.shared('wc.hashes', Int32Array, capacity),
      lt.shared('wc.counts', Int32Array, capacity),
      lt.shared('wc.keys', Uint8Array, capacity * KEY_BYTES),
      lt.mutexes('stripe', stripes),
    );
  }

  /** A task: attaches to the table the main thread created. */
  static attach(lt: LockstepThread): WordTable {
    return new WordTable(lt.shared('wc.hashes', Int32Array), lt.shared('wc.counts', Int32Array),
      lt.shared('wc.keys', Uint8Array), lt.mutexes('stripe'));
  }

  /**
   * The same table over memory and locks from elsewhere: the plain worker_threads baseline in
   * bench/macro/plain runs this very code under hand-written Atomics mutexes.
   */
  static over(hashes: Int32Array, counts: Int32Array, keys: Uint8Array, stripes: StripeLock[]): WordTable {
    return new WordTable(hashes, counts, keys, stripes);
  }

  get capacity(): number {
    return this.hashes.length;
  }

  /**
   * Adds `n` occurrences of `word` (lowercase bytes, at most WORD_BYTES_MAX) whose hash is
   * `hash`. Returns the number of slots probed.
   */
  add(word: Uint8Array, hash: number, n: number): number {
    if (word.length === 0 || word.length > WORD_BYTES_MAX) throw new Error(`a word of ${word.length} bytes does not fit a key slot`);
    let slot = hash & this.mask;
    let held = -1;
    for (let probes = 1; probes <= this.capacity; probes++) {
      const stripe = slot >>> this.stripeShift;
      if (stripe !== held) {
        if (held >= 0) this.stripes[held]!.unlock();
        this.stripes[stripe]!.lock();
        held = stripe;
      }
      const h = this.hashes[slot]!;
      if (h === 0) {
        this.hashes[slot] = hash;
        this.keys.set(word, slot * KEY_BYTES);
        this.counts[slot] = n;
        this.stripes[held]!.unlock();
        return probes;
      }
      if (h === hash && this.keyIs(slot, word)) {
        this.counts[slot]! += n;
        this.stripes[held]!.unlock();
        return probes;
      }
      slot = (slot + 1) & this.mask;
    }
    this.stripes[held]!.unlock();
    throw new Error(`the word table is full (${this.capacity} slots): raise its capacity`);
  }

  /**
   * Every word and its count. Only for the main thread once every task has finished: it reads
   * without the locks.
   */
  *entries(): Generator<{ word: string; count: number; slot: number }> {
    const decoder = new TextDecoder();
    for (let slot = 0; slot < this.capacity; slot++) {
      if (this.hashes[slot] === 0) continue;
      const key = this.keys.subarray(slot * KEY_BYTES, (slot + 1) * KEY_BYTES);
      const end = key.indexOf(0);
      yield { word: decoder.decode(key.subarray(0, end < 0 ? KEY_BYTES : end)), count: this.counts[slot]!, slot };
    }
  }

  private keyIs(slot: number, word: Uint8Array): boolean {
    const base = slot * KEY_BYTES;
    for (let i = 0; i < word.length; i++) if (this.keys[base + i] !== word[i]) return false;
    return word.length === KEY_BYTES || this.keys[base + word.length] === 0;
  }
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}
