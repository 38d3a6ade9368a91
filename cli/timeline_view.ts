// The browser side of `lockstep timeline`: the code that runs inside the generated HTML page.
// timeline_page.ts embeds the source of the two functions below (Function.prototype.toString of
// the compiled JS), so they must be self-contained: no imports, no references to anything
// outside their own bodies. Written in TypeScript so the compiler checks them against the DOM.
//
// Drawing: one lane per thread, x = Lamport clock (causal order: events at the same x on
// different lanes are concurrent), or x = the coarse wall-clock time of each event (event_times.ts;
// the t key and the time button switch; every per-lane array is sorted on both axes). Each frame costs O(pixels × log events), never O(events):
// a lane whose visible events would be closer than EVENT_PX apart is drawn aggregated, one
// column per BUCKET_PX pixels, with counts from per-category prefix sums located by binary
// search; hand-offs are drawn as lines only while few enough are in view, and as a density row
// otherwise. That is what keeps a million-event log usable at every zoom level.

/** What the page knows besides the binary arrays (built by timeline_page.ts). */
export interface TimelineManifest {
  title: string;
  logPath: string;
  program: string;
  digest: string;
  events: number;
  clockMax: number;
  /** The last event's time, ms since the run started (the time axis's extent). */
  timeMax: number;
  /** Every object in the log by id: the name it was created with ("account[12]"). */
  objectNames: Record<string, string>;
  threads: { thread: number; count: number; spawnedBy: string }[];
  handoffs: number;
  /** The binary blob's sections, in 4-byte words from its start. */
  sections: {
    lanes: { clocks: number; heads: number; args: number; times: number }[];
    handoffs: { object: number; version: number; fromThread: number; fromClock: number; toThread: number; toClock: number; fromTime: number; toTime: number };
  };
  kindNames: Record<string, string>;
  valueKindNames: string[];
  /** Display category of each event kind: 0 sync, 1 value, 2 input, 3 output, 4 lifecycle, 5 error. */
  categories: Record<string, number>;
  orderedKinds: number[];
  spawnKind: number;
  exitKind: number;
  busiest: { object: number; name: string; type: string; acquisitions: number; handoffs: number; threads: string }[];
}

/** Decodes the embedded data (gzip, base64) and starts the view; any failure is shown and logged. */
export async function timelineBoot(): Promise<void> {
  const fail = (e: unknown): void => {
    const box = document.getElementById('status');
    if (box) box.textContent = `cannot show this timeline: ${e instanceof Error ? e.message : String(e)}`;
    console.error(e);
  };
  try {
    const manifest = JSON.parse(document.getElementById('lockstep-manifest')!.textContent!) as TimelineManifest;
    const text = atob(document.getElementById('lockstep-data')!.textContent!.trim());
    const packed = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) packed[i] = text.charCodeAt(i);
    const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream('gzip'));
    const buffer = await new Response(stream).arrayBuffer();
    timelineView(manifest, buffer);
  } catch (e) {
    fail(e);
  }
}

