// The import graph of the package's source, read from the TypeScript files themselves (no
// compiler, no dependency-cruiser: it imports `typescript`), and the layering rules checked over
// it. Pure: takes file texts, returns edges and violations, so a test can plant a bad import.

import { posix } from 'node:path';

/** One import of one file: the specifier as written and the repository path it resolves to. */
export interface Edge {
  from: string;
  spec: string;
  /** Repository path the relative specifier points at (null: a package or node: import). */
  to: string | null;
  line: number;
}

// Static `import … from '…'` / `export … from '…'` (clauses span lines but hold no quotes),
// side-effect `import '…'`, dynamic `import('…')`, and worker modules `new URL('…', import.meta.url)`.
const PATTERNS = [
  /^[ \t]*(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^[ \t]*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\bnew URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
];

/** Every import of `path` (a repository path such as engine/thread.ts) whose text is `source`. */
export function importsOf(path: string, source: string): Edge[] {
  const edges: Edge[] = [];
  for (const re of PATTERNS) {
    for (const m of source.matchAll(re)) {
      const spec = m[1]!;
      const line = source.slice(0, m.index).split('\n').length;
      const to = spec.startsWith('.') ? posix.normalize(posix.join(posix.dirname(path), spec)) : null;
      edges.push({ from: path, spec, to, line });
    }
  }
  return edges;
}

/** The top folder of a repository path ('engine' for engine/sync/mutex.ts). */
export function folderOf(path: string): string {
  return path.split('/')[0]!;
}

/** Per folder, the folders its files may import (itself included). */
export type Layers = Map<string, Set<string>>;

export interface Violation {
  edge: Edge;
  why: string;
}

/**
 * Imports that break the layering: a file in a listed folder importing a folder its row does not
 * allow (`exceptions`: "from-file -> to-folder" pairs allowed for now, each with its reason).
 */
export function violations(edges: Edge[], layers: Layers, exceptions: ReadonlyMap<string, string> = new Map()): Violation[] {
  const out: Violation[] = [];
  for (const e of edges) {
    if (e.to === null) continue;
    const from = folderOf(e.from);
    const allowed = layers.get(from);
    if (!allowed) continue;
    const to = folderOf(e.to);
    if (to === '..' || allowed.has(to)) continue;
    if (exceptions.has(`${e.from} -> ${to}/`)) continue;
    out.push({ edge: e, why: `${from}/ may import only ${[...allowed].sort().map((f) => `${f}/`).join(', ')}` });
  }
  return out;
}

/**
 * The layer table as docs/DESIGN.md states it: the rows of the table after the
 * `<!-- layers -->` marker, `| \`folder/\` | \`a/\`, \`b/\` |` (a dash: nothing but itself).
 */
export function layersFromDesign(text: string): Layers {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === '<!-- layers -->');
  if (at < 0) throw new Error('docs/DESIGN.md has no <!-- layers --> table');
  const layers: Layers = new Map();
  for (const l of lines.slice(at + 1)) {
    if (!l.startsWith('|')) {
      if (layers.size > 0) break;
      continue;
    }
    const cells = l.split('|').slice(1, -1).map((c) => c.trim());
    const folder = /^`([a-z_]+)\/`$/.exec(cells[0] ?? '');
    if (!folder) continue; // the header and its rule
    const may = [...(cells[1] ?? '').matchAll(/`([a-z_]+)\/`/g)].map((m) => m[1]!);
    layers.set(folder[1]!, new Set([folder[1]!, ...may]));
  }
  return layers;
}

/** A cycle among the folders (a layering has none), as a path, or null. */
export function layerCycle(layers: Layers): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const visit = (f: string, path: string[]): string[] | null => {
    if (state.get(f) === 'done') return null;
    if (state.get(f) === 'open') return [...path.slice(path.indexOf(f)), f];
    state.set(f, 'open');
    for (const g of layers.get(f) ?? []) {
      if (g === f) continue;
      const c = visit(g, [...path, f]);
      if (c) return c;
    }
    state.set(f, 'done');
    return null;
  };
  for (const f of layers.keys()) {
    const c = visit(f, []);
    if (c) return c;
  }
  return null;
}
