// Where two recordings of the same program first took different paths: the question a developer
// asks when one run fails and another passes. Pure: two (Log, Causality) pairs in, a report out.
//
// Two views are compared, and both are needed:
//   - per object, the version order: which thread took version v of object o. The first version
//     taken by a different thread is a race that went the other way;
//   - per thread, the event sequence: the first event that differs in kind or object (the code
//     took another branch), in version (an ordering seen from that thread), in data (a clock,
//     random value or input that differed), or where one thread's events end.
// A race usually shows up in both views, and it drags every later event along, so only the
// earliest difference is "the" difference. Earliest means in causal order: the candidate with
// the smallest Lamport clock (causality.ts), which is the same in both logs for an event whose
// history is the same. On a tie the object view wins, since it names the race itself.

import { Kind, hasPayload, isOrdered, kindOf, objectOf } from '../engine/event.js';
import type { Log } from '../replayer/log_reader.js';
import { payloadOf, type Causality, type Lane } from './causality.js';
import { eventText } from './event_text.js';

export const DIFF_FORMAT = 'lockstep-diff/1';

/**
 * order: a version of an object went to another thread; path: a thread did another kind of event
 * or used another object; value: the same event saw different data; end: one run's thread had no
 * more events; thread: a thread exists in one run only.
 */
export type DifferenceKind = 'order' | 'path' | 'value' | 'end' | 'thread';

export interface EventRef {
  thread: number;
  event: number;
  clock: number;
  /** The event as a person reads it, payload included. */
  text: string;
}

export interface Difference {
  kind: DifferenceKind;
  /** The thread whose sequence differs (per-thread view), or null (object view). */
  thread: number | null;
  /** That thread's event index where the sequences part. */
  event: number | null;
  /** The object involved, if any. */
  object: number | null;
  /** For an order difference: the first version taken by different threads. */
  version: number | null;
  /** What each run did at that point; null where it did nothing (ended, or has no such thread). */
  a: EventRef | null;
  b: EventRef | null;
}

export interface ThreadComparison {
  thread: number;
  eventsA: number;
  eventsB: number;
  /** The first event index that differs; null if the thread's sequences are identical. */
  firstDifference: number | null;
}

export interface ObjectComparison {
  object: number;
  /** The first version that differs (taken by different threads, or by one run only). */
  version: number;
  a: { thread: number; event: number } | null;
  b: { thread: number; event: number } | null;
}

export interface DiffReport {
  format: typeof DIFF_FORMAT;
  a: { path: string; programHash: string; threads: number; events: number; digest: string };
  b: { path: string; programHash: string; threads: number; events: number; digest: string };
  sameProgram: boolean;
  identical: boolean;
  first: Difference | null;
  threads: ThreadComparison[];
  /** Objects whose version order differs, ascending by id. */
  objects: ObjectComparison[];
}

interface Run {
  log: Log;
  c: Causality;
}

export function firstDifference(A: Run, B: Run): DiffReport {
  const candidates: { d: Difference; clock: number; rank: number }[] = [];
  const rankOf: Record<DifferenceKind, number> = { order: 0, path: 1, end: 2, value: 3, thread: 4 };
  const add = (d: Difference): void => {
    const clocks = [d.a?.clock, d.b?.clock].filter((x): x is number => x !== undefined);
    candidates.push({ d, clock: Math.min(...clocks), rank: rankOf[d.kind] });
  };

  const threadIds = [...new Set([...A.c.laneOf.keys(), ...B.c.laneOf.keys()])].sort((x, y) => x - y);
  const threads: ThreadComparison[] = [];
  for (const t of threadIds) {
    const la = A.c.laneOf.get(t);
    const lb = B.c.laneOf.get(t);
    const cmp: ThreadComparison = { thread: t, eventsA: la?.count ?? 0, eventsB: lb?.count ?? 0, firstDifference: null };
    threads.push(cmp);
    if (!la || !lb) {
      cmp.firstDifference = 0;
      add({ kind: 'thread', thread: t, event: 0, object: null, version: null, a: ref(la, 0), b: ref(lb, 0) });
      continue;
    }
    const found = compareLanes(la, lb);
    if (!found) continue;
    cmp.firstDifference = found.a;
    const h = found.a < la.count ? la.events[2 * found.a]! : lb.events[2 * found.b]!;
    add({
      kind: found.kind,
      thread: t,
      event: found.a,
      object: found.kind === 'end' || !carriesObject(kindOf(h)) ? null : objectOf(h),
      version: null,
      a: ref(la, found.a),
      b: ref(lb, found.b),
    });
  }

  const objects = compareVersionOrders(A.c, B.c);
  for (const o of objects) {
    add({
      kind: 'order',
      thread: null,
      event: null,
      object: o.object,
      version: o.version,
      a: o.a ? ref(A.c.laneOf.get(o.a.thread), o.a.event) : null,
      b: o.b ? ref(B.c.laneOf.get(o.b.thread), o.b.event) : null,
    });
  }

  candidates.sort((x, y) => x.clock - y.clock || x.rank - y.rank || (x.d.thread ?? -1) - (y.d.thread ?? -1) || (x.d.object ?? -1) - (y.d.object ?? -1));
  const summary = (r: Run): DiffReport['a'] => ({
    path: r.log.path,
    programHash: r.log.header.programHash,
    threads: r.log.trailer.threadCount,
    events: r.log.trailer.eventCount,
    digest: r.log.trailer.digest,
  });
  return {
    format: DIFF_FORMAT,
    a: summary(A),
    b: summary(B),
    sameProgram: A.log.header.programHash === B.log.header.programHash,
    identical: candidates.length === 0,
    first: candidates[0]?.d ?? null,
    threads,
    objects,
  };
}

