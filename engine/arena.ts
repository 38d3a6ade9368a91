// The shared arena's allocator and name directory (layout in arena_layout.ts). Only the main thread
// allocates and registers, on its own deterministic path, so object ids and offsets are the same
// in record and replay; workers look names up.

import { assert } from './assert.js';
import { limitExceeded, unknownObject, usage } from './errors.js';
import type { Limits } from './limits.js';
import {
  ARENA_MAGIC, C_MAGIC, C_NAMES, C_OBJECTS, C_THREADS, C_TOP, DIR_BASE, DIR_SLOTS, D_COUNT, D_FIRST_ID,
  D_KIND, D_NAME, D_NAME_LEN, D_OFFSET, D_PARAM, D_TYPE, EntryKind, NAME_BYTES_MAX, THREAD_SLOTS, T_RING, T_RING_WORDS, T_STATE,
  align, entryKindNames, idsPerObject, objectLabel, heapBase, threadTableBase, waitersBase, C_WAITERS, CKPT_PARKED, T_CKPT,
} from './arena_layout.js';

export const elementTypes = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
] as const;

export type ElementType = (typeof elementTypes)[number];

export interface Entry {
  index: number;
  kind: EntryKind;
  name: string;
  offset: number;
  count: number;
  type: number;
  firstId: number;
  param: number;
}

export class Arena {
  readonly a: Int32Array;
  readonly u8: Uint8Array;
  private readonly cache = new Map<string, Entry>();
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  constructor(readonly buffer: SharedArrayBuffer, readonly limits: Limits) {
    this.a = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
  }

  /** Makes a fresh arena (main thread, at start). */
  static create(limits: Limits): Arena {
    let buffer: SharedArrayBuffer;
    try {
      buffer = new SharedArrayBuffer(limits.arenaBytes);
    } catch {
      throw limitExceeded('arenaBytes', limits.arenaBytes, limits.arenaBytes, 'allocating the arena (the system refused that much shared memory; lower it)');
    }
    const arena = new Arena(buffer, limits);
    const top = heapBase(limits.namesMax, limits.threadsMax);
    if (top * 4 >= limits.arenaBytes) throw limitExceeded('arenaBytes', top * 4, limits.arenaBytes, 'the arena control area');
    arena.a[C_MAGIC] = ARENA_MAGIC;
    arena.a[C_TOP] = top;
    arena.a[C_OBJECTS] = 1;
    arena.a[C_WAITERS] = waitersBase(limits.namesMax, limits.threadsMax);
    return arena;
  }

  /** Allocates `slots` Int32 slots (8-byte aligned) from the heap. Main thread only. */
  alloc(slots: number, what: string): number {
    const a = this.a;
    const start = align(a[C_TOP]!, 2);
    const end = start + slots;
    if (end * 4 > this.limits.arenaBytes) throw limitExceeded('arenaBytes', end * 4, this.limits.arenaBytes, what);
    a[C_TOP] = end;
    return start;
  }

  /** Takes `count` consecutive sync-object ids. Main thread only. */
  takeIds(count: number, what: string): number {
    const first = this.a[C_OBJECTS]!;
    if (first + count - 1 > this.limits.objectsMax) {
      throw limitExceeded('objectsMax', first + count - 1, this.limits.objectsMax, what);
    }
    this.a[C_OBJECTS] = first + count;
    return first;
  }

  get objectCount(): number {
    return this.a[C_OBJECTS]! - 1;
  }

  /** Registers a name and publishes it to other threads. Main thread only. */
  register(entry: Omit<Entry, 'index'>): Entry {
    const a = this.a;
    const nameBytes = this.encoder.encode(entry.name);
    if (nameBytes.length === 0 || nameBytes.length > NAME_BYTES_MAX) {
      throw usage(`name "${entry.name}" must be 1 to ${NAME_BYTES_MAX} bytes of UTF-8`);
    }
    if (this.find(entry.name)) throw usage(`the name "${entry.name}" is already registered; use another name`);
    const index = a[C_NAMES]!;
    if (index >= this.limits.namesMax) throw limitExceeded('namesMax', index + 1, this.limits.namesMax, `registering "${entry.name}"`);
    const e = DIR_BASE + index * DIR_SLOTS;
    a[e + D_KIND] = entry.kind;
    a[e + D_OFFSET] = entry.offset;
    a[e + D_COUNT] = entry.count;
    a[e + D_TYPE] = entry.type;
    a[e + D_FIRST_ID] = entry.firstId;
    a[e + D_PARAM] = entry.param;
    a[e + D_NAME_LEN] = nameBytes.length;
    this.u8.set(nameBytes, (e + D_NAME) * 4);
    Atomics.store(a, C_NAMES, index + 1); // publishes the entry
    const full = { ...entry, index };
    this.cache.set(entry.name, full);
    return full;
  }

