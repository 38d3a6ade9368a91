// The causal structure of a recorded run, computed from a log alone: which event each thread did
// when, which thread took each version of each object, where an object passed from one thread to
// another (a hand-off), and a Lamport clock for every event. inspect, diff and timeline all start
// from this. It is pure: a Log in, plain arrays out; no files, no clock.
//
// The log holds no timestamps, only per-thread event order and per-object version order. The
// happens-before relation of a run is those two orders plus "a spawn happens before the spawned
// thread's first event", "a pool task's assignment happens before the worker starts it", and "a
// task's last event happens before the main thread observes its completion" (a task's events run
// from its task-start to the worker's next task-start or exit), and "a channel's k-th send happens
// before the receive that took its value" (a channel's send and receive sides are two objects with
// versions of their own, engine/sync/channel.ts; a receive or poll that saw the channel closed
// comes after the close). A Lamport clock (Lamport, "Time, Clocks, and the Ordering of
// Events in a Distributed System", 1978) turns that partial order into numbers: an event's clock
// is one more than the largest clock among its causes, so a cause always has a smaller clock,
// and events on different threads with the same clock are concurrent. Two recordings that agree
// on an event's whole causal history give it the same clock, whatever the drain's batching was,
// which is what lets diff compare positions across logs and the timeline use the clock as its x.

import { Kind, hasPayload, isOrdered, kindOf, objectOf } from '../engine/event.js';
import type { Log } from '../replayer/log_reader.js';
import { logInconsistent } from './errors.js';

/** One logical thread's events with what the analysis adds to them. */
export interface Lane {
  thread: number;
  /** Events in this thread's order, two words each (event.ts). */
  events: Int32Array;
  /** Payload bytes of this thread's payload events, in order. */
  data: Uint8Array;
  count: number;
  /** Lamport clock of each event (1 is the earliest possible). */
  clocks: Uint32Array;
  /** For a payload event, where its payload starts in `data`; 0 for the others. */
  payloadAt: Uint32Array;
  /** The thread and event index that spawned this thread; null for the main thread. */
  spawnedBy: { thread: number; index: number } | null;
}

/**
 * Hand-offs in the order they were found (by version within an object): version `version` of
 * `object` was taken at (toThread, toIndex), and version − 1 by a different thread at
 * (fromThread, fromIndex), or, on a channel's receive side, the value taken there (or the close
 * seen) was sent by a different thread at (fromThread, fromIndex). Parallel typed arrays, because a long run has hundreds of thousands.
 */
export interface Handoffs {
  count: number;
  object: Int32Array;
  version: Uint32Array;
  fromThread: Int32Array;
  fromIndex: Int32Array;
  toThread: Int32Array;
  toIndex: Int32Array;
}

/** What the events say about one sync object (ids are the arena's; the log stores no names). */
export interface ObjectStats {
  object: number;
  /** Event kinds seen on this object, ascending. */
  kinds: number[];
  /** Ordered operations: each took one version. */
  acquisitions: number;
  /** Ordered operations per thread. */
  byThread: Map<number, number>;
  /** Versions taken by a different thread than the version before. */
  handoffs: number;
  /** try-acquire or poll that found the object unavailable. */
  tryFailures: number;
  /** Condition waits, and how many of them timed out. */
  waits: number;
  timedOutWaits: number;
  /** External inputs delivered into this object (a channel). */
  inputs: number;
  firstClock: number;
  lastClock: number;
}

export interface Causality {
  /** One lane per thread, ascending by thread id. */
  lanes: Lane[];
  laneOf: Map<number, Lane>;
  handoffs: Handoffs;
  /** By object id, ascending. */
  objects: ObjectStats[];
  clockMax: number;
}

