// What `lockstep inspect` reports about a log, as one plain object: the header, each thread, each
// sync object's acquisitions and hand-offs, contention, inputs and outputs, and where the bytes
// go. Pure (Log + Causality in, report out) so that the JSON form is stable: keys in a fixed
// order, arrays sorted by id, ratios rounded, no timestamps and nothing from the environment.
// Bump REPORT_FORMAT when a field changes meaning or disappears; adding a field is compatible.

import { Kind, hasPayload, isOrdered, kindNames, kindOf, objectOf, valueKindNames } from '../engine/event.js';
import { objectName, type Log } from '../replayer/log_reader.js';
import { objectType, payloadOf, type Causality } from './causality.js';
import { outputOf, payloadText } from './event_text.js';

export const REPORT_FORMAT = 'lockstep-inspect/1';
/** How many objects the contention summary names. */
export const BUSIEST_MAX = 10;

export interface ThreadReport {
  thread: number;
  events: number;
  /** The thread and event index that spawned it; null for the main thread. */
  spawnedBy: { thread: number; event: number } | null;
  /** The exit code its exit event records; null if it has none (the main thread ends instead). */
  exitCode: number | null;
  /** The error the thread's code threw, as recorded; null if none. */
  error: string | null;
  /** Ordered operations (each took one version of an object). */
  ordered: number;
  /** Of those, versions it took from another thread. */
  handoffsIn: number;
  values: number;
  inputs: number;
  outputs: number;
  payloadBytes: number;
  /** Lamport clock of its last event: how deep in the run's causal order it ended. */
  lastClock: number;
}

export interface ObjectReport {
  object: number;
  /** The registered name, e.g. "account[12]" (from the log's trailer). */
  name: string;
  type: string;
  acquisitions: number;
  threads: { thread: number; count: number }[];
  handoffs: number;
  /** handoffs / (acquisitions − 1): 0 when one thread kept it, 1 when it changed hands every time. */
  handoffRatio: number;
  tryFailures: number;
  waits: number;
  timedOutWaits: number;
  inputs: number;
}

export interface InputReport {
  thread: number;
  event: number;
  /** The channel (object id) the input went into. */
  channel: number;
  bytes: number;
  value: string;
}

export interface OutputReport {
  /** The output's deterministic id, "thread:sequence", the same in every run. */
  id: string;
  thread: number;
  event: number;
  /** The output channel's name; null if the payload could not be decoded. */
  channel: string | null;
  bytes: number;
  value: string;
}

export interface KindReport {
  kind: number;
  name: string;
  count: number;
  /** Two 32-bit words per event. */
  eventBytes: number;
  payloadBytes: number;
  bytes: number;
}

export interface InspectReport {
  format: typeof REPORT_FORMAT;
  log: { path: string; bytes: number; frames: number; formatVersion: number };
  program: { path: string; hash: string; args: string[]; nodeVersion: string; seed: string };
  threadsMax: number;
  /** The start options the recording ran with (limits, patching), as the header stores them. */
  options: unknown;
  run: { threads: number; events: number; digest: string; clockMax: number };
  threads: ThreadReport[];
  objects: ObjectReport[];
  contention: {
    acquisitions: number;
    handoffs: number;
    handoffRatio: number;
    tryFailures: number;
    waits: number;
    timedOutWaits: number;
    /** Objects that more than one thread took. */
    sharedObjects: number;
    busiest: { object: number; type: string; acquisitions: number; handoffs: number; handoffRatio: number }[];
  };
  values: { kind: string; count: number }[];
  inputs: InputReport[];
  outputs: OutputReport[];
  eventKinds: KindReport[];
  /** File bytes that are not events or payloads: preamble, header, frame lengths and CRCs, FlatBuffers tables. */
  framingBytes: number;
}

