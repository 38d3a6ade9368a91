// The layering as docs/DESIGN.md states it holds in the source (issue 14 item 1): engine/ imports
// nothing above it, each folder imports only the folders its row of the table allows, and the
// table itself is a layering (no cycle, engine/ at the bottom). Also: every LOCKSTEP_* variable the
// source reads is declared once, in runtime/options.ts, by the file that reads it.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ROOT } from './fixtures/cli/helpers.js';
import { importsOf, layerCycle, layersFromDesign, violations, type Edge } from './import_graph.js';
import { environment } from '../runtime/options.js';

/** The folders the package's source lives in (test/, bench/, examples/ are above all of them). */
const SOURCE = ['engine', 'recorder', 'replayer', 'replication', 'workers', 'runtime', 'cli', 'client'];

/** Imports allowed against the table, each with why (none now: the channel's ends live in replication/). */
const EXCEPTIONS = new Map<string, string>();

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...tsFiles(p));
    else if (d.name.endsWith('.ts') && !d.name.endsWith('.d.ts')) out.push(p.split(sep).join('/'));
  }
  return out;
}

const files = SOURCE.flatMap(tsFiles);
const text = new Map(files.map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]));
const edges: Edge[] = files.flatMap((f) => importsOf(f, text.get(f)!));
const design = readFileSync(join(ROOT, 'docs', 'DESIGN.md'), 'utf8');
const layers = layersFromDesign(design);

function show(v: { edge: Edge; why: string }): string {
  return `${v.edge.from}:${v.edge.line} imports '${v.edge.spec}' (${v.why})`;
}

describe('layering (issue 14 item 1)', function () {
  it('reads the import graph: every source folder has files and imports', function () {
    assert.ok(files.length > 80, `only ${files.length} source files under ${relative(process.cwd(), ROOT) || '.'}`);
    for (const f of SOURCE) assert.ok(edges.some((e) => e.from.startsWith(`${f}/`)), `no imports read in ${f}/`);
    // The forms the reader must see: a static import, a dynamic import and a worker module URL.
    assert.ok(edges.some((e) => e.from === 'runtime/process_run.ts' && e.spec === './run_parts.js'), 'the dynamic import of run_parts.js');
    assert.ok(edges.some((e) => e.from === 'runtime/drain_life.ts' && e.to === 'recorder/drain.js'), 'the drain worker\'s module URL');
  });

  it('docs/DESIGN.md\'s layer table covers every source folder, is acyclic, and puts engine/ at the bottom', function () {
    assert.deepEqual([...layers.keys()].sort(), [...SOURCE].sort());
    assert.deepEqual([...layers.get('engine')!], ['engine'], 'engine/ may import nothing above it');
    assert.equal(layerCycle(layers), null);
  });

  it('the README\'s layout table names every source folder, as docs/DESIGN.md\'s does', function () {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Layout\n'), readme.indexOf('\n## ', readme.indexOf('\n## Layout\n') + 1));
    const rows = [...section.matchAll(/^\| `([a-z_]+)\/` \|/gm)].map((m) => m[1]!);
    for (const f of SOURCE) assert.ok(rows.includes(f), `README's layout table has no row for ${f}/`);
  });

  it('engine/ imports nothing above it', function () {
    const up = edges.filter((e) => e.from.startsWith('engine/') && e.to !== null && !e.to.startsWith('engine/'));
    assert.deepEqual(up.map((e) => `${e.from}:${e.line} '${e.spec}'`), []);
  });

  it('every import follows the layer table', function () {
    assert.deepEqual(violations(edges, layers, EXCEPTIONS).map(show), []);
  });

  it('the check fails on a planted upward import (engine/ -> runtime/, recorder/ -> replication/)', function () {
    const planted = [
      ...importsOf('engine/thread.ts', "import { start } from '../runtime/start.js';\n"),
      ...importsOf('engine/sync/mutex.ts', "const m = await import('../../workers/pool.js');\n"),
      ...importsOf('recorder/drain.ts', "import type {\n  Replica,\n} from '../replication/replica.js';\n"),
      ...importsOf('replayer/stream.ts', "const w = new Worker(new URL('../runtime/x.js', import.meta.url));\n"),
    ];
    assert.equal(planted.length, 4);
    const found = violations([...edges, ...planted], layers, EXCEPTIONS).map((v) => v.edge);
    assert.deepEqual(found, planted);
    assert.deepEqual(layerCycle(new Map([...layers, ['engine', new Set(['engine', 'runtime'])]]))?.includes('engine'), true);
  });

  it('every LOCKSTEP_* variable read is declared in runtime/options.ts, and read only by the file it names', function () {
    const declared = environment as Record<string, { readBy: string }>;
    const reads: string[] = [];
    for (const [f, src] of text) {
      for (const m of src.matchAll(/process\.env(?:\.|\[\s*['"])(LOCKSTEP_[A-Z0-9_]+)/g)) {
        const name = m[1]!;
        const line = src.slice(0, m.index).split('\n').length;
        if (f === 'runtime/options.ts') continue;
        if (!(name in declared)) reads.push(`${f}:${line} reads ${name}, which runtime/options.ts does not declare`);
        else if (!declared[name]!.readBy.split(', ').includes(f)) reads.push(`${f}:${line} reads ${name}; runtime/options.ts says ${declared[name]!.readBy} reads it`);
      }
    }
    assert.deepEqual(reads, []);
    // runtime/ reads through the table's typed accessors, never process.env directly.
    for (const [f, src] of text) if (f.startsWith('runtime/') && f !== 'runtime/options.ts') assert.ok(!/process\.env\b/.test(src), `${f} reads process.env`);
  });
});
