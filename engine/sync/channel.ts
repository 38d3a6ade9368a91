// Bounded channel between threads carrying structured-clonable values (serialised with
// node:v8). A value larger than the slot size is refused.
//
// Two ordered sides, two object ids, two version words. The send side (id: sends and close) is
// one version sequence and the receive side (id + 1: receives and polls) another, both under the
// one guard. That is all replay needs: the k-th send's value is the k-th value received (one FIFO),
// the send order says which value is k-th and whether a send came after the close, and the
// receive order says which receiver took it and which receive or poll saw the channel closed and
// empty; a replayed receive or poll that finds its value not sent yet (or the close not done yet)
// waits for it. One sequence for both sides, as before, made replay re-enact every interleaving of
// sends with receives the recording happened to have: a main thread feeding a pool waited at each
// send for the receive the recording had done before it, and the two woke each other up to
// several times a value (the job server replayed at 1.3x its recording).
//
// Footprint: Channel.slots(capacity, bytesMax).  0 guard, 1 send version, 2 seq
// (guarded_object.ts), 3 head, 4 tail, 5 count, 6 closed, 7 capacity, 8 slot words, 9 receive
// version; then `capacity` slots of (1 length word + slot words).

import { serialize, deserialize } from 'node:v8';
import { Kind } from '../event.js';
import { limitExceeded, usage } from '../errors.js';
import type { Thread } from '../thread.js';
import { GUARDED_SLOTS, G_VERSION, ordered, orderedOutcome } from './guarded_object.js';

const HEAD = GUARDED_SLOTS;
const TAIL = GUARDED_SLOTS + 1;
const COUNT = GUARDED_SLOTS + 2;
const CLOSED = GUARDED_SLOTS + 3;
const CAPACITY = GUARDED_SLOTS + 4;
const SLOT_WORDS = GUARDED_SLOTS + 5;
const RECEIVE_VERSION = GUARDED_SLOTS + 6;
const HEADER = GUARDED_SLOTS + 7;

const pollOrdered = [Kind.PollOk, Kind.PollClosed] as const;

export type PollResult<T> = { ok: true; value: T } | { ok: false; closed: boolean };

export class Channel<T = unknown> {
  private readonly a: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(private readonly t: Thread, readonly id: number, private readonly s: number) {
    this.a = t.a;
    this.bytes = new Uint8Array(t.a.buffer);
  }

  static slots(capacity: number, bytesMax: number): number {
    return HEADER + capacity * (1 + Math.ceil(bytesMax / 4));
  }

  static init(a: Int32Array, s: number, capacity: number, bytesMax: number): void {
    a[s + CAPACITY] = capacity;
    a[s + SLOT_WORDS] = Math.ceil(bytesMax / 4);
  }

  /** The slot of the send side's version word (the main thread waits on it asynchronously in replay). */
  get versionSlot(): number {
    return this.s + G_VERSION;
  }

  get capacity(): number {
    return this.a[this.s + CAPACITY]!;
  }

  /** Sends `value`, waiting while the channel is full. */
  send(value: T): void {
    this.sendSerialized(serialize(value));
  }

  /**
   * Sends a value already serialized (node:v8's serialize): session.input() has its bytes from
   * the recording (record: the bytes it logs; replay: the bytes it read), so it does not serialize
   * the value a second time, and replay puts the recorded bytes themselves in the channel.
   */
  sendSerialized(payload: Uint8Array): void {
    const a = this.a;
    const s = this.s;
    const slotBytes = a[s + SLOT_WORDS]! * 4;
    if (payload.length > slotBytes) throw limitExceeded('bytesMax', payload.length, slotBytes, `a value sent on channel ${this.id}`);
    let closed = false;
    ordered(this.t, Kind.Send, this.id, s, () => {
      if (a[s + CLOSED] !== 0) {
        closed = true;
        return true;
      }
      if (a[s + COUNT]! >= a[s + CAPACITY]!) return false;
      const slot = this.slotAt(a[s + TAIL]!);
      a[slot] = payload.length;
      this.bytes.set(payload, (slot + 1) * 4);
      a[s + TAIL] = (a[s + TAIL]! + 1) % a[s + CAPACITY]!;
      a[s + COUNT]!++;
      return true;
    });
    if (closed) throw usage(`send on closed channel ${this.id}`);
  }

  /** Receives the next value, waiting while the channel is empty; undefined once closed and empty. */
  receive(): T | undefined {
    let got: Uint8Array | null = null;
    ordered(this.t, Kind.Recv, this.id + 1, this.s, () => {
      got = this.takeHead();
      return got !== null || this.a[this.s + CLOSED] !== 0;
    }, 0, this.s + RECEIVE_VERSION);
    return got === null ? undefined : deserialize(got) as T;
  }

  /**
   * Takes a value if one is there, without waiting. "Empty and closed" is read in the ordered step
   * and takes a version (a poll-until-closed loop ends at the same poll in replay, after the
   * close, so what the closer wrote before closing is there); "empty, still open" is only logged.
   */
  poll(): PollResult<T> {
    let got: Uint8Array | null = null;
    const kind = orderedOutcome(this.t, this.id + 1, this.s, () => {
      got = this.takeHead();
      return got !== null ? Kind.PollOk : this.a[this.s + CLOSED] !== 0 ? Kind.PollClosed : Kind.PollEmpty;
    }, pollOrdered, Kind.PollEmpty, this.s + RECEIVE_VERSION);
    if (kind === Kind.PollOk) return { ok: true, value: deserialize(got!) as T };
    return { ok: false, closed: kind === Kind.PollClosed };
  }

  /** Closes the channel: receivers drain what is left, then get undefined. */
  close(): void {
    ordered(this.t, Kind.Close, this.id, this.s, () => {
      this.a[this.s + CLOSED] = 1;
      return true;
    });
  }

  private slotAt(index: number): number {
    return this.s + HEADER + index * (1 + this.a[this.s + SLOT_WORDS]!);
  }

  /**
   * Under the guard: takes the head value's bytes (a copy), or null if the channel is empty. The
   * caller deserializes them after leaving the guard, so the guard is held for a copy, not for a
   * deserialize (which a sender, the main thread feeding a pool, would otherwise wait out).
   */
  private takeHead(): Uint8Array | null {
    const a = this.a;
    const s = this.s;
    if (a[s + COUNT] === 0) return null;
    const slot = this.slotAt(a[s + HEAD]!);
    const length = a[slot]!;
    const bytes = this.bytes.slice((slot + 1) * 4, (slot + 1) * 4 + length);
    a[s + HEAD] = (a[s + HEAD]! + 1) % a[s + CAPACITY]!;
    a[s + COUNT]!--;
    return bytes;
  }
}
