// Barrier for a fixed number of parties. Arrival is ordered, so the thread that completes a
// generation (the "serial" thread, which wait() returns true to) is the same in replay.
//
// Footprint: Barrier.SLOTS = 6.  0 guard, 1 version, 2 seq (guarded_object.ts), 3 arrived,
// 4 generation, 5 parties.

import { Kind } from '../event.js';
import type { Thread } from '../thread.js';
import { GUARDED_SLOTS, ordered } from './guarded_object.js';

const ARRIVED = GUARDED_SLOTS;
const GENERATION = GUARDED_SLOTS + 1;
const PARTIES = GUARDED_SLOTS + 2;

export class Barrier {
  static readonly SLOTS = GUARDED_SLOTS + 3;

  constructor(private readonly t: Thread, readonly id: number, private readonly s: number) {}

  static init(a: Int32Array, s: number, parties: number): void {
    a[s + PARTIES] = parties;
  }

  get parties(): number {
    return this.t.a[this.s + PARTIES]!;
  }

  /** Waits until all parties arrive; returns true in exactly one of them (the last to arrive). */
  wait(): boolean {
    const a = this.t.a;
    const s = this.s;
    let serial = false;
    let generation = 0;
    ordered(this.t, Kind.Barrier, this.id, s, () => {
      generation = a[s + GENERATION]!;
      a[s + ARRIVED]!++;
      if (a[s + ARRIVED] === a[s + PARTIES]) {
        a[s + ARRIVED] = 0;
        Atomics.add(a, s + GENERATION, 1);
        serial = true;
      }
      return true;
    });
    if (serial) {
      Atomics.notify(a, s + GENERATION);
      return true;
    }
    while (Atomics.load(a, s + GENERATION) === generation) Atomics.wait(a, s + GENERATION, generation);
    return false;
  }
}