function ref(lane: Lane | undefined, index: number): EventRef | null {
  if (!lane || index >= lane.count) return null;
  return { thread: lane.thread, event: index, clock: lane.clocks[index]!, text: eventText(lane, index) };
}

/** Kinds whose object field names a sync object (not a value kind or a thread id). */
function carriesObject(k: number): boolean {
  return isOrdered(k) || k === Kind.TryFail || k === Kind.PollEmpty || k === Kind.WaitResult || k === Kind.Input;
}

/**
 * The first place where two threads' sequences differ, and how (its index in each); null if they
 * are identical. A cut's checkpoint and mark events are skipped: where a cut fell depends on
 * timing, not on the program's path (recorder/checkpoint.ts).
 */
function compareLanes(a: Lane, b: Lane): { a: number; b: number; kind: DifferenceKind } | null {
  const ea = a.events;
  const eb = b.events;
  let pa = skipCheckpoints(a, 0);
  let pb = skipCheckpoints(b, 0);
  for (; pa < a.count && pb < b.count; pa = skipCheckpoints(a, pa + 1), pb = skipCheckpoints(b, pb + 1)) {
    const h = ea[2 * pa]!;
    if (h !== eb[2 * pb]) return { a: pa, b: pb, kind: 'path' };
    const k = kindOf(h);
    if (hasPayload(k)) {
      if (!sameBytes(payloadOf(a, pa), payloadOf(b, pb))) return { a: pa, b: pb, kind: 'value' };
    } else if (ea[2 * pa + 1] !== eb[2 * pb + 1]) {
      return { a: pa, b: pb, kind: isOrdered(k) ? 'order' : 'value' };
    }
  }
  return pa >= a.count && pb >= b.count ? null : { a: pa, b: pb, kind: 'end' };
}

/** The first event at or after `p` that is not a cut's checkpoint or mark (the end-of-run blocks are memory, compared). */
function skipCheckpoints(lane: Lane, p: number): number {
  while (p < lane.count) {
    const h = lane.events[2 * p]!;
    const k = kindOf(h);
    if (k !== Kind.CheckpointMark && !(k === Kind.Checkpoint && objectOf(h) === 0)) break;
    p++;
  }
  return p;
}

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** For each object: which thread (and its event index) took each version, densely by version. */
function takers(c: Causality): Map<number, { thread: number[]; event: number[] }> {
  const out = new Map<number, { thread: number[]; event: number[] }>();
  for (const lane of c.lanes) {
    for (let p = 0; p < lane.count; p++) {
      const h = lane.events[2 * p]!;
      if (!isOrdered(kindOf(h))) continue;
      const o = objectOf(h);
      const v = lane.events[2 * p + 1]! >>> 0;
      let t = out.get(o);
      if (!t) out.set(o, (t = { thread: [], event: [] }));
      t.thread[v] = lane.thread;
      t.event[v] = p;
    }
  }
  return out;
}

function compareVersionOrders(a: Causality, b: Causality): ObjectComparison[] {
  const ta = takers(a);
  const tb = takers(b);
  const ids = [...new Set([...ta.keys(), ...tb.keys()])].sort((x, y) => x - y);
  const out: ObjectComparison[] = [];
  const at = (t: { thread: number[]; event: number[] } | undefined, v: number): { thread: number; event: number } | null =>
    t && v < t.thread.length ? { thread: t.thread[v]!, event: t.event[v]! } : null;
  for (const o of ids) {
    const x = ta.get(o);
    const y = tb.get(o);
    const nx = x?.thread.length ?? 0;
    const ny = y?.thread.length ?? 0;
    const n = Math.min(nx, ny);
    let v = 0;
    while (v < n && x!.thread[v] === y!.thread[v]) v++;
    if (v === n && nx === ny) continue;
    out.push({ object: o, version: v, a: at(x, v), b: at(y, v) });
  }
  return out;
}
