// One logical thread's event ring: single producer (the thread), single consumer (the drain),
// in the shared arena. No lock, no shared counter: the producer owns `tail`, the drain owns `head`.
//
// Layout (Int32 slots from `base`; the producer's tail on a cache line of its own, so that its
// store at every event does not take the line that holds the drain's head):
//   0 head     words consumed by the drain (wrapping int32 counter)
//   1 waiting  1 while the producer waits for space
//   16 tail    words published by the producer (wrapping int32 counter)
//   32..       `words` data words, a power of two; position p lives at base + 32 + (p & (words-1))
//
// Events are written as event.ts describes: two words, then the payload padded to whole words.
//
// The drain sleeps while rings fill (a drain that polled every tail took a core from the program
// and bounced the tail's cache line at every event): a producer rings the arena's doorbell when
// its ring is more than a quarter full (BELL_FRACTION), again every 1/8 ring while it stays so, and on
// every event the drain must ship at once (an output: the gate waits for it). Both checks cost the
// push one comparison: `limit` is the nearer of "the ring is full" and "time to ring".

import { C_ABORT, C_DOORBELL, RING_HEADER_SLOTS } from '../engine/arena_layout.js';
import { aborted, drainStall, limitExceeded } from '../engine/errors.js';
import { LITTLE_ENDIAN } from '../engine/event.js';
import { TSO } from '../engine/memory_order.js';
import type { EventRing } from '../engine/thread_ports.js';

export const RING_HEAD = 0;
export const RING_WAITING = 1;
/** 64 bytes (a cache line) after the head. */
export const RING_TAIL = 16;
export { RING_HEADER_SLOTS };

const WAIT_SLICE_MS = 20;
/**
 * The producer rings the doorbell once its ring holds more than words / BELL_FRACTION words: a
 * quarter, so that a drain slow to be scheduled (a loaded machine) has three quarters of a ring
 * before the producer waits (at a half, the bank's tellers spent 12% of their time waiting).
 */
const BELL_FRACTION = 4;
/** ... and again every words / BELL_REPEAT words while the drain has not caught up. */
const BELL_REPEAT = 8;

/** pushFloat64's scratch: a float's bytes, and the same bytes as two words. */
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const f64Words = new Int32Array(f64.buffer);

/** Wakes the drain (it sleeps on the doorbell word between passes). */
export function ringDoorbell(a: Int32Array): void {
  Atomics.add(a, C_DOORBELL, 1);
  Atomics.notify(a, C_DOORBELL);
}

export class RingWriter implements EventRing {
  private tail: number;
  private headSeen: number;
  /** Position at which a push must take the slow path: the ring is full there, or the doorbell is due. */
  private limit = 0;
  private readonly data: number;
  private readonly mask: number;

  constructor(
    private readonly a: Int32Array,
    private readonly base: number,
    private readonly words: number,
    private readonly thread: number,
    private readonly stallMsMax: number,
  ) {
    this.tail = Atomics.load(a, base + RING_TAIL);
    this.headSeen = Atomics.load(a, base + RING_HEAD);
    this.data = base + RING_HEADER_SLOTS;
    this.mask = words - 1;
    this.setLimit();
  }

  /**
   * Waits, if it must, until `n` words are free, so that the next pushes of up to `n` words do
   * not wait. Sync objects call it before they take a lock: a thread must never wait for the
   * drain while it holds a lock that other threads are spinning on.
   */
  ensure(n: number): void {
    if (((this.limit - this.tail) | 0) < n) this.slow(n);
  }

  /** Wakes the drain now (an output: the gate holds it until its frame is shipped and acknowledged). */
  wake(): void {
    ringDoorbell(this.a);
  }

  push(head: number, arg: number): void {
    const t = this.tail;
    if (((this.limit - t) | 0) < 2) this.slow(2);
    const a = this.a;
    a[this.data + (t & this.mask)] = head;
    a[this.data + ((t + 1) & this.mask)] = arg;
    this.tail = (t + 2) | 0;
    this.publish();
  }

  /** Pushes an event whose payload follows it; `arg` is the payload's byte length. */
  pushPayload(head: number, payload: Uint8Array): void {
    const n = 2 + ((payload.length + 3) >>> 2);
    if (n > this.words) throw limitExceeded('ringBytes', n * 4, this.words * 4, 'one event payload');
    const t = this.tail;
    if (((this.limit - t) | 0) < n) this.slow(n);
    const a = this.a;
    const d = this.data;
    const m = this.mask;
    a[d + (t & m)] = head;
    a[d + ((t + 1) & m)] = payload.length;
    // Little-endian words assembled from the bytes: no view or subarray per word (an 8-byte
    // random value cost three allocations before, and the GC they caused).
    const length = payload.length;
    const whole = length & ~3;
    let w = 2;
    for (let i = 0; i < whole; i += 4, w++) {
      a[d + ((t + w) & m)] = payload[i]! | (payload[i + 1]! << 8) | (payload[i + 2]! << 16) | (payload[i + 3]! << 24);
    }
    if (whole < length) {
      let x = 0;
      for (let i = whole, shift = 0; i < length; i++, shift += 8) x |= payload[i]! << shift;
      a[d + ((t + w) & m)] = x;
    }
    this.tail = (t + n) | 0;
    this.publish();
  }

