// Builds the self-contained HTML page of `lockstep timeline`: markup and styles, the view code
// from timeline_view.ts, and the run's data. Nothing is fetched when the page opens, so it can be
// mailed, attached to a bug, or opened from a CI artifact.
//
// The data is one binary blob of 32-bit little-endian words (every browser that runs this is
// little-endian, as typed arrays assume), gzip-compressed and base64-encoded into a script tag:
//   per lane: clocks[count] (Lamport), heads[count], args[count]   (event words, event.ts),
//             times[count] (float32 ms since the run started, event_times.ts)
//   hand-offs, sorted by the clock of the taking event: object, version, fromThread, fromClock,
//   toThread, toClock, fromTime, toTime (float32 ms)
// A million events with their hand-offs come to a few megabytes of page. The manifest (JSON)
// gives each section's offset and the names the view needs.

import { gzipSync } from 'node:zlib';
import { Kind, isOrdered, kindNames, valueKindNames } from '../engine/event.js';
import { objectName, type Log } from '../replayer/log_reader.js';
import { objectType, type Causality } from './causality.js';
import { eventTimes } from './event_times.js';
import { timelineBoot, timelineView, type TimelineManifest } from './timeline_view.js';

/** Objects listed under the timeline. */
const BUSIEST_MAX = 20;

export function timelinePage(log: Log, c: Causality): string {
  const { manifest, blob } = pack(log, c);
  const program = log.header.programPath;
  const data = gzipSync(Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength), { level: 6 }).toString('base64');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(manifest.title)}</title>
