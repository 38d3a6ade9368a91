// State transfer for a joining backup. At a quiescent point (the primary's main thread about to
// read an input, no pool task in flight, no other thread running) the drain cuts the log, and the
// arena (registered memory, every sync object with its version, each thread's output count and
// digest) is copied. The joining backup runs the program's setup without a log, which lays the
// arena out identically (names and ids are assigned on a deterministic path); at its first
// quiescent point it takes the snapshot's contents and replays the log from the cut.

import type { Arena } from '../engine/arena.js';
import { usage } from '../engine/errors.js';
import { assert } from '../engine/assert.js';
import {
  C_CUT, C_DOORBELL, C_JOINED, C_NAMES, C_OBJECTS, C_THREADS, C_TOP, CUT_REQUESTED, DIR_BASE,
  T_OUTPUT_DIGEST, T_OUTPUTS, heapBase, threadTableBase,
} from '../engine/arena_layout.js';

export interface Snapshot {
  /** The arena's Int32 slots from the directory to the top of the heap. */
  slots: Int32Array;
  layout: { names: number; objects: number; threads: number; top: number };
  /** Per pool, the id its next task gets. */
  tasks: number[];
  /** Per object, the version its next event has (seeds the joining backup's cutover floors). */
  versions: Int32Array;
  /** The first frame after the snapshot. */
  cut: number;
  mainIndex: number;
}

const CUT_WAIT_MS = 10_000;

/** Primary, main thread, every other thread quiet: cuts the log and copies the state. */
export function takeSnapshot(arena: Arena, cutVersions: SharedArrayBuffer, mainIndex: number, tasks: number[]): Snapshot {
  const a = arena.a;
  Atomics.store(a, C_CUT, CUT_REQUESTED);
  Atomics.add(a, C_DOORBELL, 1);
  Atomics.notify(a, C_DOORBELL);
  // The drain answers within one pass: it only ships what the rings already hold.
  const r = Atomics.wait(a, C_CUT, CUT_REQUESTED, CUT_WAIT_MS);
  assert(r !== 'timed-out', 'state transfer: the drain cut the log');
  const cut = Atomics.load(a, C_CUT);
  Atomics.store(a, C_CUT, 0);
  const top = a[C_TOP]!;
  return {
    slots: a.slice(DIR_BASE, top),
    layout: { names: a[C_NAMES]!, objects: a[C_OBJECTS]!, threads: a[C_THREADS]!, top },
    tasks,
    versions: new Int32Array(cutVersions).slice(),
    cut,
    mainIndex,
  };
}

/** Joining backup, main thread, at its first quiescent point: the primary's state replaces its own. */
export function applySnapshot(arena: Arena, s: Snapshot): void {
  const a = arena.a;
  const mine = { names: a[C_NAMES]!, objects: a[C_OBJECTS]!, threads: a[C_THREADS]!, top: a[C_TOP]! };
  for (const k of ['names', 'objects', 'threads', 'top'] as const) {
    if (mine[k] !== s.layout[k]) {
      throw usage(`state transfer: this backup's setup laid the arena out differently from the primary's (${k}: ${mine[k]} here, ` +
        `${s.layout[k]} on the primary). The program must register the same names and pools, in the same order, before its first input.`);
    }
  }
  // The directory and the heap are copied whole; of the thread table only each thread's output
  // count and digest. The other thread-table words are this node's own bookkeeping, which its
  // receiver reads concurrently (attached, fed, consumed), so they are never written here.
  const table = threadTableBase(arena.limits.namesMax);
  const heap = heapBase(arena.limits.namesMax, arena.limits.threadsMax);
  a.set(s.slots.subarray(0, table - DIR_BASE), DIR_BASE);
  for (let t = 0; t < mine.threads; t++) {
    const slot = arena.threadSlot(t);
    a.set(s.slots.subarray(slot + T_OUTPUTS - DIR_BASE, slot + T_OUTPUT_DIGEST + 8 - DIR_BASE), slot + T_OUTPUTS);
  }
  a.set(s.slots.subarray(heap - DIR_BASE), heap);
  Atomics.store(a, C_JOINED, 1);
}
