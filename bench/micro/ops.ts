// The micro benchmark's operations: the hot operation of every sync object, as a loop of `n`
// iterations, uncontended (the main thread alone) and contended (two workers on one object). The
// same loops run in modes off, record and replay, and where a hand-written equivalent exists
// (Drepper's mutex, bare Atomics calls) beside it. Every loop is its own function, so each call
// site inside sees one class only.
//
// Objects (created on the main thread by createObjects, attached by name in workers):
//   "u.*"  the uncontended set, used by the main thread only (its barrier has 1 party)
//   "c.*"  the contended set, shared by the two workers (its barrier has 2 parties)
// Each set: a mutex, a condition, a semaphore of 1 permit, a barrier, a read-write lock, one
// atomic cell, a channel of capacity 64, and a region of 2 words: 0 a critical-section word that
// every exclusive section folds the thread id into (an order-sensitive hash, so a replay that took
// the object in another order ends with another digest), 1 the condition round trip's turn.

import type { AtomicArray, Barrier, Channel, Condition, LockstepThread, Mutex, RwLock, Semaphore } from 'lockstep';
import { DrepperMutex } from '../drepper_mutex.js';

export const CHANNEL_CAPACITY = 64;
const WORD = 0;
const TURN = 1;

export interface Objects {
  m: Mutex;
  cond: Condition;
  sem: Semaphore;
  bar: Barrier;
  rw: RwLock;
  cell: AtomicArray;
  ch: Channel<number>;
  data: Int32Array;
}

/** Main thread: creates the object set `prefix` ("u" or "c") for `parties` threads. */
export function createObjects(lt: LockstepThread, prefix: string, parties: number): Objects {
  return {
    m: lt.mutex(`${prefix}.mutex`),
    cond: lt.condition(`${prefix}.condition`),
    sem: lt.semaphore(`${prefix}.semaphore`, 1),
    bar: lt.barrier(`${prefix}.barrier`, parties),
    rw: lt.rwlock(`${prefix}.rwlock`),
    cell: lt.atomics(`${prefix}.atomic`, 1),
    ch: lt.channel<number>(`${prefix}.channel`, { capacity: CHANNEL_CAPACITY, bytesMax: 16 }),
    data: lt.shared(`${prefix}.data`, Int32Array, 2),
  };
}

/** A worker: attaches to the set the main thread created. */
export function attachObjects(lt: LockstepThread, prefix: string): Objects {
  return {
    m: lt.mutex(`${prefix}.mutex`),
    cond: lt.condition(`${prefix}.condition`),
    sem: lt.semaphore(`${prefix}.semaphore`),
    bar: lt.barrier(`${prefix}.barrier`),
    rw: lt.rwlock(`${prefix}.rwlock`),
    cell: lt.atomics(`${prefix}.atomic`),
    ch: lt.channel<number>(`${prefix}.channel`),
    data: lt.shared(`${prefix}.data`, Int32Array),
  };
}

/** What the hand-written loops work on: plain shared memory, no lockstep. */
export interface Hand {
  m: DrepperMutex;
  a: Int32Array;
}

/** Slots of the hand-written buffer: the Drepper word, then a cache line later the data words. */
export const HAND_MUTEX = 0;
export const HAND_CELL = 16;
export const HAND_WORD = 32;
export const HAND_SLOTS = 48;

export function handOf(buffer: SharedArrayBuffer): Hand {
  const a = new Int32Array(buffer);
  return { m: new DrepperMutex(a, HAND_MUTEX), a };
}

/** Loads are folded into this so that no loop is dead code. */
export const sink = new Int32Array(1);

export interface UncontendedOp {
  name: string;
  object: string;
  /** The share of the run's iteration count this loop does (slow operations run fewer). */
  scale: number;
  loop: (o: Objects, n: number) => void;
  /** One iteration, for benchmark.js. */
  once: (o: Objects) => void;
  hand?: { loop: (h: Hand, n: number) => void; once: (h: Hand) => void };
}

const fold = (a: Int32Array, id: number): void => {
  a[WORD] = (Math.imul(a[WORD]!, 31) + id) | 0;
};

