// The plain job server's shared memory (jobserver.ts, jobserver_worker.ts): the example's store
// layout (examples/jobserver/store.ts) in one SharedArrayBuffer, under a PlainRwLock.

import { KEY_BYTES, Store } from '../../../examples/jobserver/store.js';
import { PlainRwLock } from './rwlock.js';

export function storeBytes(capacity: number): number {
  return (2 * capacity + 2 + 1) * 4 + capacity * KEY_BYTES;
}

export function attachStore(sab: SharedArrayBuffer, capacity: number): Store {
  const hashes = new Int32Array(sab, 0, capacity);
  const values = new Int32Array(sab, capacity * 4, capacity);
  const meta = new Int32Array(sab, 2 * capacity * 4, 2);
  const lock = new Int32Array(sab, (2 * capacity + 2) * 4, 1);
  const keys = new Uint8Array(sab, (2 * capacity + 3) * 4, capacity * KEY_BYTES);
  return Store.over(hashes, values, keys, meta, new PlainRwLock(lock, 0));
}
