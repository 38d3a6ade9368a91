// `lockstep timeline --format trace`: the run as Chrome trace-event JSON, the format Perfetto
// (ui.perfetto.dev) and chrome://tracing open. One track per logical thread (pid 1, tid = the
// thread), a slice per chunk of the thread's events (its events in one frame of the log), a flow
// arrow per hand-off (from the
// event that released a version to the one that took the next), and instant events for inputs
// and outputs. Format: "Trace Event Format", Google, docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU.
//
// Times are microseconds on one of two axes: `time` (default), the coarse wall-clock times of
// event_times.ts, or `causal`, the Lamport clock (1 µs per step), where a cause is always to the
// left of its effect and events at the same position on different threads were concurrent.
//
// Pure: a Log and its analysis in, a plain object out.

import { Kind, kindNames, kindOf, objectOf } from '../engine/event.js';
import { objectName, type Log } from '../replayer/log_reader.js';
import { payloadOf, type Causality } from './causality.js';
import { eventTimes } from './event_times.js';
import { outputOf, payloadText } from './event_text.js';

export type TraceAxis = 'time' | 'causal';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 's' | 'f' | 'M';
  pid: number;
  tid: number;
  ts: number;
  cat?: string;
  dur?: number;
  s?: 't';
  id?: number;
  bp?: 'e';
  args?: Record<string, unknown>;
}

export interface Trace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, string>;
}

const PID = 1;
/** The most kinds named in a slice's args, busiest first. */
const SLICE_KINDS_MAX = 6;

export function traceOf(log: Log, c: Causality, axis: TraceAxis): Trace {
  const times = eventTimes(log);
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', pid: PID, tid: 0, ts: 0, args: { name: `lockstep: ${log.header.programPath.split(/[\\/]/).pop()}` } },
  ];
  /** An event's position on the chosen axis, in microseconds. */
  const at = (thread: number, index: number): number => {
    if (axis === 'causal') return c.laneOf.get(thread)!.clocks[index]!;
    return Math.round(times.get(thread)!.times[index]! * 1000);
  };

  for (const lane of c.lanes) {
    const t = lane.thread;
    events.push({ name: 'thread_name', ph: 'M', pid: PID, tid: t, ts: 0, args: { name: t === 0 ? 'thread 0 (main)' : `thread ${t}` } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: t, ts: 0, args: { sort_index: t } });
    let outputs = 0;
    for (const chunk of times.get(t)?.chunks ?? []) {
      if (chunk.end <= chunk.first) continue;
      const kinds = new Map<string, number>();
      for (let k = chunk.first; k < chunk.end; k++) {
        const name = kindNames[kindOf(lane.events[2 * k]!)] ?? 'event';
        kinds.set(name, (kinds.get(name) ?? 0) + 1);
      }
      const top = [...kinds].sort((x, y) => y[1] - x[1]).slice(0, SLICE_KINDS_MAX);
      // Slices on the causal axis span their events' clocks; on the time axis, the time since the
      // thread's previous chunk was taken. A flow's end binds to the slice around it, so a slice
      // always covers its own events.
      const ts = axis === 'causal' ? at(t, chunk.first) : Math.round(chunk.start * 1000);
      const end = at(t, chunk.end - 1);
      events.push({
        name: top.map(([k]) => k).join(', '), cat: 'events', ph: 'X', pid: PID, tid: t, ts, dur: Math.max(0, end - ts),
        args: { events: chunk.end - chunk.first, first: chunk.first, kinds: Object.fromEntries(top) },
      });
    }
    for (let k = 0; k < lane.count; k++) {
      const h = lane.events[2 * k]!;
      const kind = kindOf(h);
      if (kind !== Kind.Input && kind !== Kind.Output) continue;
      const bytes = payloadOf(lane, k);
      if (kind === Kind.Input) {
        events.push({ name: `input ${objectName(log, objectOf(h))}`, cat: 'input', ph: 'i', s: 't', pid: PID, tid: t, ts: at(t, k),
          args: { event: k, value: payloadText(kind, objectOf(h), bytes) } });
      } else {
        const o = outputOf(bytes);
        events.push({ name: `output ${o?.channel ?? '?'}`, cat: 'output', ph: 'i', s: 't', pid: PID, tid: t, ts: at(t, k),
          args: { event: k, id: `${t}:${outputs}`, value: o?.value ?? null } });
        outputs++;
      }
    }
  }

  const h = c.handoffs;
  for (let i = 0; i < h.count; i++) {
    const name = `hand-off ${objectName(log, h.object[i]!)}`;
    const args = { object: h.object[i]!, version: h.version[i]! };
    events.push({ name, cat: 'handoff', ph: 's', id: i + 1, pid: PID, tid: h.fromThread[i]!, ts: at(h.fromThread[i]!, h.fromIndex[i]!), args });
    events.push({ name, cat: 'handoff', ph: 'f', bp: 'e', id: i + 1, pid: PID, tid: h.toThread[i]!, ts: at(h.toThread[i]!, h.toIndex[i]!), args });
  }
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: {
      program: log.header.programPath,
      log: log.path,
      digest: log.trailer.digest,
      axis: axis === 'time' ? 'coarse wall-clock time since the run started (per chunk, from the log)' : 'Lamport clock, 1 µs per causal step',
    },
  };
}
