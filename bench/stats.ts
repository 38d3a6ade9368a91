// Summaries of repeated timings: median with min–max (what the contended runs report) and the
// relative margin of error at 95% confidence, computed as benchmark.js computes its "±%".

/** Two-sided Student's t at 95% for 1..30 degrees of freedom (benchmark.js uses the same table). */
const T_95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
const T_95_INFINITY = 1.96;

export interface Summary {
  /** Nanoseconds per operation: the median of the samples. */
  nsPerOp: number;
  minNs: number;
  maxNs: number;
  /** Relative margin of error (95%) of the mean, in percent. */
  rmePct: number;
  opsPerSec: number;
  /** Every sample, ns per operation, in the order taken. */
  samplesNs: number[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no samples');
  const s = [...xs].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function rmePct(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  const t = T_95[n - 2] ?? T_95_INFINITY;
  return ((t * Math.sqrt(variance / n)) / mean) * 100;
}

/** Summarises samples of ns per operation. */
export function summarise(samplesNs: readonly number[]): Summary {
  const nsPerOp = median(samplesNs);
  return {
    nsPerOp,
    minNs: Math.min(...samplesNs),
    maxNs: Math.max(...samplesNs),
    rmePct: rmePct(samplesNs),
    opsPerSec: 1e9 / nsPerOp,
    samplesNs: [...samplesNs],
  };
}
