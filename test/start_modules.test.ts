// A program in mode off must not pay for record, replay or replication (issue 11 target 3): its
// start() loads neither the log writer, the drain's life, the replay pump, the live run nor the
// replication layer (runtime/run_parts.ts, loaded on demand). A recording does load them.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './fixtures/cli/helpers.js';

const ON_DEMAND = ['runtime/run_parts.js', 'runtime/drain_life.js', 'runtime/replay_pump.js', 'runtime/live.js', 'recorder/log_writer.js', 'replication/'];

function loadedBy(mode: 'off' | 'record', dir: string): string[] {
  const log = join(dir, `${mode}.lsl`);
  const program = `const { start } = await import(${JSON.stringify(join(ROOT, 'dist/runtime/index.js'))});
const s = await start({ mode: ${JSON.stringify(mode)}, log: ${JSON.stringify(log)} });
await s.finish();`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('LOCKSTEP_')) delete env[k];
  // A file, not -e: the drain's worker inherits the process's execArgv, and --input-type with it.
  const main = join(dir, `${mode}.mjs`);
  writeFileSync(main, program);
  const r = spawnSync(process.execPath, ['--import', join(ROOT, 'dist/test/fixtures/module_trace.js'), main], { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `the ${mode} run failed: ${r.stderr}`);
  return [...r.stderr.matchAll(/^LOADED file:\/\/(\S+)$/gm)].map((m) => m[1]!.replace(`${ROOT.replace(/\/$/, '')}/dist/`, ''));
}

describe('what start() loads', function () {
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'lockstep-modules-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('mode off loads none of the on-demand modules; a recording loads them', function () {
    const off = loadedBy('off', dir);
    assert.ok(off.includes('runtime/start.js'), `the trace saw the runtime load: ${off.join(', ')}`);
    assert.deepEqual(off.filter((m) => ON_DEMAND.some((d) => m.startsWith(d))), []);
    const record = loadedBy('record', dir);
    for (const m of ['runtime/run_parts.js', 'runtime/drain_life.js', 'recorder/log_writer.js']) assert.ok(record.includes(m), `a recording loads ${m}`);
  });
});
