// Benchmark settings from the environment. BENCH_QUICK=1 picks the quick defaults (about two
// minutes for the whole run instead of about fifteen); any BENCH_* knob still overrides them.

export const QUICK = process.env.BENCH_QUICK === '1';

/** A positive number from $name, else `full` (or `quick` in quick mode). */
export function knob(name: string, full: number, quick = full, integer = true): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return QUICK ? quick : full;
  const n = Number(raw);
  if (!(n > 0) || (integer && !Number.isInteger(n))) {
    throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  }
  return n;
}

/** A comma-separated list of names from $name, each one of `allowed`; else all of them. */
export function knobList<T extends string>(name: string, allowed: readonly T[]): T[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return [...allowed];
  const picked = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const p of picked) {
    if (!allowed.includes(p as T)) throw new Error(`${name}: "${p}" is not one of ${allowed.join(', ')}`);
  }
  return picked as T[];
}

/** A comma-separated list of positive integers from $name, else `full` (or `quick`). */
export function knobInts(name: string, full: number[], quick = full): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return QUICK ? quick : full;
  const xs = raw.split(',').map((s) => Number(s.trim()));
  if (xs.some((x) => !(Number.isInteger(x) && x >= 0))) throw new Error(`${name} must be a list of integers, got "${raw}"`);
  return xs;
}
