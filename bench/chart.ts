// The overhead chart, as hand-written SVG (no plotting dependency): record overhead against the
// number of threads (left: each example program, net, and the synthetic lock workload) and against
// the critical-section length (right: record and replay, with the 5% break-even line). The y axis
// is logarithmic in the time ratio (record ÷ off), labelled as overhead, so that 2% and 300% both
// read, and a ratio below 1 (noise) still has a place.

import type { Results } from './summary.js';

const W = 1000;
const H = 400;
const PANEL_W = 400;
const PANEL_H = 280;
const TOP = 60;
const LEFT = [75, 575];
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];
const RATIO_TICKS = [0.9, 1, 1.05, 1.1, 1.25, 1.5, 2, 3, 5, 10, 20];
/** Labels closer than this (px) to the previous one are left out. */
const TICK_GAP = 13;

interface Series {
  label: string;
  points: { x: number; ratio: number }[];
  dashed?: boolean;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function panel(left: number, title: string, xTicks: { x: number; label: string }[], xOf: (x: number) => number, series: Series[], yMax: number, xLabel: string): string[] {
  const out: string[] = [];
  const lo = Math.log(0.9);
  const hi = Math.log(Math.max(1.1, yMax));
  const y = (ratio: number): number => TOP + PANEL_H - ((Math.log(Math.max(0.9, Math.min(ratio, yMax))) - lo) / (hi - lo)) * PANEL_H;
  const x = (v: number): number => left + xOf(v) * PANEL_W;
  out.push(`<text x="${left + PANEL_W / 2}" y="${TOP - 25}" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);
  out.push(`<rect x="${left}" y="${TOP}" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#888"/>`);
  let labelled = Infinity;
  for (const t of RATIO_TICKS.filter((t) => t <= Math.max(1.1, yMax))) {
    const yy = y(t);
    out.push(`<line x1="${left}" x2="${left + PANEL_W}" y1="${yy}" y2="${yy}" stroke="${t === 1 ? '#444' : '#ddd'}"/>`);
    if (labelled - yy < TICK_GAP) continue;
    labelled = yy;
    out.push(`<text x="${left - 6}" y="${yy + 4}" text-anchor="end" font-size="11">${t === 1 ? '0%' : `${t > 1 ? '+' : ''}${Math.round((t - 1) * 100)}%`}</text>`);
  }
  // The break-even line.
  out.push(`<line x1="${left}" x2="${left + PANEL_W}" y1="${y(1.05)}" y2="${y(1.05)}" stroke="#e377c2" stroke-dasharray="6 4"/>`);
  out.push(`<text x="${left + PANEL_W - 4}" y="${y(1.05) - 4}" text-anchor="end" font-size="10" fill="#e377c2">5%</text>`);
  for (const t of xTicks) {
    out.push(`<line x1="${x(t.x)}" x2="${x(t.x)}" y1="${TOP + PANEL_H}" y2="${TOP + PANEL_H + 5}" stroke="#888"/>`);
    out.push(`<text x="${x(t.x)}" y="${TOP + PANEL_H + 18}" text-anchor="middle" font-size="11">${esc(t.label)}</text>`);
  }
  out.push(`<text x="${left + PANEL_W / 2}" y="${TOP + PANEL_H + 38}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>`);
  out.push(`<text x="${left - 50}" y="${TOP + PANEL_H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 ${left - 50} ${TOP + PANEL_H / 2})">overhead vs off (log scale)</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = s.points.map((p) => `${x(p.x).toFixed(1)},${y(p.ratio).toFixed(1)}`);
    out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    for (const p of s.points) out.push(`<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.ratio).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = TOP + 14 + i * 15;
    out.push(`<line x1="${left + 8}" x2="${left + 26}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    out.push(`<text x="${left + 30}" y="${ly}" font-size="11">${esc(s.label)}</text>`);
  });
  return out;
}

export function chart(r: Results): string {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  let yMax = 1.5;
  const left: Series[] = [];
  const threadSet = new Set<number>();
  if (r.macro) {
    for (const ex of r.macro.examples) {
      const pts = r.macro.cells.filter((c) => c.example === ex.name && c.mode === 'record').map((c) => ({ x: c.threads, ratio: 1 + c.netOverheadPct! / 100 }));
      pts.forEach((p) => threadSet.add(p.x));
      left.push({ label: `${ex.name} (record, net)`, points: pts });
    }
  }
  if (r.scaling) {
    const spins = [...new Set(r.scaling.points.filter((p) => p.sweep === 'threads').map((p) => p.config.spin))];
    for (const spin of spins) {
      const pts = r.scaling.points.filter((p) => p.sweep === 'threads' && p.config.spin === spin).map((p) => ({ x: p.config.threads, ratio: 1 + p.recordOverheadPct / 100 }));
      pts.forEach((p) => threadSet.add(p.x));
      left.push({ label: `lock loop, ${spin} spins (record)`, points: pts, dashed: true });
    }
  }
  const right: Series[] = [];
  const csTicks: { x: number; label: string }[] = [];
  if (r.scaling) {
    const all = r.scaling.points.filter((p) => p.sweep === 'critical section');
    for (const threads of [...new Set(all.map((p) => p.config.threads))].sort((a, b) => b - a)) {
      const cs = all.filter((p) => p.config.threads === threads).sort((a, b) => a.config.spin - b.config.spin);
      const who = `${threads} thread${threads > 1 ? 's' : ''}`;
      right.push({ label: `record, ${who}`, points: cs.map((p) => ({ x: p.config.spin, ratio: 1 + p.recordOverheadPct / 100 })) });
      right.push({ label: `replay, ${who}`, points: cs.map((p) => ({ x: p.config.spin, ratio: 1 + p.replayOverheadPct / 100 })), dashed: true });
    }
    for (const spin of [...new Set(all.map((p) => p.config.spin))].sort((a, b) => a - b)) {
      csTicks.push({ x: spin, label: spin === 0 ? '0' : spin >= 1000 ? `${spin / 1000}k` : String(spin) });
    }
  }
  for (const s of [...left, ...right]) for (const p of s.points) yMax = Math.max(yMax, p.ratio * 1.1);
  yMax = Math.min(yMax, 20);
  const threads = [...threadSet].sort((a, b) => a - b);
  const tMax = Math.max(2, ...threads);
  const xThreads = (t: number): number => 0.05 + (Math.log2(t) / Math.log2(tMax)) * 0.9;
  out.push(...panel(LEFT[0]!, 'Record overhead vs threads', threads.map((t) => ({ x: t, label: String(t) })), xThreads, left, yMax, 'threads (pool workers / spawned threads), 2 cores'));
  const spinMax = Math.max(10, ...csTicks.map((t) => t.x));
  // Critical sections on a log axis; 0 spins sits one decade left of the smallest non-zero one.
  const spinMin = Math.min(...csTicks.map((t) => t.x).filter((x) => x > 0), spinMax) / 10;
  const xSpin = (s: number): number => 0.05 + (Math.log10(Math.max(s, spinMin) / spinMin) / Math.log10(spinMax / spinMin)) * 0.9;
  out.push(...panel(LEFT[1]!, 'Overhead vs critical-section length', csTicks, xSpin, right, yMax, 'spins inside the lock (log scale; ~1 ns each)'));
  const m = r.machine;
  out.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="10" fill="#555">${esc(`${m.cpu}, ${m.cores} cores, Node ${m.node}, revision ${m.revision}, ${m.date.slice(0, 10)}`)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
