// `lockstep timeline --format trace` writes Chrome trace-event JSON that Perfetto and
// chrome://tracing accept: checked here against the format's rules (Trace Event Format: the
// fields each phase needs, flow starts and ends paired by id and each bound to a slice on its
// thread, metadata naming every thread), plus what lockstep puts in it: a track per thread, an
// arrow per hand-off, an instant per input and output. Also the coarse event times it and the
// timeline's time axis use (event_times.ts): within the run, never decreasing along a thread.

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { InspectReport } from '../cli/log_stats.js';
import { eventTimes } from '../cli/event_times.js';
import type { Trace, TraceEvent } from '../cli/trace_export.js';
import { readLog } from '../replayer/log_reader.js';
import { BANK, BANK_ENV, HANDOFF, lockstep, tempDir } from './fixtures/cli/helpers.js';

const PHASES = new Set(['X', 'i', 's', 'f', 'M']);

/** The Trace Event Format's rules for the phases lockstep writes; returns the events by phase. */
function checkTrace(trace: Trace): Map<string, TraceEvent[]> {
  assert.ok(Array.isArray(trace.traceEvents) && trace.traceEvents.length > 0);
  assert.ok(['ms', 'ns'].includes(trace.displayTimeUnit));
  const by = new Map<string, TraceEvent[]>();
  for (const e of trace.traceEvents) {
    assert.ok(PHASES.has(e.ph), `unknown phase ${e.ph}`);
    assert.equal(typeof e.name, 'string');
    assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), JSON.stringify(e));
    assert.ok(typeof e.ts === 'number' && Number.isFinite(e.ts) && e.ts >= 0, JSON.stringify(e));
    if (e.ph === 'X') assert.ok(typeof e.dur === 'number' && e.dur >= 0, JSON.stringify(e));
    if (e.ph === 'i') assert.ok(e.s === 't' || e.s === 'p' || e.s === 'g', JSON.stringify(e));
    if (e.ph === 's' || e.ph === 'f') assert.ok(Number.isInteger(e.id) && typeof e.cat === 'string', JSON.stringify(e));
    if (e.ph === 'M') assert.ok(['process_name', 'thread_name', 'thread_sort_index'].includes(e.name) && e.args, JSON.stringify(e));
    by.set(e.ph, [...(by.get(e.ph) ?? []), e]);
  }
  // Flows: one start and one end per id, same category; each binds to a slice around it on its
  // own thread (the start to the enclosing slice, the end, with bp "e", to the enclosing one).
  const slices = new Map<number, TraceEvent[]>();
  for (const x of by.get('X') ?? []) slices.set(x.tid, [...(slices.get(x.tid) ?? []), x]);
  const inSlice = (e: TraceEvent): boolean => (slices.get(e.tid) ?? []).some((x) => x.ts <= e.ts && e.ts <= x.ts + x.dur!);
  const starts = new Map((by.get('s') ?? []).map((e) => [e.id!, e]));
  const ends = by.get('f') ?? [];
  assert.equal(starts.size, (by.get('s') ?? []).length, 'flow ids are unique');
  assert.equal(ends.length, starts.size, 'every flow that starts ends');
  for (const f of ends) {
    const s = starts.get(f.id!);
    assert.ok(s, `flow ${f.id} ends without a start`);
    assert.equal(f.cat, s.cat);
    assert.equal(f.bp, 'e');
    assert.ok(inSlice(s) && inSlice(f), `flow ${f.id} is not inside slices on threads ${s.tid} and ${f.tid}`);
  }
  return by;
}

describe('lockstep timeline --format trace', function () {
  const dir = tempDir();
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('the handoff program: valid trace-event JSON, a named track per thread, arrows for hand-offs, instants for the input', async function () {
    const log = join(dir, 'handoff.lsl');
    assert.equal((await lockstep(['record', '-o', log, '--seed', '2', HANDOFF])).code, 0);
    const report = JSON.parse((await lockstep(['inspect', '--json', log])).stdout) as InspectReport;
    for (const axis of ['time', 'causal']) {
      const out = join(dir, `handoff.${axis}.json`);
      const r = await lockstep(['timeline', log, '--format', 'trace', '--axis', axis, '-o', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^wrote .*handoff\.\w+\.json/);
      const by = checkTrace(JSON.parse(readFileSync(out, 'utf8')) as Trace);
      const names = (by.get('M') ?? []).filter((e) => e.name === 'thread_name').map((e) => [e.tid, (e.args as { name: string }).name]);
      assert.deepEqual(names, [[0, 'thread 0 (main)'], [1, 'thread 1'], [2, 'thread 2']]);
      assert.deepEqual(new Set((by.get('X') ?? []).map((e) => e.tid)), new Set([0, 1, 2]));
      assert.equal((by.get('s') ?? []).length, report.contention.handoffs);
      assert.ok((by.get('s') ?? []).every((e) => /^hand-off (m|turn|jobs|jobs \(receive side\))$/.test(e.name)), 'hand-offs name their object');
      const instants = by.get('i') ?? [];
      assert.equal(instants.filter((e) => e.cat === 'input').length, report.inputs.length);
      assert.ok(instants.some((e) => e.name === 'input jobs'));
      assert.equal(instants.filter((e) => e.cat === 'output').length, report.outputs.length);
      if (axis === 'causal') {
        // On the causal axis a hand-off's arrow always points forward.
        const starts = new Map((by.get('s') ?? []).map((e) => [e.id, e.ts]));
        for (const f of by.get('f') ?? []) assert.ok(starts.get(f.id)! < f.ts, `flow ${f.id} points backwards`);
      }
    }
  });

  it('the bank: every hand-off an arrow, and event times within the run, never decreasing along a thread', async function () {
    const log = join(dir, 'bank.lsl');
    assert.equal((await lockstep(['record', '-o', log, BANK], BANK_ENV)).code, 0);
    const out = join(dir, 'bank.trace.json');
    assert.equal((await lockstep(['timeline', log, '--format', 'trace', '-o', out])).code, 0);
    const report = JSON.parse((await lockstep(['inspect', '--json', log])).stdout) as InspectReport;
    const by = checkTrace(JSON.parse(readFileSync(out, 'utf8')) as Trace);
    assert.equal((by.get('s') ?? []).length, report.contention.handoffs);
    assert.ok((by.get('s') ?? []).some((e) => /^hand-off account\[\d+\]$/.test(e.name)));

    const times = eventTimes(readLog(log));
    assert.equal(times.size, 5);
    let last = 0;
    for (const [thread, t] of times) {
      assert.equal(t.times.length, report.threads.find((x) => x.thread === thread)!.events);
      for (let k = 1; k < t.times.length; k++) assert.ok(t.times[k]! >= t.times[k - 1]!, `thread ${thread} event ${k} goes back in time`);
      last = Math.max(last, t.times[t.times.length - 1]!);
    }
    assert.ok(last > 0, 'the chunks carry times');
  });

  it('refuses an unknown --format or --axis', async function () {
    const r = await lockstep(['timeline', join(dir, 'handoff.lsl'), '--format', 'svg']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--format must be html or trace/);
  });
});