  find(name: string): Entry | undefined {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const n = Atomics.load(this.a, C_NAMES);
    for (let index = 0; index < n; index++) {
      const entry = this.entry(index);
      this.cache.set(entry.name, entry);
      if (entry.name === name) return entry;
    }
    return undefined;
  }

  lookup(name: string, kind: EntryKind): Entry {
    const entry = this.find(name);
    if (!entry) throw unknownObject(entryKindNames[kind]!, name);
    if (entry.kind !== kind) {
      throw usage(`"${name}" is a ${entryKindNames[entry.kind]}, not a ${entryKindNames[kind]}`);
    }
    return entry;
  }

  entry(index: number): Entry {
    const a = this.a;
    const e = DIR_BASE + index * DIR_SLOTS;
    const nameLen = a[e + D_NAME_LEN]!;
    return {
      index,
      kind: a[e + D_KIND]! as EntryKind,
      name: this.decoder.decode(this.u8.slice((e + D_NAME) * 4, (e + D_NAME) * 4 + nameLen)),
      offset: a[e + D_OFFSET]!,
      count: a[e + D_COUNT]!,
      type: a[e + D_TYPE]!,
      firstId: a[e + D_FIRST_ID]!,
      param: a[e + D_PARAM]!,
    };
  }

  entries(): Entry[] {
    const n = Atomics.load(this.a, C_NAMES);
    const out: Entry[] = [];
    for (let i = 0; i < n; i++) out.push(this.entry(i));
    return out;
  }

  /** An object id as a user knows it: `"a" (object 1)`, `"account"[3] (object 7)`. */
  describeObject(object: number): string {
    for (const e of this.entries()) {
      const kind = entryKindNames[e.kind]!;
      if (e.kind === EntryKind.Region || object < e.firstId || object >= e.firstId + e.count * idsPerObject(kind)) continue;
      return `${objectLabel(e.name, kind, e.firstId, e.count, object, true)} (object ${object})`;
    }
    return `object ${object}`;
  }

  threadSlot(thread: number): number {
    assert(thread >= 0 && thread < this.limits.threadsMax, `thread ${thread} within threadsMax`);
    return threadTableBase(this.limits.namesMax) + thread * THREAD_SLOTS;
  }

  get threadCount(): number {
    return Atomics.load(this.a, C_THREADS);
  }

  /**
   * Adds the next logical thread to the thread table (main thread only), with an event ring of
   * `ringWords` words when recording (0: none). The ring is in the table before the thread count
   * publishes the thread to the drain.
   */
  addThread(ringWords: number, ringHeaderSlots: number): { id: number; ring: { base: number; words: number } | null } {
    const a = this.a;
    const id = a[C_THREADS]!;
    if (id >= this.limits.threadsMax) throw limitExceeded('threadsMax', id + 1, this.limits.threadsMax, 'spawning a thread');
    const slot = this.threadSlot(id);
    a[slot + T_STATE] = 1;
    a[slot + T_CKPT] = CKPT_PARKED; // not started: it changes no memory yet (checkpoint cuts count it as stopped)
    let ring: { base: number; words: number } | null = null;
    if (ringWords > 0) {
      ring = { base: this.alloc(ringHeaderSlots + ringWords, `thread ${id}'s ring`), words: ringWords };
      a[slot + T_RING] = ring.base;
      a[slot + T_RING_WORDS] = ringWords;
    }
    Atomics.store(a, C_THREADS, id + 1);
    return { id, ring };
  }
}