  /**
   * Pushes a value event whose payload is the 8 bytes of `x` (a clock reading, a random number):
   * the same words pushPayload makes of the float's bytes, from a word view of them instead of a
   * byte loop (the bank records three per transfer).
   */
  pushFloat64(head: number, x: number): void {
    if (!LITTLE_ENDIAN) {
      f64[0] = x;
      this.pushPayload(head, f64Bytes);
      return;
    }
    const t = this.tail;
    if (((this.limit - t) | 0) < 4) this.slow(4);
    const a = this.a;
    const d = this.data;
    const m = this.mask;
    f64[0] = x;
    a[d + (t & m)] = head;
    a[d + ((t + 1) & m)] = 8;
    a[d + ((t + 2) & m)] = f64Words[0]!;
    a[d + ((t + 3) & m)] = f64Words[1]!;
    this.tail = (t + 4) | 0;
    this.publish();
  }

  /**
   * Publishes the tail to the drain. On x86 a plain store: stores become visible in program order
   * there, so the drain, which loads the tail and then the words before it, never sees the tail
   * ahead of an event's words, and every point where the producer then waits for someone who reads
   * the tail begins with a locked read-modify-write (the doorbell's add, a parked flag's exchange,
   * a futex lock's compareExchange, a postMessage's mutex), which drains the store first
   * (engine/memory_order.ts). An Atomics.store is an xchg behind a builtin call: ~15 ns a recorded
   * event, the largest part of the bank's per-event recording cost. Elsewhere an Atomics.store.
   */
  private publish(): void {
    if (TSO) this.a[this.base + RING_TAIL] = this.tail;
    else Atomics.store(this.a, this.base + RING_TAIL, this.tail);
  }

  /**
   * The next `n` words reach `limit`: rings the doorbell if the ring is past its threshold, waits
   * if it lacks room, and sets the next limit. Everything before `tail` is published, so a drain
   * woken here finds the events that filled the ring.
   */
  private slow(n: number): void {
    this.headSeen = Atomics.load(this.a, this.base + RING_HEAD);
    const used = (this.tail + n - this.headSeen) | 0;
    if (used > this.words / BELL_FRACTION) {
      ringDoorbell(this.a);
      if (used > this.words) this.reserve(n);
      // Still past the threshold: ring again after another slice if the drain has not caught up.
      this.setLimit((this.tail + this.words / BELL_REPEAT) | 0);
    } else {
      this.setLimit();
    }
  }

  /** The nearer of "ring full" and the next doorbell (`bellAt`, default: the threshold). */
  private setLimit(bellAt = (this.headSeen + this.words / BELL_FRACTION) | 0): void {
    const full = (this.headSeen + this.words) | 0;
    this.limit = ((full - bellAt) | 0) < 0 ? full : bellAt;
  }

  /** Waits until `n` words are free: the ring is bounded, so a thread that outruns the drain waits. */
  private reserve(n: number): void {
    const a = this.a;
    let waitedMs = 0;
    for (;;) {
      this.headSeen = Atomics.load(a, this.base + RING_HEAD);
      if (((this.tail - this.headSeen) | 0) <= this.words - n) return;
      Atomics.store(a, this.base + RING_WAITING, 1);
      ringDoorbell(a);
      if (Atomics.wait(a, this.base + RING_HEAD, this.headSeen, WAIT_SLICE_MS) === 'timed-out') {
        waitedMs += WAIT_SLICE_MS;
        if (Atomics.load(a, C_ABORT) !== 0) throw aborted(this.thread);
        if (waitedMs >= this.stallMsMax) throw drainStall(this.thread, waitedMs);
      }
    }
  }
}

/** The drain's side of a ring. */
export class RingReader {
  readonly data: number;
  readonly mask: number;
  /** Freed so far (published in the ring's head word). */
  head: number;
  /** Taken so far by the drain's current pass; freed at its end (release). */
  taken: number;

  constructor(private readonly a: Int32Array, private readonly base: number, readonly words: number) {
    this.data = base + RING_HEADER_SLOTS;
    this.mask = words - 1;
    this.head = Atomics.load(a, base + RING_HEAD);
    this.taken = this.head;
  }

  tail(): number {
    return Atomics.load(this.a, this.base + RING_TAIL);
  }

  word(p: number): number {
    return this.a[this.data + (p & this.mask)]!;
  }

  /** Frees everything before `p` and wakes the producer if it waits for space. */
  release(p: number): void {
    this.head = p;
    Atomics.store(this.a, this.base + RING_HEAD, p);
    if (Atomics.load(this.a, this.base + RING_WAITING) !== 0) {
      Atomics.store(this.a, this.base + RING_WAITING, 0);
      Atomics.notify(this.a, this.base + RING_HEAD);
    }
  }
}
