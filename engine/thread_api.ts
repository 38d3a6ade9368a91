// The API a program sees in every logical thread: registered memory, sync objects by name, and
// recorded values. The main thread's Session extends it with creation, spawn, input and finish;
// a worker gets it from attach(). Objects are created (with their sizes) only on the main thread,
// on its deterministic path, so names map to the same ids and offsets in record and replay.

import { createRequire } from 'node:module';
import { deserialize, serialize } from 'node:v8';
import { isDeepStrictEqual } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Arena, elementTypes, type ElementType, type Entry } from './arena.js';
import { finished, usage } from './errors.js';
import { Kind, ValueKind } from './event.js';
import { EntryKind, T_OUTPUTS, T_OUTPUT_DIGEST, entryKindNames, idsPerObject } from './arena_layout.js';
import { Mode, modeNames, type ModeName, type Thread } from './thread.js';
import { chainOutput } from './output_chain.js';
import { AtomicArray } from './sync/atomic.js';
import { Barrier } from './sync/barrier.js';
import { Channel } from './sync/channel.js';
import { Condition } from './sync/condition.js';
import { Mutex } from './sync/mutex.js';
import { RwLock } from './sync/rwlock.js';
import { Semaphore } from './sync/semaphore.js';

export interface ChannelOptions {
  /** Values the channel holds before send waits (default 64). */
  capacity?: number;
  /** Largest serialised value in bytes (default 1024). */
  bytesMax?: number;
}

/**
 * node:crypto's originals, loaded on first use: loading node:crypto costs 10-20 ms of CPU, in the
 * main thread and in every worker, and a thread in mode off may never draw from it (issue 11,
 * target 3). patchGlobals calls this before it replaces randomUUID, so these are the originals.
 */
let crypto: Pick<typeof import('node:crypto'), 'createHash' | 'hash' | 'randomBytes' | 'randomUUID'> | null = null;
export function liveCrypto(): NonNullable<typeof crypto> {
  if (!crypto) {
    const c = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
    crypto = { createHash: c.createHash, hash: c.hash, randomBytes: c.randomBytes, randomUUID: c.randomUUID };
  }
  return crypto;
}

/** The clock and randomness the program would otherwise read directly; lockstep records them. */
export const live = {
  dateNow: Date.now,
  perfNow: performance.now.bind(performance),
  random: Math.random,
  randomBytes: (n: number) => new Uint8Array(liveCrypto().randomBytes(n)),
  randomUUID: (): string => liveCrypto().randomUUID(),
};

/** One output: its id (thread, sequence) is the same in every run, so receivers can drop duplicates. */
export interface Output {
  id: string;
  thread: number;
  seq: number;
  channel: string;
  value: unknown;
}

/** A semaphore's permits live in one Int32 slot. */
const PERMITS_MAX = 2 ** 31 - 1;

export class LockstepThread {
  private readonly groups = new Map<string, unknown[]>();
  private readonly regions = new Map<string, unknown>();
  /** Where this thread's outputs go (the main thread calls its sinks; a worker posts to main). */
  protected deliver: (o: Output) => void = () => {};

  constructor(
    readonly arena: Arena,
    readonly thread: Thread,
    /** The run's seed: the same in record and replay. */
    readonly seed: bigint,
    private readonly isMain: boolean,
  ) {}

  /** This thread's logical id: 0 for the main thread, 1, 2, … in spawn order. */
  get id(): number {
    return this.thread.id;
  }

  get mode(): ModeName {
    return modeNames[this.thread.mode]!;
  }

  // ---- registered shared memory ----

  /** A registered region: created with `length` on the main thread, attached by name elsewhere. */
  shared<C extends ElementType>(name: string, type: C, length?: number): InstanceType<C> {
    if (this.thread.ended) throw finished(`shared("${name}")`);
    const hit = this.regions.get(name);
    if (hit) return hit as InstanceType<C>;
    const typeIndex = elementTypes.indexOf(type);
    if (typeIndex < 0) throw usage(`shared("${name}") needs a typed-array constructor such as Int32Array`);
    let entry: Entry;
    if (length !== undefined && this.isMain) {
      if (!Number.isInteger(length) || length <= 0) throw usage(`shared("${name}") needs a positive integer length`);
      const slots = Math.ceil((length * type.BYTES_PER_ELEMENT) / 4);
      const offset = this.arena.alloc(slots, `region "${name}"`);
      entry = this.arena.register({ kind: EntryKind.Region, name, offset, count: length, type: typeIndex, firstId: 0, param: 0 });
    } else {
      entry = this.arena.lookup(name, EntryKind.Region);
      if (entry.type !== typeIndex) throw usage(`region "${name}" is a ${elementTypes[entry.type]!.name}, not a ${type.name}`);
      if (length !== undefined && length !== entry.count) throw usage(`region "${name}" has length ${entry.count}, not ${length}`);
    }
    const Ctor = type as unknown as new (b: SharedArrayBuffer, offset: number, length: number) => InstanceType<C>;
    const view = new Ctor(this.arena.buffer, entry.offset * 4, entry.count);
    this.regions.set(name, view);
    return view;
  }