<style>
  body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #202124; background: #fff; }
  header { padding: 12px 16px 6px; border-bottom: 1px solid #e3e5e8; }
  h1 { font-size: 17px; margin: 0 0 4px; }
  h2 { font-size: 14px; margin: 18px 0 6px; }
  .meta { color: #5f6368; word-break: break-all; }
  .meta b { color: #202124; font-weight: 600; }
  #toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 8px 16px; }
  #toolbar button { font: inherit; padding: 2px 10px; border: 1px solid #c4c7cc; background: #fff; border-radius: 4px; cursor: pointer; }
  #readout { color: #5f6368; }
  .legend { display: flex; gap: 12px; flex-wrap: wrap; padding: 0 16px 6px; color: #5f6368; }
  .legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; background: var(--c); }
  #chart { position: relative; display: flex; margin: 0 16px; border: 1px solid #e3e5e8; }
  #labels { position: relative; width: 130px; flex: none; border-right: 1px solid #e3e5e8; background: #fafbfc; }
  .lane-label { position: absolute; left: 0; right: 0; padding: 0 8px; white-space: nowrap; overflow: hidden; font-size: 12px; }
  #canvas { flex: 1; min-width: 0; display: block; cursor: grab; }
  #details { margin: 6px 16px; min-height: 1.4em; color: #3c4043; font-family: ui-monospace, monospace; font-size: 12px; }
  #status { margin: 6px 16px; color: #d93025; }
  section { padding: 0 16px 24px; }
  table { border-collapse: collapse; }
  th, td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid #eef0f2; }
  td:nth-child(3), td:nth-child(4) { text-align: right; }
  tbody tr { cursor: pointer; }
  tbody tr:hover { background: #f1f3f4; }
  tbody tr.selected { background: #e8f0fe; }
  .object-id { color: #80868b; }
  .swatch { display: inline-block; width: 9px; height: 9px; margin-right: 6px; border-radius: 2px; }
  .note { color: #5f6368; max-width: 70em; }
</style>
</head>
<body>
<header>
  <h1>lockstep timeline</h1>
  <div class="meta"><b>program</b> ${escapeHtml(program)} · <b>log</b> ${escapeHtml(log.path)} · <b>threads</b> ${manifest.threads.length} ·
  <b>events</b> ${manifest.events.toLocaleString('en-US')} · <b>hand-offs</b> ${manifest.handoffs.toLocaleString('en-US')} · <b>digest</b> ${escapeHtml(manifest.digest.slice(0, 16))}…</div>
</header>
<div id="toolbar">
  <button id="zoom-in" title="zoom in (+)">+</button>
  <button id="zoom-out" title="zoom out (-)">−</button>
  <button id="zoom-fit" title="whole run (0)">fit</button>
  <button id="axis" title="switch between causal and wall-clock time (t)">time</button>
  <span id="readout"></span>
</div>
<div class="legend">
  <span style="--c:#3b6fd4">sync (lock, atomic, channel…)</span>
  <span style="--c:#9aa0a6">values (clock, random)</span>
  <span style="--c:#1e9e55">inputs ▼</span>
  <span style="--c:#e07b00">outputs ▲</span>
  <span style="--c:#333333">spawn / exit / end</span>
  <span style="--c:#d93025">errors</span>
  <span style="--c:rgba(120,60,200,.8)">hand-off density (top row)</span>
</div>
<div id="chart"><div id="labels"></div><canvas id="canvas"></canvas></div>
<div id="details">Hover over a lane for details; scroll to zoom, drag to pan, double-click to zoom in (shift: out).</div>
<div id="status"></div>
<section id="busiest">
  <h2>busiest objects</h2>
  <p class="note">Click a row to highlight that object's events and hand-offs. A hand-off is a version of an object
  taken by a different thread than the version before it; lines join the two events. Objects are shown by the
  names the program created them with (and their ids).</p>
  <table><thead><tr><th>object</th><th>type</th><th>acquisitions</th><th>hand-offs</th><th>threads (acquisitions)</th></tr></thead><tbody></tbody></table>
  <p class="note">The horizontal axis is causal time (a Lamport clock) by default: an event is always to the right of
  everything that led to it, and events at the same position on different lanes were concurrent. The <b>time</b> button
  (or t) switches to wall-clock time since the run started: the log stamps each chunk of a thread's events with the time
  the recorder took it, so times are coarse (events of one chunk are spread over the time since the thread's previous
  chunk), but lanes busy at the same time ran in parallel.</p>
</section>
<script id="lockstep-manifest" type="application/json">${scriptSafe(JSON.stringify(manifest))}</script>
<script id="lockstep-data" type="application/octet-stream">${data}</script>
<script>
${timelineView.toString()}
${timelineBoot.toString()}
timelineBoot();
</script>
</body>
</html>
`;
}

function pack(log: Log, c: Causality): { manifest: TimelineManifest; blob: Int32Array } {
  const h = c.handoffs;
  const total = c.lanes.reduce((n, l) => n + 4 * l.count, 0) + 8 * h.count;
  const times = eventTimes(log);
  const float = (xs: Float64Array): Int32Array => new Int32Array(Float32Array.from(xs).buffer);
  const blob = new Int32Array(total);
  let at = 0;
  const put = (words: Int32Array | Uint32Array): number => {
    const start = at;
    blob.set(words instanceof Int32Array ? words : new Int32Array(words.buffer, words.byteOffset, words.length), at);
    at += words.length;
    return start;
  };

  const lanes = c.lanes.map((lane) => {
    const heads = new Int32Array(lane.count);
    const args = new Int32Array(lane.count);
    for (let p = 0; p < lane.count; p++) {
      heads[p] = lane.events[2 * p]!;
      args[p] = lane.events[2 * p + 1]!;
    }
    return { clocks: put(lane.clocks), heads: put(heads), args: put(args), times: put(float(times.get(lane.thread)!.times)) };
  });

  // The view finds the hand-offs in view by binary search on the taking event's clock.
  const order = Array.from({ length: h.count }, (_, i) => i);
  const clockOf = (thread: number, index: number): number => c.laneOf.get(thread)!.clocks[index]!;
  const toClock = Uint32Array.from(order, (i) => clockOf(h.toThread[i]!, h.toIndex[i]!));
  order.sort((x, y) => toClock[x]! - toClock[y]! || x - y);
  const column = (f: (i: number) => number): Int32Array => Int32Array.from(order, f);
  const handoffs = {
    object: put(column((i) => h.object[i]!)),
    version: put(column((i) => h.version[i]!)),
    fromThread: put(column((i) => h.fromThread[i]!)),
    fromClock: put(column((i) => clockOf(h.fromThread[i]!, h.fromIndex[i]!))),
    toThread: put(column((i) => h.toThread[i]!)),
    toClock: put(column((i) => toClock[i]!)),
    fromTime: put(float(Float64Array.from(order, (i) => times.get(h.fromThread[i]!)!.times[h.fromIndex[i]!]!))),
    toTime: put(float(Float64Array.from(order, (i) => times.get(h.toThread[i]!)!.times[h.toIndex[i]!]!))),
  };
  let timeMax = 0;
  for (const t of times.values()) if (t.times.length > 0) timeMax = Math.max(timeMax, t.times[t.times.length - 1]!);
  const objectNames: Record<string, string> = {};
  for (const o of c.objects) objectNames[String(o.object)] = objectName(log, o.object);

  const categories: Record<string, number> = {};
  const orderedKinds: number[] = [];
  for (const k of Object.keys(kindNames).map(Number)) {
    categories[String(k)] = categoryOf(k);
    if (isOrdered(k)) orderedKinds.push(k);
  }
  const busiest = [...c.objects]
    .filter((o) => o.acquisitions > 0)
    .sort((x, y) => y.acquisitions - x.acquisitions || y.handoffs - x.handoffs || x.object - y.object)
    .slice(0, BUSIEST_MAX)
    .map((o) => ({
      object: o.object,
      name: objectName(log, o.object),
      type: objectType(o.kinds),
      acquisitions: o.acquisitions,
      handoffs: o.handoffs,
      threads: [...o.byThread].sort((x, y) => x[0] - y[0]).map(([t, n]) => `${t}:${n.toLocaleString('en-US')}`).join(' '),
    }));

  const programName = log.header.programPath.split(/[\\/]/).pop() ?? log.header.programPath;
  const manifest: TimelineManifest = {
    title: `lockstep timeline: ${programName}`,
    logPath: log.path,
    program: log.header.programPath,
    digest: log.trailer.digest,
    events: c.lanes.reduce((n, l) => n + l.count, 0),
    clockMax: c.clockMax,
    timeMax,
    objectNames,
    threads: c.lanes.map((l) => ({
      thread: l.thread,
      count: l.count,
      spawnedBy: l.spawnedBy ? `spawned by thread ${l.spawnedBy.thread} at its event ${l.spawnedBy.index}` : 'main thread',
    })),
    handoffs: h.count,
    sections: { lanes, handoffs },
    kindNames: Object.fromEntries(Object.entries(kindNames).map(([k, v]) => [k, v])),
    valueKindNames,
    categories,
    orderedKinds,
    spawnKind: Kind.Spawn,
    exitKind: Kind.Exit,
    busiest,
  };
  return { manifest, blob };
}

/** The view's colour group for an event kind (see TimelineManifest.categories). */
function categoryOf(k: number): number {
  if (isOrdered(k) || k === Kind.TryFail || k === Kind.PollEmpty || k === Kind.WaitResult) return 0;
  if (k === Kind.Value) return 1;
  if (k === Kind.Input) return 2;
  if (k === Kind.Output) return 3;
  if (k === Kind.Error) return 5;
  return 4;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** JSON inside a script tag must not contain "</script" or "<!--". */
function scriptSafe(json: string): string {
  return json.replace(/</g, '\\u003c');
}