export const uncontended: UncontendedOp[] = [
  {
    name: 'mutex lock+unlock', object: 'mutex', scale: 1,
    loop: (o, n) => { const m = o.m; for (let i = 0; i < n; i++) { m.lock(); m.unlock(); } },
    once: (o) => { o.m.lock(); o.m.unlock(); },
    hand: {
      loop: (h, n) => { const m = h.m; for (let i = 0; i < n; i++) { m.lock(); m.unlock(); } },
      once: (h) => { h.m.lock(); h.m.unlock(); },
    },
  },
  {
    name: 'condition notify (no waiter)', object: 'condition', scale: 1,
    loop: (o, n) => { const c = o.cond; for (let i = 0; i < n; i++) c.notify(); },
    once: (o) => o.cond.notify(),
  },
  {
    name: 'condition wait(0) timed out (lock, wait, unlock)', object: 'condition', scale: 0.2,
    loop: (o, n) => { const m = o.m; const c = o.cond; for (let i = 0; i < n; i++) { m.lock(); c.wait(m, 0); m.unlock(); } },
    once: (o) => { o.m.lock(); o.cond.wait(o.m, 0); o.m.unlock(); },
  },
  {
    name: 'semaphore acquire+release', object: 'semaphore', scale: 1,
    loop: (o, n) => { const s = o.sem; for (let i = 0; i < n; i++) { s.acquire(); s.release(); } },
    once: (o) => { o.sem.acquire(); o.sem.release(); },
  },
  {
    name: 'barrier wait (1 party)', object: 'barrier', scale: 1,
    loop: (o, n) => { const b = o.bar; for (let i = 0; i < n; i++) b.wait(); },
    once: (o) => { o.bar.wait(); },
  },
  {
    name: 'rwlock readLock+readUnlock', object: 'rwlock', scale: 1,
    loop: (o, n) => { const r = o.rw; for (let i = 0; i < n; i++) { r.readLock(); r.readUnlock(); } },
    once: (o) => { o.rw.readLock(); o.rw.readUnlock(); },
  },
  {
    name: 'rwlock writeLock+writeUnlock', object: 'rwlock', scale: 1,
    loop: (o, n) => { const r = o.rw; for (let i = 0; i < n; i++) { r.writeLock(); r.writeUnlock(); } },
    once: (o) => { o.rw.writeLock(); o.rw.writeUnlock(); },
  },
  {
    name: 'atomic add', object: 'atomic', scale: 1,
    loop: (o, n) => { const c = o.cell; for (let i = 0; i < n; i++) c.add(0, 1); },
    once: (o) => { o.cell.add(0, 1); },
    hand: {
      loop: (h, n) => { const a = h.a; for (let i = 0; i < n; i++) Atomics.add(a, HAND_CELL, 1); },
      once: (h) => { Atomics.add(h.a, HAND_CELL, 1); },
    },
  },
  {
    name: 'atomic load', object: 'atomic', scale: 1,
    loop: (o, n) => { const c = o.cell; let x = 0; for (let i = 0; i < n; i++) x ^= c.load(0); sink[0] = x; },
    once: (o) => { sink[0] ^= o.cell.load(0); },
    hand: {
      loop: (h, n) => { const a = h.a; let x = 0; for (let i = 0; i < n; i++) x ^= Atomics.load(a, HAND_CELL); sink[0] = x; },
      once: (h) => { sink[0] ^= Atomics.load(h.a, HAND_CELL); },
    },
  },
  {
    name: 'atomic compareExchange', object: 'atomic', scale: 1,
    loop: (o, n) => {
      const c = o.cell;
      let v = 0;
      for (let i = 0; i < n; i++) { const old = c.compareExchange(0, v, v + 1); v = old === v ? (v + 1) | 0 : old; }
    },
    once: (o) => { const v = sink[0]!; const old = o.cell.compareExchange(0, v, v + 1); sink[0] = old === v ? (v + 1) | 0 : old; },
    hand: {
      loop: (h, n) => {
        const a = h.a;
        let v = 0;
        for (let i = 0; i < n; i++) { const old = Atomics.compareExchange(a, HAND_CELL, v, v + 1); v = old === v ? (v + 1) | 0 : old; }
      },
      once: (h) => { const v = sink[0]!; const old = Atomics.compareExchange(h.a, HAND_CELL, v, v + 1); sink[0] = old === v ? (v + 1) | 0 : old; },
    },
  },
  {
    name: 'channel send+receive', object: 'channel', scale: 0.1,
    loop: (o, n) => { const ch = o.ch; let x = 0; for (let i = 0; i < n; i++) { ch.send(i); x ^= ch.receive()!; } sink[0] = x; },
    once: (o) => { o.ch.send(1); sink[0] ^= o.ch.receive()!; },
  },
];

export interface ContendedOp {
  name: string;
  object: string;
  scale: number;
  /** What one unit of the ns/unit figure is. */
  unit: string;
  /** Units in a run where each of `parties` threads did `n` iterations. */
  units: (n: number, parties: number) => number;
  /** Thread `index`'s part (index 0 or 1; `id` is its logical id, folded into shared words). */
  run: (o: Objects, index: number, id: number, n: number) => void;
  hand?: (h: Hand, index: number, id: number, n: number) => void;
}