export function buildReport(log: Log, c: Causality): InspectReport {
  const handoffsIn = new Map<number, number>();
  for (let i = 0; i < c.handoffs.count; i++) {
    const t = c.handoffs.toThread[i]!;
    handoffsIn.set(t, (handoffsIn.get(t) ?? 0) + 1);
  }

  const kinds = new Map<number, KindReport>();
  const values = new Map<number, number>();
  const inputs: InputReport[] = [];
  const outputs: OutputReport[] = [];
  const threads: ThreadReport[] = c.lanes.map((lane) => {
    const r: ThreadReport = {
      thread: lane.thread,
      events: lane.count,
      spawnedBy: lane.spawnedBy ? { thread: lane.spawnedBy.thread, event: lane.spawnedBy.index } : null,
      exitCode: null,
      error: null,
      ordered: 0,
      handoffsIn: handoffsIn.get(lane.thread) ?? 0,
      values: 0,
      inputs: 0,
      outputs: 0,
      payloadBytes: lane.data.length,
      lastClock: lane.count > 0 ? lane.clocks[lane.count - 1]! : 0,
    };
    for (let p = 0; p < lane.count; p++) {
      const h = lane.events[2 * p]!;
      const arg = lane.events[2 * p + 1]!;
      const k = kindOf(h);
      const o = objectOf(h);
      let kr = kinds.get(k);
      if (!kr) kinds.set(k, (kr = { kind: k, name: kindNames[k] ?? `kind#${k}`, count: 0, eventBytes: 0, payloadBytes: 0, bytes: 0 }));
      kr.count++;
      kr.eventBytes += 8; // two words per event (log format 3)
      if (hasPayload(k)) kr.payloadBytes += arg;
      if (isOrdered(k)) r.ordered++;
      if (k === Kind.Value) {
        r.values++;
        values.set(o, (values.get(o) ?? 0) + 1);
      } else if (k === Kind.Input) {
        const bytes = payloadOf(lane, p);
        inputs.push({ thread: lane.thread, event: p, channel: o, bytes: bytes.length, value: payloadText(k, o, bytes) });
        r.inputs++;
      } else if (k === Kind.Output) {
        const bytes = payloadOf(lane, p);
        const decoded = outputOf(bytes);
        outputs.push({
          id: `${lane.thread}:${r.outputs}`,
          thread: lane.thread,
          event: p,
          channel: decoded?.channel ?? null,
          bytes: bytes.length,
          value: decoded?.value ?? payloadText(k, o, bytes),
        });
        r.outputs++;
      } else if (k === Kind.Exit) {
        r.exitCode = arg;
      } else if (k === Kind.Error) {
        r.error = new TextDecoder().decode(payloadOf(lane, p));
      }
    }
    return r;
  });

  const objects: ObjectReport[] = c.objects.map((s) => ({
    object: s.object,
    name: objectName(log, s.object),
    type: objectType(s.kinds),
    acquisitions: s.acquisitions,
    threads: [...s.byThread].sort((x, y) => x[0] - y[0]).map(([thread, count]) => ({ thread, count })),
    handoffs: s.handoffs,
    handoffRatio: ratio(s.handoffs, s.acquisitions - 1),
    tryFailures: s.tryFailures,
    waits: s.waits,
    timedOutWaits: s.timedOutWaits,
    inputs: s.inputs,
  }));

  const sum = (f: (o: ObjectReport) => number): number => objects.reduce((n, o) => n + f(o), 0);
  const acquisitions = sum((o) => o.acquisitions);
  const handoffs = sum((o) => o.handoffs);
  const busiest = [...objects]
    .filter((o) => o.acquisitions > 0)
    .sort((x, y) => y.acquisitions - x.acquisitions || y.handoffs - x.handoffs || x.object - y.object)
    .slice(0, BUSIEST_MAX)
    .map((o) => ({ object: o.object, type: o.type, acquisitions: o.acquisitions, handoffs: o.handoffs, handoffRatio: o.handoffRatio }));

  const eventKinds = [...kinds.values()].sort((x, y) => x.kind - y.kind);
  for (const k of eventKinds) k.bytes = k.eventBytes + k.payloadBytes;
  const eventBytes = eventKinds.reduce((n, k) => n + k.bytes, 0);

  return {
    format: REPORT_FORMAT,
    log: { path: log.path, bytes: log.bytes, frames: log.frames, formatVersion: log.header.formatVersion },
    program: {
      path: log.header.programPath,
      hash: log.header.programHash,
      args: log.header.args,
      nodeVersion: log.header.nodeVersion,
      seed: log.header.seed.toString(),
    },
    threadsMax: log.header.threadsMax,
    options: parseOptions(log.header.options),
    run: { threads: log.trailer.threadCount, events: log.trailer.eventCount, digest: log.trailer.digest, clockMax: c.clockMax },
    threads,
    objects,
    contention: {
      acquisitions,
      handoffs,
      // Over all objects: of the acquisitions that had a predecessor, how many changed thread.
      handoffRatio: ratio(handoffs, acquisitions - objects.filter((o) => o.acquisitions > 0).length),
      tryFailures: sum((o) => o.tryFailures),
      waits: sum((o) => o.waits),
      timedOutWaits: sum((o) => o.timedOutWaits),
      sharedObjects: objects.filter((o) => o.threads.length > 1).length,
      busiest,
    },
    values: [...values].sort((x, y) => x[0] - y[0]).map(([k, count]) => ({ kind: valueKindNames[k] ?? `value#${k}`, count })),
    inputs,
    outputs,
    eventKinds,
    framingBytes: log.bytes - eventBytes,
  };
}

function ratio(n: number, d: number): number {
  return d > 0 ? Math.round((n / d) * 10_000) / 10_000 : 0;
}

function parseOptions(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
