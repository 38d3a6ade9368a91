// The run digest: SHA-256 over every registered region's bytes and every atomic cell's value,
// in registration order, each preceded by its name. Record writes it into the end event; replay
// recomputes it and compares.

import type { Arena } from './arena.js';
import { elementTypes } from './arena.js';
import { EntryKind } from './arena_layout.js';
import { AtomicArray } from './sync/atomic.js';
import { liveCrypto } from './thread_api.js';

export function digestArena(arena: Arena, extra: Uint8Array[] = []): Uint8Array {
  const hash = liveCrypto().createHash('sha256'); // node:crypto loads here, not at start (thread_api.ts)
  for (const e of arena.entries()) {
    if (e.kind === EntryKind.Region) {
      const bytes = e.count * elementTypes[e.type]!.BYTES_PER_ELEMENT;
      hash.update(`region:${e.name}:${bytes}\n`);
      hash.update(arena.u8.slice(e.offset * 4, e.offset * 4 + bytes));
    } else if (e.kind === EntryKind.Atomic) {
      hash.update(`atomics:${e.name}:${e.count}\n`);
      const values = new Int32Array(e.count);
      for (let i = 0; i < e.count; i++) values[i] = Atomics.load(arena.a, e.offset + i * AtomicArray.SLOTS_PER_CELL);
      hash.update(new Uint8Array(values.buffer));
    }
  }
  for (const x of extra) hash.update(x);
  return new Uint8Array(hash.digest());
}
