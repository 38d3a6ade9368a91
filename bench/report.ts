// Writes a benchmark run's results: the whole run as JSON (every sample kept) and a Markdown
// table for the closing note, both under bench/results/.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Summary } from './stats.js';

export interface Row extends Summary {
  scenario: string;
  variant: string;
  /** 'benchmark.js' (ns/op is its mean) or 'fixed count' (ns/op is the median of the rounds). */
  method: string;
}

export interface Ratio {
  name: string;
  value: number;
  /** The target, or null where none is set. */
  target: number | null;
  met: boolean | null;
  note: string;
}

export interface Report {
  machine: { cpu: string; cores: number; node: string; platform: string; date: string; revision: string; loadAverage: { before: number; after: number } };
  settings: Record<string, unknown>;
  rows: Row[];
  ratios: Ratio[];
  /** How the figures were taken, one sentence or two each. */
  notes: string[];
  [more: string]: unknown;
}

function ns(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function opsPerSec(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`;
}

export function markdown(r: Report): string {
  const m = r.machine;
  const out: string[] = [
    '# lockstep mutex benchmark',
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.platform}; run ${m.date} on revision ${m.revision}; ` +
      `1-minute load average ${m.loadAverage.before.toFixed(2)} before, ${m.loadAverage.after.toFixed(2)} after.`,
    '',
    `Settings: ${JSON.stringify(r.settings)}`,
    '',
    '| scenario | variant | method | ns/op | min–max ns/op | ±% | ops/s |',
    '|---|---|---|---:|---:|---:|---:|',
  ];
  for (const row of r.rows) {
    out.push(`| ${row.scenario} | ${row.variant} | ${row.method} | ${ns(row.nsPerOp)} | ${ns(row.minNs)}–${ns(row.maxNs)} | ${row.rmePct.toFixed(1)} | ${opsPerSec(row.opsPerSec)} |`);
  }
  out.push('', '| ratio | value | target | met | how |', '|---|---:|---:|---|---|');
  for (const x of r.ratios) {
    const target = x.target === null ? '–' : `≤ ${x.target}`;
    const met = x.met === null ? '–' : x.met ? 'yes' : `**no** (+${((x.value / x.target! - 1) * 100).toFixed(0)}%)`;
    out.push(`| ${x.name} | ${x.value.toFixed(2)} | ${target} | ${met} | ${x.note} |`);
  }
  out.push('', ...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

/** Writes mutex.json and mutex.md into `dir`; returns the Markdown. */
export function writeReport(dir: string, r: Report): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'mutex.json'), JSON.stringify(r, null, 2) + '\n');
  const md = markdown(r);
  writeFileSync(join(dir, 'mutex.md'), md);
  return md;
}
