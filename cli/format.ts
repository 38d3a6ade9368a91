// Text formatting shared by the commands' human output: numbers with thousands separators
// (fixed to en-US so output does not depend on the user's locale), aligned tables, and short
// digests. JSON output never goes through here.

export function num(n: number): string {
  return n.toLocaleString('en-US');
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

export function shortDigest(hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 16)}…` : hex;
}

/**
 * Columns aligned by the widest cell; a column whose cells are all numbers aligns right.
 * The first row is the heading.
 */
export function table(rows: (string | number)[][], indent = '  '): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? num(c) : c)));
  const widths: number[] = [];
  for (const r of cells) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const numeric = (c: string): boolean => /^[-+]?[\d,.]+%?$/.test(c);
  const right = widths.map((_, i) => cells.slice(1).every((r) => r[i] === undefined || r[i] === '' || numeric(r[i]!)));
  return cells
    .map((r) => indent + r.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

/** "key  value" lines with the keys aligned. */
export function fields(pairs: [string, string | number][], indent = '  '): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${indent}${k.padEnd(width)}  ${typeof v === 'number' ? num(v) : v}`).join('\n');
}
