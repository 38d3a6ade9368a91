// The package a user installs is the package that is tested: `npm pack` the built tree, install
// the tarball into a fresh project outside the repository, and run the README's snippets there
// (TypeScript under tsx, plain .mjs, and `lockstep record`/`verify` from the installed bin).
//
// No registry is reached: the tarball is unpacked into the project's node_modules/lockstep, and
// each of its runtime dependencies (from the packed package.json, so a missing one fails here)
// is linked from the repository's node_modules, as npm would have installed it. tsx is linked as
// the user's own dev dependency, then removed to check the error a TypeScript user gets without it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './fixtures/cli/helpers.js';
import { SNIPPET_PROGRAMS, checkPrinted, cliRecordVerify, recordReplay, run } from './fixtures/readme/snippets.js';

function sh(file: string, args: string[], cwd: string): Promise<string> {
  return new Promise((done, fail) => {
    execFile(file, args, { cwd, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`${file} ${args.join(' ')} failed: ${stderr || error.message}`));
      else done(stdout);
    });
  });
}

describe('the packed package, installed into a fresh project', function () {
  let dir = '';
  let project = '';
  let files: string[] = [];
  let cli = '';

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-package-'));
    // --ignore-scripts: `npm test` has just built dist/; prepare would build it again.
    const packed = JSON.parse(await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)) as { filename: string; files: { path: string }[] }[];
    files = packed[0]!.files.map((f) => f.path);
    project = join(dir, 'app');
    const installed = join(project, 'node_modules', 'lockstep');
    mkdirSync(installed, { recursive: true });
    await sh('tar', ['-xzf', join(dir, packed[0]!.filename), '-C', installed, '--strip-components=1'], dir);
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of [...Object.keys(pkg.dependencies), 'tsx']) {
      mkdirSync(join(project, 'node_modules', dep, '..'), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', dep), join(project, 'node_modules', dep));
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', type: 'module', private: true, dependencies: { lockstep: '*' }, devDependencies: { tsx: '*' } }));
    for (const program of SNIPPET_PROGRAMS) {
      mkdirSync(join(project, program));
      for (const f of readdirSync(join(ROOT, 'examples/readme', program))) copyFileSync(join(ROOT, 'examples/readme', program, f), join(project, program, f));
    }
    cli = join(installed, 'dist/cli/main.js');
  });

  after(function () {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships the library, the CLI, README and LICENSE, and nothing of the repository\'s own', function () {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/runtime/index.js', 'dist/runtime/index.d.ts', 'dist/workers/worker.js', 'dist/workers/package_entry.js', 'dist/runtime/package_entry.js', 'dist/client/index.js', 'dist/cli/main.js', 'cjs/esm_only.cjs']) {
      assert.ok(files.includes(f), `the tarball lacks ${f}`);
    }
    const stray = files.filter((f) => /^(dist\/)?(test|bench|examples|scripts|\.ci)\//.test(f) || f.endsWith('.map') || f.endsWith('.lsl') || f === 'arbiter.json');
    assert.deepEqual(stray, []);
  });

  for (const program of SNIPPET_PROGRAMS) {
    it(`${program}: main.ts under the user's tsx, record → replay`, async function () {
      checkPrinted(program, await recordReplay(project, join(project, program, 'main.ts'), ['--import', 'tsx']));
    });

    it(`${program}: main.mjs, record → replay`, async function () {
      checkPrinted(program, await recordReplay(project, join(project, program, 'main.mjs')));
    });

    it(`${program}: the installed lockstep record -- main.ts, then verify`, async function () {
      await cliRecordVerify(cli, project, join(program, 'main.ts'));
    });
  }

  it('require() from CommonJS says that lockstep is ESM-only', async function () {
    const r = await run(['-e', "require('lockstep')"], project);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /lockstep is ESM-only/);
  });

  it('without tsx, a .ts program is ERR_TSX_MISSING (exit 2) and a .mjs one still runs', async function () {
    rmSync(join(project, 'node_modules', 'tsx'));
    const r = await run([cli, 'record', '-o', join(dir, 'no-tsx.lsl'), '--verbose', '--', join('library', 'main.ts')], project);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /ERR_TSX_MISSING/);
    assert.match(r.stderr, /npm install --save-dev tsx/);
    checkPrinted('library', await recordReplay(project, join(project, 'library', 'main.mjs')));
  });
});
