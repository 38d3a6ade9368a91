// The README as a newcomer reads it: every code snippet in it is a file under examples/readme/
// (the block must equal the file, word for word), and every snippet program runs as the README
// says, in TypeScript (under tsx, and through `lockstep record`) and in plain .mjs, recorded and
// replayed to the same digest. The supported Node versions and ESM-only are stated and hold.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CLI, ROOT } from './fixtures/cli/helpers.js';
import { SNIPPET_PROGRAMS, checkPrinted, cliRecordVerify, recordReplay, run } from './fixtures/readme/snippets.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Block {
  lang: string;
  body: string;
  line: number;
  file: string | null;
}

/** Fenced blocks, each with the `<!-- snippet: path -->` marker on the line before, if any. */
export function codeBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `README line ${i + 1}: a code block that never closes`);
    const marker = /^<!-- snippet: (\S+) -->$/.exec(lines[i - 1] ?? '');
    blocks.push({ lang: open[1]!, body: lines.slice(i + 1, end).join('\n') + '\n', line: i + 1, file: marker ? marker[1]! : null });
    i = end;
  }
  return blocks;
}

describe('README snippets (doc test)', function () {
  const code = codeBlocks(README).filter((b) => ['ts', 'js', 'mjs', 'typescript', 'javascript'].includes(b.lang));

  it('every code snippet is a file under examples/readme/, word for word', function () {
    assert.ok(code.length >= 4, `expected the library and pool snippets, found ${code.length} code blocks`);
    for (const b of code) {
      assert.ok(b.file, `README line ${b.line}: a ${b.lang} block without a <!-- snippet: examples/readme/… --> line before it`);
      assert.match(b.file, /^examples\/readme\//);
      const path = join(ROOT, b.file);
      assert.ok(existsSync(path), `README line ${b.line}: ${b.file} does not exist`);
      assert.equal(b.body, readFileSync(path, 'utf8'), `README line ${b.line}: the block differs from ${b.file}`);
    }
  });

  for (const program of SNIPPET_PROGRAMS) {
    describe(program, function () {
      it('main.ts runs under tsx (.js worker URL beside its .ts source), record → replay', async function () {
        checkPrinted(program, await recordReplay(ROOT, join(ROOT, 'examples/readme', program, 'main.ts'), ['--import', 'tsx']));
      });

      it('main.mjs runs as plain JavaScript, record → replay', async function () {
        checkPrinted(program, await recordReplay(ROOT, join(ROOT, 'examples/readme', program, 'main.mjs')));
      });

      it('the compiled main.js runs, record → replay', async function () {
        checkPrinted(program, await recordReplay(ROOT, join(ROOT, 'dist/examples/readme', program, 'main.js')));
      });

      it('lockstep record -- main.ts, then lockstep verify', async function () {
        await cliRecordVerify(CLI, ROOT, join('examples/readme', program, 'main.ts'));
      });
    });
  }

  it('lockstep record -- examples/bank/main.ts works (the .ts example with its .js pool URL)', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-readme-'));
    try {
      const r = await run([CLI, 'record', '-o', join(dir, 'bank.lsl'), '--', 'examples/bank/main.ts'], ROOT, { BANK_TRANSFERS: '100' });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /digest +[0-9a-f]{64}/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('README links', function () {
  it('point to files inside the repository (or to the web), never outside it', function () {
    for (const doc of ['README.md', 'docs/DESIGN.md']) {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^(https?:|#)/.test(target)) continue;
        const path = resolve(ROOT, dirname(doc), target.replace(/#.*$/, ''));
        assert.ok(path.startsWith(ROOT), `${doc} links outside the repository: ${target}`);
        assert.ok(existsSync(path), `${doc} links to ${target}, which does not exist`);
      }
    }
  });
});

describe('README: supported platforms', function () {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { type: string; engines: { node: string } };

  it('states the Node versions package.json accepts, and this Node is one of them', function () {
    const min = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node);
    assert.ok(min, `engines.node is ${pkg.engines.node}; this test reads ">=major.minor"`);
    assert.match(README, new RegExp(`Node\\.js ${min[1]}\\.${min[2]} or later`));
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    assert.ok(major > Number(min[1]) || (major === Number(min[1]) && minor >= Number(min[2])), `running on Node ${process.version}`);
  });

  it('says lockstep is ESM-only, and require() from CommonJS says so too', async function () {
    assert.equal(pkg.type, 'module');
    assert.match(README, /ESM-only/);
    const r = await run(['-e', "require('lockstep')"], ROOT);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /lockstep is ESM-only/);
  });
});
