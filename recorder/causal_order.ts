// The drain's ordering rule, as a pure core: an ordered event (object, v) may ship only after
// (object, v-1) has shipped. Shipping every thread's events in that order makes every shipped
// prefix a consistent cut (each event's causal past ships before it), which cutover and the
// output rule rely on. No I/O, threads or clock here, so a seeded test can drive it.
//
// Events are read through `word(p)`, position p being a wrapping int32 counter, so the same code
// scans a ring in shared memory and a plain array in tests.

import { Kind, LITTLE_ENDIAN, hasPayload, isOrdered, kindOf, objectOf, payloadWords } from '../engine/event.js';
import type { ChunkBuilder } from './chunk_builder.js';

export interface WordSource {
  word(p: number): number;
}

/** What one take copied. */
export interface Taken {
  events: number;
  /** Output events among them (the output gate counts them per thread). */
  outputs: number;
  /** Where the End event's payload (the run's digest) starts in the chunk's bytes (-1: no End), and its length. */
  endAt: number;
  endBytes: number;
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
   * The drain's one step: copies the longest prefix of ring positions [from, to) that may ship
   * now into `into` (two words per event, payload bytes apart), marks the versions in it as
   * shipped, and returns where it stopped: at the first ordered event whose predecessor has not
   * shipped, or at an event not wholly published. One scan per event: the order check and the
   * copy are the same loop. `taken` says what the prefix held.
   */
  take(src: WordSource, from: number, to: number, into: ChunkBuilder, taken: Taken): number {
    let p = from;
    taken.events = 0;
    taken.outputs = 0;
    taken.endAt = -1;
    const available = (to - p) | 0;
    if (available < 2) return p;
    // Room for everything the range holds, once: no event needs more words, or payload bytes,
    // than the ring words it takes (a check per payload event showed in the bank's profile).
    into.roomForWords(available);
    into.roomForBytes(available * 4);
    const words = into.words;
    const view = into.view;
    const words32 = into.words32;
    let w = into.wordsUsed;
    let at = into.bytesUsed;
    let count = 0;
    let outputs = 0;
    while (((to - p) | 0) >= 2) {
      const h = src.word(p);
      const kind = kindOf(h);
      const arg = src.word(p + 1);
      if (hasPayload(kind)) {
        const n = payloadWords(arg);
        if (((to - p) | 0) < 2 + n) break; // payload not wholly published yet
        words[w++] = h;
        words[w++] = arg;
        p = (p + 2) | 0;
        if ((at & 3) === 0 && LITTLE_ENDIAN) {
          // Aligned (8-byte values keep it so): whole words, not a DataView call per word.
          for (let k = 0, i = at >> 2; k < n; k++) words32[i + k] = src.word(p + k);
        } else {
          for (let k = 0; k < n; k++) view.setInt32(at + k * 4, src.word(p + k), true);
        }
        if (kind === Kind.End) {
          taken.endAt = at;
          taken.endBytes = arg;
        } else if (kind === Kind.Output) outputs++;
        at += arg;
        p = (p + n) | 0;
      } else {
        if (isOrdered(kind) && !this.admit(objectOf(h), arg)) break;
        words[w++] = h;
        words[w++] = arg;
        p = (p + 2) | 0;
      }
      count++;
    }
    into.wordsUsed = w;
    into.bytesUsed = at;
    taken.events = count;
    taken.outputs = outputs;
    return p;
  }
}
