// The output ids already delivered to the caller, bounded: past seenMax ids the oldest is forgotten
// first (FIFO, not LRU: seeing an id again does not make it younger). Forgetting is safe as long as
// duplicates arrive soon after the original, which they do: a new primary re-sends only the
// outputs around the failover. A Set iterates in insertion order, so its first value is the oldest.

import { assert } from '../engine/assert.js';

export class Seen {
  private readonly ids = new Set<string>();

  constructor(readonly seenMax: number) {
    assert(Number.isSafeInteger(seenMax) && seenMax >= 1, `seen: seenMax ${seenMax} must be a positive integer`);
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Remembers `id`; false when it was already remembered (a duplicate). */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.seenMax) {
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
    assert(this.ids.size <= this.seenMax, 'seen: the set outgrew seenMax');
    return true;
  }
}
