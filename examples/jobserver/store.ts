// The jobserver's shared state: a key-value store of Int32 values in registered shared memory
// (open addressing, linear probing), under one lockstep read-write lock: get and sum share it,
// writes hold it alone. Every write also folds (key, value) into an order-sensitive journal hash,
// so the digest tells two write orders apart even when they end with the same values.
//
// Memory (capacity slots):
//   "kv.hashes"  Int32Array(capacity)             0: empty; else the key's FNV-1a hash (never 0)
//   "kv.values"  Int32Array(capacity)
//   "kv.keys"    Uint8Array(capacity × KEY_BYTES)  the key's bytes, zero-padded
//   "kv.meta"    Int32Array(2)                    0: keys in use, 1: journal hash
// Lock: rwlock "kv" guards all four regions.

import type { LockstepThread } from 'lockstep';

/** What the store needs of its lock: lockstep's RwLock, or a plain Atomics one (bench/macro/plain). */
export interface StoreLock {
  withRead<T>(fn: () => T): T;
  withWrite<T>(fn: () => T): T;
}

export const KEY_BYTES = 16;
const USED = 0;
const JOURNAL = 1;

export class StoreError extends Error {}

export class Store {
  private constructor(
    private readonly hashes: Int32Array,
    private readonly values: Int32Array,
    private readonly keys: Uint8Array,
    private readonly meta: Int32Array,
    private readonly lock: StoreLock,
  ) {}

  /** The same store over memory and a lock from elsewhere: the plain worker_threads baseline runs this very code. */
  static over(hashes: Int32Array, values: Int32Array, keys: Uint8Array, meta: Int32Array, lock: StoreLock): Store {
    return new Store(hashes, values, keys, meta, lock);
  }

  /** Main thread: registers the store's memory and its lock. */
  static create(lt: LockstepThread, capacity: number): Store {
    return new Store(lt.shared('kv.hashes', Int32Array, capacity), lt.shared('kv.values', Int32Array, capacity),
      lt.shared('kv.keys', Uint8Array, capacity * KEY_BYTES), lt.shared('kv.meta', Int32Array, 2), lt.rwlock('kv'));
  }

  /** A task: attaches to the store the main thread created. */
  static attach(lt: LockstepThread): Store {
    return new Store(lt.shared('kv.hashes', Int32Array), lt.shared('kv.values', Int32Array),
      lt.shared('kv.keys', Uint8Array), lt.shared('kv.meta', Int32Array), lt.rwlock('kv'));
  }

  get(key: string): number | null {
    const k = encodeKey(key);
    return this.lock.withRead(() => {
      const slot = this.find(k);
      return slot >= 0 && this.hashes[slot] !== 0 ? this.values[slot]! : null;
    });
  }

  /** Sets `key` to `next(old)` (old is null for a new key); returns the old and the new value. */
  update(key: string, next: (old: number | null) => number): { old: number | null; now: number } {
    const k = encodeKey(key);
    return this.lock.withWrite(() => {
      const slot = this.find(k);
      if (slot < 0) throw new StoreError(`the store is full (${this.hashes.length} keys)`);
      const fresh = this.hashes[slot] === 0;
      const old = fresh ? null : this.values[slot]!;
      const now = next(old) | 0;
      if (fresh) {
        this.hashes[slot] = k.hash;
        this.keys.set(k.bytes, slot * KEY_BYTES);
        this.meta[USED]!++;
      }
      this.values[slot] = now;
      this.meta[JOURNAL] = Math.imul(this.meta[JOURNAL]! ^ k.hash, 0x01000193) ^ now;
      return { old, now };
    });
  }

  /** The number of keys and the sum of their values. */
  sum(): { keys: number; total: number } {
    return this.lock.withRead(() => {
      let total = 0;
      for (let slot = 0; slot < this.hashes.length; slot++) if (this.hashes[slot] !== 0) total += this.values[slot]!;
      return { keys: this.meta[USED]!, total };
    });
  }

  /** The key's slot, or the empty slot where it would go, or -1 if the table is full. Lock held. */
  private find(k: { bytes: Uint8Array; hash: number }): number {
    const n = this.hashes.length;
    let slot = (k.hash >>> 0) % n;
    for (let probes = 0; probes < n; probes++, slot = (slot + 1) % n) {
      const h = this.hashes[slot]!;
      if (h === 0) return slot;
      if (h === k.hash && this.keyIs(slot, k.bytes)) return slot;
    }
    return -1;
  }

  private keyIs(slot: number, bytes: Uint8Array): boolean {
    const base = slot * KEY_BYTES;
    for (let i = 0; i < bytes.length; i++) if (this.keys[base + i] !== bytes[i]) return false;
    return this.keys[base + bytes.length] === 0;
  }
}

function encodeKey(key: string): { bytes: Uint8Array; hash: number } {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(key)) throw new StoreError(`bad key "${key}": 1 to 15 letters, digits, _ . -`);
  const bytes = new TextEncoder().encode(key);
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return { bytes, hash: h === 0 ? 1 : h };
}