  // ---- sync objects: `xs(name, count)` creates a group on the main thread, `xs(name)` attaches ----

  mutexes(name: string, count?: number): Mutex[] {
    return this.group(EntryKind.Mutex, name, count, () => Mutex.SLOTS, 0, null, (id, s) => new Mutex(this.thread, id, s));
  }

  mutex(name: string): Mutex {
    return this.mutexes(name, this.isMain && !this.arena.find(name) ? 1 : undefined)[0]!;
  }

  conditions(name: string, count?: number): Condition[] {
    return this.group(EntryKind.Condition, name, count, () => Condition.SLOTS, 0, null, (id, s) => new Condition(this.thread, id, s));
  }

  condition(name: string): Condition {
    return this.conditions(name, this.isMain && !this.arena.find(name) ? 1 : undefined)[0]!;
  }

  semaphores(name: string, count?: number, permits = 0): Semaphore[] {
    if (count !== undefined && this.isMain && !(Number.isInteger(permits) && permits >= 0 && permits <= PERMITS_MAX)) {
      throw usage(`semaphore "${name}" needs a whole number of permits from 0 to ${PERMITS_MAX}, got ${permits}`);
    }
    return this.group(EntryKind.Semaphore, name, count, () => Semaphore.SLOTS, permits,
      (a, s) => Semaphore.init(a, s, permits), (id, s) => new Semaphore(this.thread, id, s));
  }

  semaphore(name: string, permits?: number): Semaphore {
    return this.semaphores(name, this.isMain && permits !== undefined ? 1 : undefined, permits)[0]!;
  }

  barriers(name: string, count?: number, parties?: number): Barrier[] {
    if (count !== undefined && this.isMain && !(Number.isInteger(parties) && parties! > 0)) {
      throw usage(`barrier "${name}" needs a positive number of parties`);
    }
    return this.group(EntryKind.Barrier, name, count, () => Barrier.SLOTS, parties ?? 0,
      (a, s) => Barrier.init(a, s, parties!), (id, s) => new Barrier(this.thread, id, s));
  }

  barrier(name: string, parties?: number): Barrier {
    return this.barriers(name, this.isMain && parties !== undefined ? 1 : undefined, parties)[0]!;
  }

  rwlocks(name: string, count?: number): RwLock[] {
    return this.group(EntryKind.RwLock, name, count, () => RwLock.SLOTS, 0, null, (id, s) => new RwLock(this.thread, id, s));
  }

  rwlock(name: string): RwLock {
    return this.rwlocks(name, this.isMain && !this.arena.find(name) ? 1 : undefined)[0]!;
  }

  /** An array of `length` atomic Int32 cells (each cell is its own sync object). */
  atomics(name: string, length?: number): AtomicArray {
    const hit = this.groups.get(name);
    if (hit) return hit[0] as AtomicArray;
    const entry = this.entryFor(EntryKind.Atomic, name, length, AtomicArray.SLOTS_PER_CELL, 0, null);
    const array = new AtomicArray(this.thread, entry.firstId, entry.offset, entry.count);
    this.groups.set(name, [array]);
    return array;
  }

  /** A bounded channel of structured-clonable values. */
  channel<T = unknown>(name: string, options?: ChannelOptions): Channel<T> {
    const hit = this.groups.get(name);
    if (hit) return hit[0] as Channel<T>;
    const capacity = options?.capacity ?? 64;
    const bytesMax = options?.bytesMax ?? 1024;
    const create = this.isMain && !this.arena.find(name);
    if (create && !(Number.isInteger(capacity) && capacity > 0 && Number.isInteger(bytesMax) && bytesMax > 0)) {
      throw usage(`channel "${name}" needs a positive integer capacity and bytesMax`);
    }
    const entry = this.entryFor(EntryKind.Channel, name, create ? 1 : undefined, Channel.slots(capacity, bytesMax), capacity,
      (a, s) => Channel.init(a, s, capacity, bytesMax));
    const ch = new Channel<T>(this.thread, entry.firstId, entry.offset);
    this.groups.set(name, [ch]);
    return ch;
  }