/** Growable Int32 storage for the hand-off columns. */
class Column {
  a = new Int32Array(1024);
  push(i: number, x: number): void {
    if (i >= this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[i] = x;
  }
  take(n: number): Int32Array {
    return this.a.slice(0, n);
  }
}

interface ObjectState {
  stats: ObjectStats;
  /** The version the next ordered operation on this object must take. */
  next: number;
  clock: number;
  lastThread: number;
  lastIndex: number;
}

export function analyse(log: Log): Causality {
  const lanes: Lane[] = log.streams
    .map((s): Lane => {
      const count = s.events.length >>> 1;
      return {
        thread: s.thread,
        events: s.events,
        data: s.data,
        count,
        clocks: new Uint32Array(count),
        payloadAt: new Uint32Array(count),
        spawnedBy: null,
      };
    })
    .sort((x, y) => x.thread - y.thread);
  const laneOf = new Map(lanes.map((l) => [l.thread, l]));
  for (const lane of lanes) fillPayloadOffsets(lane);

  const objects = new Map<number, ObjectState>();
  const objectState = (o: number): ObjectState => {
    let st = objects.get(o);
    if (!st) {
      st = {
        stats: { object: o, kinds: [], acquisitions: 0, byThread: new Map(), handoffs: 0, tryFailures: 0, waits: 0, timedOutWaits: 0, inputs: 0, firstClock: 0, lastClock: 0 },
        next: 0,
        clock: 0,
        lastThread: -1,
        lastIndex: -1,
      };
      objects.set(o, st);
    }
    return st;
  };

  const cols = [new Column(), new Column(), new Column(), new Column(), new Column(), new Column()];
  let handoffCount = 0;
  const handoff = (o: number, v: number, fromThread: number, fromIndex: number, toThread: number, toIndex: number): void => {
    const row = [o, v | 0, fromThread, fromIndex, toThread, toIndex];
    for (let j = 0; j < 6; j++) cols[j]!.push(handoffCount, row[j]!);
    handoffCount++;
  };
  const sources = channelSources(log, lanes);
  /** Lanes whose receive waits for a send not processed yet, by send object and the version after that send. */
  const dataParked = new Map<number, Map<number, Lane[]>>();

  // A thread runs ahead until its next ordered event needs a version that no processed event has
  // released yet; it parks on (object, version) and is woken when that version becomes next.
  const pos = new Map<Lane, number>(lanes.map((l) => [l, 0]));
  const laneClock = new Map<Lane, number>(lanes.map((l) => [l, 0]));
  const parked = new Map<number, Map<number, Lane>>();
  const started = new Set<Lane>();
  const runnable: Lane[] = [];
  const startLane = (lane: Lane, clock: number): void => {
    if (started.has(lane)) return;
    started.add(lane);
    laneClock.set(lane, clock);
    runnable.push(lane);
  };
  const main = laneOf.get(0);
  if (main) startLane(main, 0);

  // Pool tasks: TaskAssign(object = worker thread, arg = task) in the main thread, then
  // TaskStart(arg = task) in that worker. A start waits for its assignment only if the log has
  // one, so a log without assignments still gets clocks.
  const assigned = new Set<string>();
  for (const lane of lanes) {
    for (let p = 0; p < lane.count; p++) {
      const h = lane.events[2 * p]!;
      if (kindOf(h) === Kind.TaskAssign) assigned.add(`${objectOf(h)}:${lane.events[2 * p + 1]!}`);
    }
  }
  const assignClock = new Map<string, number>();
  const taskParked = new Map<string, Lane>();
  const completion = taskCompletions(lanes);
  const endClock = new Map<string, number>();
  const doneParked = new Map<string, Lane>();

  let clockMax = 0;
  const run = (lane: Lane): void => {
    const ev = lane.events;
    let p = pos.get(lane)!;
    let clock = laneClock.get(lane)!;
    for (; p < lane.count; p++) {
      const h = ev[2 * p]!;
      const arg = ev[2 * p + 1]!;
      const k = kindOf(h);
      const o = objectOf(h);
      let c = clock + 1;
      if (isOrdered(k)) {
        const v = arg >>> 0;
        const st = objectState(o);
        if (st.next !== v) {
          let waiting = parked.get(o);
          if (!waiting) parked.set(o, (waiting = new Map()));
          waiting.set(v, lane);
          break;
        }
        const source = sources.get(o)?.get(v);
        if (source !== undefined) {
          const from = laneOf.get(source.thread)!;
          const at = from.clocks[source.index]!;
          if (at === 0) {
            // Its value's send is not processed yet: wake when the send side moves past it.
            let waiting = dataParked.get(source.object);
            if (!waiting) dataParked.set(source.object, (waiting = new Map()));
            const after = (source.version + 1) >>> 0;
            waiting.set(after, [...(waiting.get(after) ?? []), lane]);
            break;
          }
          if (at + 1 > c) c = at + 1;
        }
        if (st.clock + 1 > c) c = st.clock + 1;
        const s = st.stats;
        if (s.acquisitions === 0) s.firstClock = c;
        s.acquisitions++;
        s.lastClock = c;
        s.byThread.set(lane.thread, (s.byThread.get(lane.thread) ?? 0) + 1);
        noteKind(s, k);
        if (st.lastThread >= 0 && st.lastThread !== lane.thread) {
          s.handoffs++;
          handoff(o, v, st.lastThread, st.lastIndex, lane.thread, p);
        }
        if (source !== undefined && source.thread !== lane.thread) {
          // A value (or the close) passed from the sending thread to this one.
          s.handoffs++;
          handoff(o, v, source.thread, source.index, lane.thread, p);
        }
        st.next = (v + 1) >>> 0;
        st.clock = c;
        st.lastThread = lane.thread;
        st.lastIndex = p;
        const woken = parked.get(o)?.get(st.next);
        if (woken) {
          parked.get(o)!.delete(st.next);
          runnable.push(woken);
        }
        const fed = dataParked.get(o)?.get(st.next);
        if (fed) {
          dataParked.get(o)!.delete(st.next);
          runnable.push(...fed);
        }
      } else if (k === Kind.TryFail || k === Kind.PollEmpty) {
        const s = objectState(o).stats;
        s.tryFailures++;
        noteKind(s, k);
      } else if (k === Kind.WaitResult) {
        const s = objectState(o).stats;
        s.waits++;
        if (arg !== 0) s.timedOutWaits++;
        noteKind(s, k);
      } else if (k === Kind.Input) {
        const s = objectState(o).stats;
        s.inputs++;
        noteKind(s, k);
      } else if (k === Kind.TaskAssign) {
        const key = `${o}:${arg}`;
        assignClock.set(key, c);
        const woken = taskParked.get(key);
        if (woken) {
          taskParked.delete(key);
          runnable.push(woken);
        }
      } else if (k === Kind.TaskStart) {
        const key = `${lane.thread}:${arg}`;
        if (assigned.has(key)) {
          const at = assignClock.get(key);
          if (at === undefined) {
            taskParked.set(key, lane);
            break;
          }
          if (at + 1 > c) c = at + 1;
        }
      } else if (k === Kind.TaskDone || (k === Kind.TaskFailed && o === 0)) {
        const key = completion.doneWaitsFor.get(lane)?.get(p);
        if (key !== undefined) {
          const at = endClock.get(key);
          if (at === undefined) {
            doneParked.set(key, lane);
            break;
          }
          if (at + 1 > c) c = at + 1;
        }
      } else if (k === Kind.Spawn) {
        const child = laneOf.get(o);
        if (child) {
          child.spawnedBy = { thread: lane.thread, index: p };
          startLane(child, c);
        }
      }
      lane.clocks[p] = c;
      clock = c;
      const ended = completion.taskEnds.get(lane)?.get(p);
      if (ended !== undefined) {
        endClock.set(ended, c);
        const woken = doneParked.get(ended);
        if (woken) {
          doneParked.delete(ended);
          runnable.push(woken);
        }
      }
    }
    pos.set(lane, p);
    laneClock.set(lane, clock);
    if (clock > clockMax) clockMax = clock;
  };

  for (;;) {
    while (runnable.length > 0) run(runnable.pop()!);
    // A thread the log never spawns (only the main thread should be so) starts at the beginning
    // rather than being dropped: inspect should still show a log from an older recorder.
    const orphan = lanes.find((l) => !started.has(l));
    if (!orphan) break;
    startLane(orphan, 0);
  }

  for (const lane of lanes) {
    const p = pos.get(lane)!;
    if (p < lane.count) {
      const h = lane.events[2 * p]!;
      if (kindOf(h) === Kind.TaskStart) {
        throw logInconsistent(log.path, `thread ${lane.thread} starts task ${lane.events[2 * p + 1]!} at event ${p}, but the main thread never reaches the task's assignment`);
      }
      if (kindOf(h) === Kind.TaskDone || kindOf(h) === Kind.TaskFailed) {
        throw logInconsistent(log.path, `thread ${lane.thread} sees task ${lane.events[2 * p + 1]!} complete at event ${p}, but the task never ends`);
      }
      throw logInconsistent(
        log.path,
        `thread ${lane.thread} waits at event ${p} for version ${lane.events[2 * p + 1]! >>> 0} of object ${objectOf(h)}, ` +
          `which the other threads never release`,
      );
    }
  }

  const handoffs: Handoffs = {
    count: handoffCount,
    object: cols[0]!.take(handoffCount),
    version: new Uint32Array(cols[1]!.take(handoffCount).buffer),
    fromThread: cols[2]!.take(handoffCount),
    fromIndex: cols[3]!.take(handoffCount),
    toThread: cols[4]!.take(handoffCount),
    toIndex: cols[5]!.take(handoffCount),
  };
  const objectList = [...objects.values()].map((st) => st.stats).sort((x, y) => x.object - y.object);
  return { lanes, laneOf, handoffs, objects: objectList, clockMax };
}

/** The send-side event a channel's receive-side event depends on. */
interface Source {
  /** The send side's object id, the event's version there, and where it is. */
  object: number;
  version: number;
  thread: number;
  index: number;
}

/**
 * For each channel's receive side (by object id, then version), the send-side event it took its
 * value from, or the close it saw: the k-th receive or poll that got a value took the k-th send's
 * (one FIFO), and once every value sent before the close was taken, a receive or poll found the
 * close. Sends after the close (refused, but ordered) feed nothing. The trailer's names say which
 * objects are channels; a log without them (cut off) gets no such edges.
 */
function channelSources(log: Log, lanes: Lane[]): Map<number, Map<number, Source>> {
  const out = new Map<number, Map<number, Source>>();
  const sides = new Map<number, { sends: (Source & { close: boolean })[]; takes: { version: number; closed: boolean }[] }>();
  for (const n of log.trailer?.names ?? []) {
    if (n.kind !== 'channel') continue;
    for (let i = 0; i < n.count; i++) sides.set(n.firstId + 2 * i, { sends: [], takes: [] });
  }
  if (sides.size === 0) return out;
  for (const lane of lanes) {
    for (let p = 0; p < lane.count; p++) {
      const h = lane.events[2 * p]!;
      const k = kindOf(h);
      const o = objectOf(h);
      const version = lane.events[2 * p + 1]! >>> 0;
      if (k === Kind.Send || k === Kind.Close) sides.get(o)?.sends.push({ object: o, version, thread: lane.thread, index: p, close: k === Kind.Close });
      else if (k === Kind.Recv || k === Kind.PollOk || k === Kind.PollClosed) sides.get(o - 1)?.takes.push({ version, closed: k === Kind.PollClosed });
    }
  }
  for (const [send, { sends, takes }] of sides) {
    sends.sort((x, y) => x.version - y.version);
    takes.sort((x, y) => x.version - y.version);
    const closeAt = sends.findIndex((e) => e.close);
    const values = closeAt < 0 ? sends : sends.slice(0, closeAt);
    const close = closeAt < 0 ? undefined : sends[closeAt];
    const byVersion = new Map<number, Source>();
    let taken = 0;
    for (const t of takes) {
      const from = !t.closed && taken < values.length ? values[taken++] : close;
      if (from) byVersion.set(t.version, { object: from.object, version: from.version, thread: from.thread, index: from.index });
    }
    out.set(send + 1, byVersion);
  }
  return out;
}

/**
 * Where each pool task ends, and which task end each completion waits for, both keyed
 * "workerThread:task". A task's last event is the one before its worker's next task-start (or
 * exit, or the end of the stream). A completion names only the task; its worker is the one the
 * latest earlier assignment of that task id in the same thread named. A completion whose task
 * never started (or is not in the log) waits for nothing.
 */
function taskCompletions(lanes: Lane[]): { taskEnds: Map<Lane, Map<number, string>>; doneWaitsFor: Map<Lane, Map<number, string>> } {
  const taskEnds = new Map<Lane, Map<number, string>>();
  const started = new Set<string>();
  for (const lane of lanes) {
    let open: string | null = null;
    const ends = new Map<number, string>();
    for (let p = 0; p < lane.count; p++) {
      const h = lane.events[2 * p]!;
      const k = kindOf(h);
      if (k === Kind.TaskStart || k === Kind.Exit) {
        if (open !== null) ends.set(p - 1, open);
        open = null;
      }
      if (k === Kind.TaskStart) {
        open = `${lane.thread}:${lane.events[2 * p + 1]!}`;
        started.add(open);
      }
    }
    if (open !== null) ends.set(lane.count - 1, open);
    if (ends.size > 0) taskEnds.set(lane, ends);
  }
  const doneWaitsFor = new Map<Lane, Map<number, string>>();
  for (const lane of lanes) {
    const workerOf = new Map<number, number>();
    const waits = new Map<number, string>();
    for (let p = 0; p < lane.count; p++) {
      const h = lane.events[2 * p]!;
      const k = kindOf(h);
      const task = lane.events[2 * p + 1]!;
      if (k === Kind.TaskAssign) workerOf.set(task, objectOf(h));
      if (k === Kind.TaskDone || (k === Kind.TaskFailed && objectOf(h) === 0)) {
        const worker = workerOf.get(task);
        const key = `${worker}:${task}`;
        if (worker !== undefined && started.has(key)) waits.set(p, key);
      }
    }
    if (waits.size > 0) doneWaitsFor.set(lane, waits);
  }
  return { taskEnds, doneWaitsFor };
}

function noteKind(s: ObjectStats, k: number): void {
  if (s.kinds.includes(k)) return;
  s.kinds.push(k);
  s.kinds.sort((x, y) => x - y);
}

function fillPayloadOffsets(lane: Lane): void {
  let at = 0;
  for (let p = 0; p < lane.count; p++) {
    const h = lane.events[2 * p]!;
    if (hasPayload(kindOf(h))) {
      lane.payloadAt[p] = at;
      at += lane.events[2 * p + 1]!;
    }
  }
}

/** The payload bytes of event `index` of `lane` (empty for an event without payload). */
export function payloadOf(lane: Lane, index: number): Uint8Array {
  const h = lane.events[2 * index]!;
  if (!hasPayload(kindOf(h))) return new Uint8Array(0);
  const at = lane.payloadAt[index]!;
  return lane.data.subarray(at, at + lane.events[2 * index + 1]!);
}

/** The sync-object type an object's event kinds reveal (the log stores kinds, not types). */
export function objectType(kinds: number[]): string {
  const has = (...ks: number[]): boolean => ks.some((k) => kinds.includes(k));
  if (has(Kind.ReadLock, Kind.WriteLock)) return 'rwlock';
  if (has(Kind.Lock)) return 'mutex';
  if (has(Kind.SemAcquire)) return 'semaphore';
  if (has(Kind.Barrier)) return 'barrier';
  if (has(Kind.Send, Kind.Recv, Kind.PollOk, Kind.PollEmpty, Kind.PollClosed, Kind.Close, Kind.Input)) return 'channel';
  if (kinds.some((k) => k >= Kind.AtomicAdd && k <= Kind.AtomicStore)) return 'atomic';
  if (has(Kind.WaitResult)) return 'condition';
  if (has(Kind.TryOk, Kind.TryFail)) return 'lock';
  return 'object';
}