const each = (n: number, parties: number): number => n * parties;
const once = (n: number): number => n;

export const contended: ContendedOp[] = [
  {
    name: 'mutex ping-pong', object: 'mutex', scale: 1, unit: 'acquisition', units: each,
    run: (o, _i, id, n) => { const m = o.m; const d = o.data; for (let i = 0; i < n; i++) { m.lock(); fold(d, id); m.unlock(); } },
    hand: (h, _i, id, n) => {
      const m = h.m;
      const a = h.a;
      for (let i = 0; i < n; i++) { m.lock(); a[HAND_WORD] = (Math.imul(a[HAND_WORD]!, 31) + id) | 0; m.unlock(); }
    },
  },
  {
    name: 'condition signal/wait round trip', object: 'condition', scale: 0.1, unit: 'round trip', units: once,
    // Thread k waits for its turn, passes the turn to the other thread and signals it: each
    // iteration of both threads together is one round trip (two hand-offs).
    run: (o, k, id, n) => {
      const m = o.m;
      const c = o.cond;
      const d = o.data;
      for (let i = 0; i < n; i++) {
        m.lock();
        while (d[TURN] !== k) c.wait(m);
        fold(d, id);
        d[TURN] = 1 - k;
        c.notify();
        m.unlock();
      }
    },
  },
  {
    name: 'semaphore acquire+release (1 permit)', object: 'semaphore', scale: 0.5, unit: 'acquisition', units: each,
    run: (o, _i, id, n) => { const s = o.sem; const d = o.data; for (let i = 0; i < n; i++) { s.acquire(); fold(d, id); s.release(); } },
  },
  {
    name: 'barrier wait (2 parties)', object: 'barrier', scale: 0.1, unit: 'generation', units: once,
    run: (o, _i, _id, n) => { const b = o.bar; for (let i = 0; i < n; i++) b.wait(); },
  },
  {
    name: 'rwlock read (both read)', object: 'rwlock', scale: 0.5, unit: 'acquisition', units: each,
    run: (o, _i, _id, n) => { const r = o.rw; const d = o.data; let x = 0; for (let i = 0; i < n; i++) { r.readLock(); x ^= d[WORD]!; r.readUnlock(); } sink[0] = x; },
  },
  {
    name: 'rwlock write (both write)', object: 'rwlock', scale: 0.5, unit: 'acquisition', units: each,
    run: (o, _i, id, n) => { const r = o.rw; const d = o.data; for (let i = 0; i < n; i++) { r.writeLock(); fold(d, id); r.writeUnlock(); } },
  },
  {
    name: 'atomic add (one cell)', object: 'atomic', scale: 1, unit: 'op', units: each,
    run: (o, _i, _id, n) => { const c = o.cell; for (let i = 0; i < n; i++) c.add(0, 1); },
    hand: (h, _i, _id, n) => { const a = h.a; for (let i = 0; i < n; i++) Atomics.add(a, HAND_CELL, 1); },
  },
  {
    name: 'atomic load (one cell)', object: 'atomic', scale: 1, unit: 'op', units: each,
    run: (o, _i, _id, n) => { const c = o.cell; let x = 0; for (let i = 0; i < n; i++) x ^= c.load(0); sink[0] = x; },
    hand: (h, _i, _id, n) => { const a = h.a; let x = 0; for (let i = 0; i < n; i++) x ^= Atomics.load(a, HAND_CELL); sink[0] = x; },
  },
  {
    name: 'atomic compareExchange (one cell)', object: 'atomic', scale: 1, unit: 'op', units: each,
    // Each iteration is one compare-exchange; a failed one retries with the value it saw.
    run: (o, _i, _id, n) => {
      const c = o.cell;
      let v = 0;
      for (let i = 0; i < n; i++) { const old = c.compareExchange(0, v, v + 1); v = old === v ? (v + 1) | 0 : old; }
    },
    hand: (h, _i, _id, n) => {
      const a = h.a;
      let v = 0;
      for (let i = 0; i < n; i++) { const old = Atomics.compareExchange(a, HAND_CELL, v, v + 1); v = old === v ? (v + 1) | 0 : old; }
    },
  },
  {
    name: 'channel send → receive', object: 'channel', scale: 0.2, unit: 'message', units: once,
    // Thread 0 sends, thread 1 receives (capacity CHANNEL_CAPACITY).
    run: (o, k, _id, n) => {
      const ch = o.ch;
      if (k === 0) for (let i = 0; i < n; i++) ch.send(i);
      else { let x = 0; for (let i = 0; i < n; i++) x ^= ch.receive()!; sink[0] = x; }
    },
  },
];