  // ---- recorded values ----

  /** Wall-clock milliseconds (Date.now), recorded and replayed. */
  now(): number {
    return this.thread.float(ValueKind.Now, live.dateNow);
  }

  /** A float in [0, 1), recorded and replayed. */
  random(): number {
    return this.thread.float(ValueKind.Random, this.thread.seeded?.float ?? live.random);
  }

  /** `n` random bytes, recorded and replayed. */
  randomBytes(n: number): Uint8Array {
    if (!(Number.isInteger(n) && n >= 0)) throw usage(`randomBytes(n) needs a non-negative integer, got ${n}`);
    const seeded = this.thread.seeded;
    return this.thread.bytes(ValueKind.RandomBytes, () => (seeded ? seeded.bytes(n) : live.randomBytes(n)));
  }

  // ---- outputs ----

  /**
   * Emits `value` on the named output channel. The output is an event: recorded, checked in
   * replay (a different value is a divergence), part of the run digest, and delivered to the
   * sinks attached with session.onOutput() with a deterministic id "thread:sequence".
   */
  output(channel: string, value: unknown): string {
    const t = this.thread;
    const mode = t.current();
    // The count and chained digest live in the thread table (not on this object), so a backup that
    // joined by state transfer goes on numbering outputs where the snapshot left them.
    const slot = this.arena.threadSlot(t.id);
    const seq = Atomics.load(this.arena.a, slot + T_OUTPUTS);
    const id = `${t.id}:${seq}`;
    let payload: Uint8Array = serialize([channel, value]);
    if (mode === Mode.Record) {
      // recPayload wakes the drain for an output: on a primary it waits in the gate until its
      // frame is shipped and acknowledged, so it must not wait for the drain's idle timeout.
      t.recPayload(Kind.Output, 0, payload);
    } else if (mode === Mode.Replay) {
      const recorded = t.expectPayload(Kind.Output, 0);
      if (Buffer.compare(recorded, payload) !== 0) {
        // v8's serializer writes equal values in different bytes depending on how the engine
        // happens to hold them (an array with holey elements, which optimised code such as
        // Array.prototype.map can make, is written in the sparse form, a packed one densely), so
        // unequal bytes are a divergence only if the values differ. The digest then chains the
        // recorded bytes, as the recording did.
        if (!isDeepStrictEqual(deserialize(recorded), deserialize(payload))) t.diverge(`output ${id} as recorded`, `output ${id} on "${channel}" with another value`);
        payload = recorded;
      }
    }
    chainOutput(this.arena.a, slot + T_OUTPUT_DIGEST, id, payload, mode === Mode.Off);
    Atomics.store(this.arena.a, slot + T_OUTPUTS, seq + 1);
    this.deliver({ id, thread: t.id, seq, channel, value });
    return id;
  }

  // ---- internals ----

  private group<T>(
    kind: EntryKind, name: string, count: number | undefined, slotsPer: () => number, param: number,
    init: ((a: Int32Array, s: number) => void) | null, make: (id: number, s: number) => T,
  ): T[] {
    const hit = this.groups.get(name);
    if (hit && (count === undefined || count === hit.length)) return hit as T[];
    const per = slotsPer();
    const entry = this.entryFor(kind, name, count, per, param, init);
    const out: T[] = [];
    for (let i = 0; i < entry.count; i++) out.push(make(entry.firstId + i, entry.offset + i * entry.type));
    this.groups.set(name, out);
    return out;
  }

  /** Creates the named group (main thread, with a count) or looks it up. */
  private entryFor(kind: EntryKind, name: string, count: number | undefined, slotsPer: number, param: number,
    init: ((a: Int32Array, s: number) => void) | null): Entry {
    if (this.thread.ended) throw finished(`creating or attaching "${name}"`);
    if (count === undefined || !this.isMain) {
      const entry = this.arena.lookup(name, kind);
      if (count !== undefined && count !== entry.count) throw usage(`"${name}" has ${entry.count} objects, not ${count}`);
      return entry;
    }
    if (!Number.isInteger(count) || count <= 0) throw usage(`"${name}" needs a positive integer count`);
    const firstId = this.arena.takeIds(count * idsPerObject(entryKindNames[kind]!), `"${name}"`);
    const offset = this.arena.alloc(count * slotsPer, `"${name}"`);
    if (init) for (let i = 0; i < count; i++) init(this.arena.a, offset + i * slotsPer);
    return this.arena.register({ kind, name, offset, count, type: slotsPer, firstId, param });
  }
}
