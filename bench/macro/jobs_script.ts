// The job server's input for the benchmark: a seeded script of jobs (no `roll`, whose random
// result a sequential baseline could not reproduce), and the hash both the server's and the
// sequential baseline's results are folded into for comparison.

import { writeFileSync } from 'node:fs';

export interface JobMix {
  jobs: number;
  /** Rounds of a `spin` job (its CPU work, about 1 ns a round). */
  spinRounds: number;
  keys: number;
  seed: number;
}

/** Writes `mix.jobs` job lines: 35% incr, 30% get, 10% sum, 25% spin. Returns the path. */
export function writeJobScript(path: string, mix: JobMix): string {
  let x = mix.seed >>> 0 || 1;
  const next = (): number => {
    // xorshift32: a deterministic script from the seed.
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const lines: string[] = [];
  for (let i = 0; i < mix.jobs; i++) {
    const r = next() % 100;
    const key = `k${next() % mix.keys}`;
    if (r < 35) lines.push(`incr ${key} ${1 + (next() % 9)}`);
    else if (r < 65) lines.push(`get ${key}`);
    else if (r < 75) lines.push('sum');
    else lines.push(`spin ${mix.spinRounds}`);
  }
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** Folds one result into an order-sensitive hash (FNV-1a over "id:json"). */
export function foldResult(h: number, jobId: number, value: unknown): number {
  const s = `${jobId}:${JSON.stringify(value ?? null)}`;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** The hash of every result line on a server's (or the baseline's) stdout, in job-id order. */
export function resultsHash(stdout: string): { jobs: number; hash: string } {
  const results: { id: number; value: unknown }[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line) as { id?: number; value?: unknown; job?: string };
    if (typeof r.id === 'number' && typeof r.job === 'string') results.push({ id: r.id, value: r.value });
  }
  results.sort((a, b) => a.id - b.id);
  let h = 0x811c9dc5;
  for (const r of results) h = foldResult(h, r.id, r.value);
  return { jobs: results.length, hash: (h >>> 0).toString(16) };
}
