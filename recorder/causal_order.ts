// The drain's ordering rule, as a pure core: an ordered event (object, v) may ship only after
// (object, v-1) has shipped. Shipping every thread's events in that order makes every shipped
// prefix a consistent cut (each event's causal past ships before it), which cutover and the
// output rule rely on. No I/O, threads or clock here, so a seeded test can drive it.
//
// Events are read through `word(p)`, position p being a wrapping int32 counter, so the same code
// scans a ring in shared memory and a plain array in tests.

import { hasPayload, isOrdered, kindOf, objectOf, payloadWords } from '../engine/event.js';

export interface WordSource {
  word(p: number): number;
}

export class CausalOrder {
  /** Per object, the version whose event may ship next. */
  private readonly next: Int32Array;

  constructor(objectsMax: number) {
    this.next = new Int32Array(objectsMax + 1);
  }

  /** A log that starts mid-run: per object, the version its first shipped event has. */
  startAt(versions: Int32Array): void {
    this.next.set(versions.subarray(0, this.next.length));
  }

  /** Per object, the version whose event ships next (a state-transfer cut). */
  versionsInto(out: Int32Array): void {
    out.set(this.next.subarray(0, out.length));
  }

  /**
   * One ordered event (object, version) asks to ship: true, and marked shipped, if its
   * predecessor has shipped. The drain calls it while it copies a ring (one scan per event).
   */
  admit(object: number, version: number): boolean {
    if (this.next[object] !== version) return false;
    this.next[object] = (version + 1) | 0;
    return true;
  }

  /**
   * Returns the end of the longest prefix of [from, to) that may ship now, and marks the versions
   * in it as shipped. Stops at the first ordered event whose predecessor has not shipped. Also
   * reports how many events the prefix holds in `counted.events`.
   */
  readyPrefix(src: WordSource, from: number, to: number, counted: { events: number }): number {
    let p = from;
    let events = 0;
    while (((to - p) | 0) >= 2) {
      const h = src.word(p);
      const kind = kindOf(h);
      let n = 2;
      if (hasPayload(kind)) {
        n += payloadWords(src.word(p + 1));
        if (((to - p) | 0) < n) break; // payload not fully published yet
      } else if (isOrdered(kind)) {
        if (!this.admit(objectOf(h), src.word(p + 1))) break;
      }
      p = (p + n) | 0;
      events++;
    }
    counted.events = events;
    return p;
  }
}