export function timelineView(m: TimelineManifest, buffer: ArrayBuffer): void {
  const EVENT_PX = 3;
  const BUCKET_PX = 2;
  const HANDOFF_LINES_MAX = 3000;
  const RULER_H = 26;
  const HANDOFF_ROW_H = 16;
  const COLORS = ['#3b6fd4', '#9aa0a6', '#1e9e55', '#e07b00', '#333333', '#d93025'];
  const CATEGORY_NAMES = ['sync', 'values', 'inputs', 'outputs', 'lifecycle', 'errors'];
  const words = new Int32Array(buffer);
  const u32 = new Uint32Array(buffer);
  const f32 = new Float32Array(buffer);

  interface Lane {
    thread: number;
    count: number;
    clocks: Uint32Array;
    /** ms since the run started, never decreasing along the lane. */
    times: Float32Array;
    heads: Int32Array;
    args: Int32Array;
    /** prefix[c][i] = events of category c among the first i. */
    prefix: Uint32Array[];
  }
  const lanes: Lane[] = m.threads.map((t, i) => {
    const s = m.sections.lanes[i]!;
    const clocks = u32.subarray(s.clocks, s.clocks + t.count);
    const times = f32.subarray(s.times, s.times + t.count);
    const heads = words.subarray(s.heads, s.heads + t.count);
    const args = words.subarray(s.args, s.args + t.count);
    const prefix = CATEGORY_NAMES.map(() => new Uint32Array(t.count + 1));
    for (let k = 0; k < t.count; k++) {
      const cat = m.categories[String(heads[k]! >>> 24)] ?? 4;
      for (let c = 0; c < prefix.length; c++) prefix[c]![k + 1] = prefix[c]![k]! + (c === cat ? 1 : 0);
    }
    return { thread: t.thread, count: t.count, clocks, times, heads, args, prefix };
  });
  const laneIndex = new Map(lanes.map((l, i) => [l.thread, i]));
  const hs = m.sections.handoffs;
  const H = {
    object: words.subarray(hs.object, hs.object + m.handoffs),
    version: u32.subarray(hs.version, hs.version + m.handoffs),
    fromThread: words.subarray(hs.fromThread, hs.fromThread + m.handoffs),
    fromClock: u32.subarray(hs.fromClock, hs.fromClock + m.handoffs),
    toThread: words.subarray(hs.toThread, hs.toThread + m.handoffs),
    toClock: u32.subarray(hs.toClock, hs.toClock + m.handoffs),
    fromTime: f32.subarray(hs.fromTime, hs.fromTime + m.handoffs),
    toTime: f32.subarray(hs.toTime, hs.toTime + m.handoffs),
  };
  // Hand-offs as each axis needs them: sorted by the taking event's position, for binary search.
  interface AxisHandoffs { object: ArrayLike<number>; fromThread: ArrayLike<number>; toThread: ArrayLike<number>; from: ArrayLike<number>; to: ArrayLike<number> }
  const byClock: AxisHandoffs = { object: H.object, fromThread: H.fromThread, toThread: H.toThread, from: H.fromClock, to: H.toClock };
  const timeOrder = Array.from({ length: m.handoffs }, (_, i) => i).sort((a, b) => H.toTime[a]! - H.toTime[b]! || a - b);
  const pick = <T extends Int32Array | Float32Array>(a: T, make: (n: number) => T): T => {
    const out = make(timeOrder.length);
    timeOrder.forEach((i, k) => (out[k] = a[i]!));
    return out;
  };
  const byTime: AxisHandoffs = {
    object: pick(H.object, (n) => new Int32Array(n)),
    fromThread: pick(H.fromThread, (n) => new Int32Array(n)),
    toThread: pick(H.toThread, (n) => new Int32Array(n)),
    from: pick(H.fromTime, (n) => new Float32Array(n)),
    to: pick(H.toTime, (n) => new Float32Array(n)),
  };
  let axis: 'causal' | 'time' = 'causal';
  const X = (lane: Lane): ArrayLike<number> => (axis === 'time' ? lane.times : lane.clocks);
  const HX = (): AxisHandoffs => (axis === 'time' ? byTime : byClock);
  const extent = (): { x0: number; x1: number } => (axis === 'time' ? { x0: 0, x1: Math.max(m.timeMax, 0.001) * 1.0001 } : { x0: 0, x1: Math.max(1, m.clockMax) + 1 });
  const objectName = (object: number): string => m.objectNames[String(object)] ?? `object ${object}`;

  const canvas = document.getElementById('canvas') as HTMLCanvasElement;
  const labels = document.getElementById('labels')!;
  const readout = document.getElementById('readout')!;
  const details = document.getElementById('details')!;
  const ctx = canvas.getContext('2d')!;
  const laneH = Math.max(16, Math.min(40, Math.floor(560 / Math.max(1, lanes.length))));
  const top = RULER_H + HANDOFF_ROW_H;
  const cssHeight = top + lanes.length * laneH + 8;
  const full = extent();
  const view = { x0: full.x0, x1: full.x1 };
  let highlighted: number | null = null;
  let highlightMarks: { lane: number; k: number }[] = [];
  const frame = { axis: 'causal', mode: 'events', lanesAggregated: 0, lanesEvents: 0, handoffMode: 'lines', handoffsInView: 0, primitives: 0, width: 0 };

  for (const [i, lane] of lanes.entries()) {
    const label = document.createElement('div');
    label.className = 'lane-label';
    label.dataset.thread = String(lane.thread);
    label.style.top = `${top + i * laneH}px`;
    label.style.height = `${laneH}px`;
    label.style.lineHeight = `${laneH}px`;
    label.textContent = lane.thread === 0 ? 'thread 0 (main)' : `thread ${lane.thread}`;
    label.title = `${m.threads[i]!.count.toLocaleString('en-US')} events; ${m.threads[i]!.spawnedBy}`;
    labels.appendChild(label);
  }
  labels.style.height = `${cssHeight}px`;

  const lowerBound = (a: ArrayLike<number>, x: number, lo = 0, hi = a.length): number => {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  /** The first index whose value is above x (lowerBound(x + 1) for whole numbers). */
  const upperBound = (a: ArrayLike<number>, x: number, lo = 0, hi = a.length): number => {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  /** A position on the current axis, for a person: "1,234" (causal) or "12.35 ms" (time). */
  const fmtX = (x: number): string => {
    if (axis === 'causal') return fmt(x);
    const digits = Math.max(0, Math.min(6, 2 - Math.floor(Math.log10(Math.max(1e-6, (view.x1 - view.x0) / 10)))));
    return `${x.toFixed(digits)} ms`;
  };
  const axisName = (): string => (axis === 'causal' ? 'causal time' : 'time');
  const width = (): number => canvas.clientWidth;
  const xOf = (clock: number): number => ((clock - view.x0) / (view.x1 - view.x0)) * width();
  const clockAt = (x: number): number => view.x0 + (x / width()) * (view.x1 - view.x0);
  const laneY = (i: number): number => top + i * laneH;
  const hue = (object: number): string => `hsl(${(object * 137.508) % 360} 70% 45%)`;
  const describe = (head: number, arg: number): string => {
    const kind = head >>> 24;
    const object = head & 0xffffff;
    const name = m.kindNames[String(kind)] ?? `kind#${kind}`;
    if (m.categories[String(kind)] === 1) return `${name}(${m.valueKindNames[object] ?? object})`;
    if (m.orderedKinds.includes(kind)) return `${name}(${objectName(object)}, version ${arg >>> 0})`;
    if (kind === m.spawnKind) return `${name}(thread ${object})`;
    if (kind === m.exitKind) return `${name}(code ${arg})`;
    if (m.categories[String(kind)] === 0 || m.categories[String(kind)] === 2) return `${name}(${objectName(object)})`;
    return name;
  };

  function draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = width();
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(cssHeight * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(cssHeight * dpr);
      canvas.style.height = `${cssHeight}px`;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, cssHeight);
    frame.lanesAggregated = 0;
    frame.lanesEvents = 0;
    frame.primitives = 0;
    frame.width = w;
    drawRuler(w);
    for (let i = 0; i < lanes.length; i++) drawLane(i, w);
    drawHandoffs(w);
    drawHighlight();
    frame.axis = axis;
    frame.mode = frame.lanesAggregated === 0 ? 'events' : frame.lanesEvents === 0 ? 'aggregate' : 'mixed';
    const span = view.x1 - view.x0;
    readout.textContent = `${axisName()} ${fmtX(view.x0)}–${fmtX(view.x1)} of ${fmtX(full.x1)} (${(full.x1 / span).toFixed(1)}×) · ` +
      `${frame.mode === 'events' ? 'every event shown' : frame.mode === 'aggregate' ? 'aggregated (zoom in for single events)' : 'partly aggregated'} · ` +
      `${fmt(frame.handoffsInView)} hand-offs in view${frame.handoffMode === 'density' ? ' (as density; zoom in for lines)' : ''}`;
    document.body.dataset.ready = '1';
  }

  function drawRuler(w: number): void {
    ctx.fillStyle = '#f4f5f7';
    ctx.fillRect(0, 0, w, RULER_H);
    ctx.fillStyle = '#555';
    ctx.font = '11px sans-serif';
    ctx.textBaseline = 'middle';
    const span = view.x1 - view.x0;
    const raw = span / Math.max(1, w / 110);
    const pow = Math.pow(10, Math.floor(Math.log10(Math.max(axis === 'causal' ? 1 : 1e-6, raw))));
    const step = [1, 2, 5, 10].map((f) => f * pow).find((s) => s >= raw) ?? 10 * pow;
    for (let c = Math.ceil(view.x0 / step) * step; c <= view.x1; c += step) {
      const x = xOf(c);
      ctx.fillRect(x, RULER_H - 6, 1, 6);
      ctx.fillText(fmtX(c), x + 3, RULER_H / 2 - 2);
      frame.primitives++;
    }
    ctx.fillStyle = '#fafafa';
    ctx.fillRect(0, RULER_H, w, HANDOFF_ROW_H);
  }

  function drawLane(i: number, w: number): void {
    const lane = lanes[i]!;
    const y = laneY(i);
    ctx.fillStyle = i % 2 === 0 ? '#ffffff' : '#f7f8fa';
    ctx.fillRect(0, y, w, laneH);
    ctx.fillStyle = '#e3e5e8';
    ctx.fillRect(0, y + laneH - 1, w, 1);
    const xs = X(lane);
    const lo = lowerBound(xs, view.x0);
    const hi = upperBound(xs, view.x1);
    if (hi <= lo) return;
    const mid = y + laneH / 2;
    if ((hi - lo) * EVENT_PX <= w) {
      frame.lanesEvents++;
      for (let k = lo; k < hi; k++) {
        const x = xOf(xs[k]!);
        const kind = lane.heads[k]! >>> 24;
        const cat = m.categories[String(kind)] ?? 4;
        ctx.fillStyle = COLORS[cat]!;
        if (cat === 2 || cat === 3) marker(x, mid, cat === 2);
        else {
          const h = cat === 0 ? laneH * 0.6 : cat === 1 ? laneH * 0.3 : laneH * 0.8;
          ctx.fillRect(x - 0.5, mid - h / 2, Math.max(1.5, Math.min(6, w / (view.x1 - view.x0) - 1)), h);
        }
        frame.primitives++;
      }
      return;
    }
    frame.lanesAggregated++;
    const columns = Math.ceil(w / BUCKET_PX);
    let peak = 1;
    const totals = new Uint32Array(columns);
    const starts = new Uint32Array(columns + 1);
    let p = lo;
    for (let b = 0; b <= columns; b++) {
      p = lowerBound(xs, clockAt(b * BUCKET_PX), p, hi);
      starts[b] = p;
    }
    for (let b = 0; b < columns; b++) {
      totals[b] = starts[b + 1]! - starts[b]!;
      if (totals[b]! > peak) peak = totals[b]!;
    }
    const scale = (laneH - 4) / Math.log2(1 + peak);
    for (let b = 0; b < columns; b++) {
      const n = totals[b]!;
      if (n === 0) continue;
      const h = Math.max(1, Math.log2(1 + n) * scale);
      let yy = mid + h / 2;
      for (const c of [0, 1, 4, 5]) {
        const part = lane.prefix[c]![starts[b + 1]!]! - lane.prefix[c]![starts[b]!]!;
        if (part === 0) continue;
        const ph = (h * part) / n;
        ctx.fillStyle = COLORS[c]!;
        ctx.fillRect(b * BUCKET_PX, yy - ph, BUCKET_PX, ph);
        yy -= ph;
        frame.primitives++;
      }
      for (const c of [2, 3]) {
        if (lane.prefix[c]![starts[b + 1]!]! - lane.prefix[c]![starts[b]!]! === 0) continue;
        ctx.fillStyle = COLORS[c]!;
        marker(b * BUCKET_PX + BUCKET_PX / 2, mid, c === 2);
        frame.primitives++;
      }
    }
  }

  /** Inputs point down into the lane from above, outputs up out of it from below. */
  function marker(x: number, mid: number, input: boolean): void {
    const s = Math.min(6, laneH / 3);
    const yy = input ? mid - laneH / 2 + 1 : mid + laneH / 2 - 1;
    ctx.beginPath();
    ctx.moveTo(x - s / 1.5, yy);
    ctx.lineTo(x + s / 1.5, yy);
    ctx.lineTo(x, input ? yy + s : yy - s);
    ctx.closePath();
    ctx.fill();
  }

  function drawHandoffs(w: number): void {
    const hv = HX();
    const lo = lowerBound(hv.to, view.x0);
    const hi = upperBound(hv.to, view.x1);
    frame.handoffsInView = hi - lo;
    if (hi - lo <= HANDOFF_LINES_MAX) {
      frame.handoffMode = 'lines';
      ctx.lineWidth = 1;
      for (let k = lo; k < hi; k++) {
        const from = laneIndex.get(hv.fromThread[k]!);
        const to = laneIndex.get(hv.toThread[k]!);
        if (from === undefined || to === undefined) continue;
        const o = hv.object[k]!;
        const dim = highlighted !== null && o !== highlighted;
        ctx.strokeStyle = hue(o);
        ctx.globalAlpha = dim ? 0.12 : highlighted !== null ? 1 : 0.55;
        ctx.lineWidth = highlighted === o ? 2 : 1;
        const x0 = xOf(hv.from[k]!);
        const x1 = xOf(hv.to[k]!);
        const y0 = laneY(from) + laneH / 2;
        const y1 = laneY(to) + laneH / 2;
        ctx.beginPath();
        ctx.moveTo(x0, y0);
        ctx.bezierCurveTo((x0 + x1) / 2, y0, (x0 + x1) / 2, y1, x1, y1);
        ctx.stroke();
        ctx.fillStyle = ctx.strokeStyle;
        ctx.fillRect(x1 - 1.5, y1 - 1.5, 3, 3);
        frame.primitives++;
      }
      ctx.globalAlpha = 1;
      ctx.lineWidth = 1;
    } else {
      frame.handoffMode = 'density';
    }
    // The density row is always drawn: it shows where hand-offs cluster at any zoom.
    const columns = Math.ceil(w / BUCKET_PX);
    const counts = new Uint32Array(columns);
    let peak = 1;
    let p = lo;
    for (let b = 0; b < columns; b++) {
      const q = lowerBound(hv.to, clockAt((b + 1) * BUCKET_PX), p, hi);
      counts[b] = q - p;
      if (q - p > peak) peak = q - p;
      p = q;
    }
    for (let b = 0; b < columns; b++) {
      if (counts[b] === 0) continue;
      ctx.fillStyle = `rgba(120, 60, 200, ${0.15 + (0.85 * counts[b]!) / peak})`;
      ctx.fillRect(b * BUCKET_PX, RULER_H + 2, BUCKET_PX, HANDOFF_ROW_H - 4);
      frame.primitives++;
    }
  }

  function drawHighlight(): void {
    if (highlighted === null) return;
    ctx.fillStyle = hue(highlighted);
    let last = -1;
    let lastLane = -1;
    for (const h of highlightMarks) {
      const at = X(lanes[h.lane]!)[h.k]!;
      if (at < view.x0 || at > view.x1) continue;
      const x = Math.round(xOf(at));
      if (x === last && h.lane === lastLane) continue;
      last = x;
      lastLane = h.lane;
      ctx.fillRect(x - 1, laneY(h.lane) + 1, 2, 4);
      frame.primitives++;
    }
  }

  function highlight(object: number | null): void {
    highlighted = object;
    highlightMarks = [];
    if (object !== null) {
      lanes.forEach((lane, i) => {
        for (let k = 0; k < lane.count; k++) {
          const h = lane.heads[k]!;
          if ((h & 0xffffff) === object && (m.categories[String(h >>> 24)] === 0 || m.categories[String(h >>> 24)] === 2)) {
            highlightMarks.push({ lane: i, k });
          }
        }
      });
      highlightMarks.sort((a, b) => a.lane - b.lane || a.k - b.k);
    }
    for (const row of document.querySelectorAll<HTMLTableRowElement>('#busiest tbody tr')) {
      row.classList.toggle('selected', row.dataset.object === String(object));
    }
    schedule();
  }

  let pending = false;
  function schedule(): void {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  }

  function zoomTo(x0: number, x1: number): void {
    const minSpan = axis === 'causal' ? 8 : 0.01;
    let a = Math.max(full.x0, Math.min(x0, x1));
    let b = Math.min(full.x1, Math.max(x0, x1));
    if (b - a < minSpan) {
      const c = (a + b) / 2;
      a = Math.max(full.x0, c - minSpan / 2);
      b = Math.min(full.x1, a + minSpan);
    }
    view.x0 = a;
    view.x1 = b;
    schedule();
  }

  function zoomAt(x: number, factor: number): void {
    const c = clockAt(x);
    zoomTo(c - (c - view.x0) * factor, c + (view.x1 - c) * factor);
  }

  function pan(dx: number): void {
    const d = (dx / width()) * (view.x1 - view.x0);
    const span = view.x1 - view.x0;
    const a = Math.max(full.x0, Math.min(full.x1 - span, view.x0 - d));
    zoomTo(a, a + span);
  }

  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) pan(-e.deltaX);
    else zoomAt(e.offsetX, Math.exp(e.deltaY * 0.0015));
  }, { passive: false });
  let dragX: number | null = null;
  canvas.addEventListener('mousedown', (e) => {
    dragX = e.clientX;
  });
  window.addEventListener('mouseup', () => {
    dragX = null;
  });
  window.addEventListener('mousemove', (e) => {
    if (dragX === null) return;
    pan(e.clientX - dragX);
    dragX = e.clientX;
  });
  canvas.addEventListener('dblclick', (e) => zoomAt(e.offsetX, e.shiftKey ? 2 : 0.5));
  canvas.addEventListener('mousemove', (e) => showDetails(e.offsetX, e.offsetY));
  window.addEventListener('keydown', (e) => {
    if (e.key === '+' || e.key === '=') zoomAt(width() / 2, 0.5);
    else if (e.key === '-') zoomAt(width() / 2, 2);
    else if (e.key === '0') zoomTo(full.x0, full.x1);
    else if (e.key === 't') setAxis(axis === 'causal' ? 'time' : 'causal');
    else if (e.key === 'ArrowLeft') pan(width() / 4);
    else if (e.key === 'ArrowRight') pan(-width() / 4);
  });
  document.getElementById('zoom-in')!.addEventListener('click', () => zoomAt(width() / 2, 0.5));
  document.getElementById('zoom-out')!.addEventListener('click', () => zoomAt(width() / 2, 2));
  document.getElementById('zoom-fit')!.addEventListener('click', () => zoomTo(full.x0, full.x1));
  const axisButton = document.getElementById('axis')!;
  axisButton.addEventListener('click', () => setAxis(axis === 'causal' ? 'time' : 'causal'));

  /** Switches the x axis and shows the whole run on it (positions on the two axes do not map). */
  function setAxis(to: 'causal' | 'time'): void {
    axis = to;
    Object.assign(full, extent());
    axisButton.textContent = axis === 'causal' ? 'time' : 'causal';
    zoomTo(full.x0, full.x1);
  }
  window.addEventListener('resize', schedule);

  function showDetails(x: number, y: number): void {
    const i = Math.floor((y - top) / laneH);
    const lane = lanes[i];
    if (!lane || y < top) {
      details.textContent = 'Hover over a lane for details; scroll to zoom, drag to pan, double-click to zoom in (shift: out).';
      return;
    }
    const c0 = clockAt(x - EVENT_PX);
    const c1 = clockAt(x + EVENT_PX);
    const xs = X(lane);
    const lo = lowerBound(xs, c0);
    const hi = upperBound(xs, c1);
    if (hi <= lo) {
      details.textContent = `thread ${lane.thread} · ${axisName()} ${fmtX(clockAt(x))} · no event here`;
    } else if (hi - lo === 1) {
      details.textContent = `thread ${lane.thread} · event ${fmt(lo)} · ${axisName()} ${fmtX(xs[lo]!)} · ${describe(lane.heads[lo]!, lane.args[lo]!)}`;
    } else {
      const parts = CATEGORY_NAMES.map((name, c) => [name, lane.prefix[c]![hi]! - lane.prefix[c]![lo]!] as const)
        .filter(([, n]) => n > 0)
        .map(([name, n]) => `${fmt(n)} ${name}`);
      details.textContent = `thread ${lane.thread} · events ${fmt(lo)}–${fmt(hi - 1)} · ${axisName()} ${fmtX(xs[lo]!)}–${fmtX(xs[hi - 1]!)} · ${parts.join(', ')}`;
    }
  }

  const tbody = document.querySelector('#busiest tbody')!;
  for (const o of m.busiest) {
    const row = document.createElement('tr');
    row.dataset.object = String(o.object);
    for (const text of [o.name, o.type, fmt(o.acquisitions), fmt(o.handoffs), o.threads]) {
      const td = document.createElement('td');
      td.textContent = text;
      row.appendChild(td);
    }
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = hue(o.object);
    row.firstChild!.insertBefore(swatch, row.firstChild!.firstChild);
    const id = document.createElement('span');
    id.className = 'object-id';
    id.textContent = ` #${o.object}`;
    row.firstChild!.appendChild(id);
    row.addEventListener('click', () => highlight(highlighted === o.object ? null : o.object));
    tbody.appendChild(row);
  }

  (window as unknown as Record<string, unknown>).lockstepTimeline = {
    lanes: lanes.length,
    threads: lanes.map((l) => l.thread),
    events: m.events,
    handoffs: m.handoffs,
    view,
    frame,
    setAxis,
    zoomTo,
    highlight,
    redraw: draw,
    /** Hand-off `i` in taking-clock order, for scripts and tests that want to look at one. */
    objectName,
    handoff: (i: number) => ({
      object: H.object[i],
      version: H.version[i],
      fromThread: H.fromThread[i],
      fromClock: H.fromClock[i],
      toThread: H.toThread[i],
      toClock: H.toClock[i],
    }),
  };
  draw();
}
