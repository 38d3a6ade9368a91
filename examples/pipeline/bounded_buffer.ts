// A bounded buffer of (tag, value) pairs in registered shared memory, guarded by a lockstep mutex
// and two lockstep condition variables (notEmpty, notFull): the textbook monitor (Hoare 1974;
// Birrell, "An Introduction to Programming with Threads", 1989). Producers count themselves out
// with producerDone(); take() returns null once the buffer is empty and every producer is done.
//
// Memory: region NAME, Int32Array(HEADER + capacity × 2):
//   0 head (next slot to take), 1 tail (next slot to fill), 2 count, 3 producers still producing;
//   then `capacity` items of 2 words: tag, value.
// Objects: mutex NAME.lock guards every word of the region; conditions NAME.notEmpty (waited on
// by takers) and NAME.notFull (waited on by putters), always with NAME.lock held.

import type { LockstepThread } from 'lockstep';

/** What the buffer needs of its lock and conditions: lockstep's, or plain Atomics ones (bench/macro/plain). */
export interface BufferLock {
  lock(): void;
  unlock(): void;
}
export interface BufferCondition {
  wait(lock: BufferLock): void;
  notify(): void;
  notifyAll(): void;
}

const HEAD = 0;
const TAIL = 1;
const COUNT = 2;
const PRODUCERS = 3;
const HEADER = 4;
const ITEM_WORDS = 2;

export class BoundedBuffer {
  private readonly capacity: number;

  private constructor(
    private readonly a: Int32Array,
    private readonly lock: BufferLock,
    private readonly notEmpty: BufferCondition,
    private readonly notFull: BufferCondition,
  ) {
    this.capacity = (a.length - HEADER) / ITEM_WORDS;
  }

  /** Main thread: registers the buffer's memory and objects, expecting `producers` producers. */
  static create(lt: LockstepThread, name: string, capacity: number, producers: number): BoundedBuffer {
    if (!(Number.isInteger(capacity) && capacity > 0 && Number.isInteger(producers) && producers > 0)) {
      throw new Error(`buffer ${name} needs a positive capacity and producer count`);
    }
    const a = lt.shared(name, Int32Array, HEADER + capacity * ITEM_WORDS);
    a[PRODUCERS] = producers;
    return new BoundedBuffer(a, lt.mutex(`${name}.lock`), lt.condition(`${name}.notEmpty`), lt.condition(`${name}.notFull`));
  }

  /**
   * The same buffer over memory laid out as above (the header's producer count set) and a lock
   * and conditions from elsewhere: the plain worker_threads baseline runs this very code.
   */
  static over(a: Int32Array, lock: BufferLock, notEmpty: BufferCondition, notFull: BufferCondition): BoundedBuffer {
    return new BoundedBuffer(a, lock, notEmpty, notFull);
  }

  /** Int32 slots of a buffer of `capacity` items, and the header slot that holds the producer count. */
  static slots(capacity: number): number {
    return HEADER + capacity * ITEM_WORDS;
  }

  static readonly PRODUCERS_SLOT = PRODUCERS;

  /** A worker: attaches to the buffer the main thread created. */
  static attach(lt: LockstepThread, name: string): BoundedBuffer {
    return new BoundedBuffer(lt.shared(name, Int32Array), lt.mutex(`${name}.lock`), lt.condition(`${name}.notEmpty`), lt.condition(`${name}.notFull`));
  }

  /** Appends an item, waiting while the buffer is full. */
  put(tag: number, value: number): void {
    const a = this.a;
    this.lock.lock();
    try {
      while (a[COUNT] === this.capacity) this.notFull.wait(this.lock);
      const at = HEADER + a[TAIL]! * ITEM_WORDS;
      a[at] = tag;
      a[at + 1] = value;
      a[TAIL] = (a[TAIL]! + 1) % this.capacity;
      a[COUNT]!++;
      this.notEmpty.notify();
    } finally {
      this.lock.unlock();
    }
  }

  /** Takes the oldest item, waiting while the buffer is empty; null once every producer is done. */
  take(): [tag: number, value: number] | null {
    const a = this.a;
    this.lock.lock();
    try {
      while (a[COUNT] === 0 && a[PRODUCERS]! > 0) this.notEmpty.wait(this.lock);
      if (a[COUNT] === 0) return null;
      const at = HEADER + a[HEAD]! * ITEM_WORDS;
      const item: [number, number] = [a[at]!, a[at + 1]!];
      a[HEAD] = (a[HEAD]! + 1) % this.capacity;
      a[COUNT]!--;
      this.notFull.notify();
      return item;
    } finally {
      this.lock.unlock();
    }
  }

  /** A producer is done: the last one wakes every taker so that they can see the end. */
  producerDone(): void {
    this.lock.lock();
    try {
      if (--this.a[PRODUCERS]! === 0) this.notEmpty.notifyAll();
    } finally {
      this.lock.unlock();
    }
  }
}
