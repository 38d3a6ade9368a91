// A program in mode off must not pay for record, replay or replication (issue 11 target 3): its
// start() loads neither the log writer, the drain's life, the replay pump, the live run, the
// replication layer, the ring, the chaos driver, the recorded stream, the checkpoint hooks nor the
// live setup (runtime/run_parts.ts, loaded on demand), nor the patches or the deadlock detector
// (not asked for), nor node:crypto; importing the package does not load the log reader, its codec
// or flatbuffers (runtime/read_log.ts); its workers, spawned or pooled, load none of the recorder's
// or replayer's modules, the live setup, the patches, the deadlock detector nor node:crypto, even
// when they emit outputs (engine/output_chain.ts). A recording does load them.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './fixtures/cli/helpers.js';

const ON_DEMAND = ['runtime/run_parts.js', 'runtime/drain_life.js', 'runtime/replay_pump.js', 'runtime/live.js', 'recorder/', 'replayer/', 'replication/', 'workers/live_setup.js',
  'engine/patch.js', 'engine/deadlock.js', 'engine/wait_for.js'];
const INDEX_ON_DEMAND = ['replayer/log_reader.js', 'engine/log/codec.js', 'node_modules/flatbuffers/'];
const WORKER_ON_DEMAND = ['recorder/', 'replayer/', 'workers/live_setup.js', 'engine/patch.js', 'engine/deadlock.js', 'engine/wait_for.js'];

interface Loaded {
  /** Modules the main thread loaded (paths under dist/, or under the root for node_modules). */
  main: string[];
  /** Modules each worker loaded, by thread id. */
  workers: Map<number, string[]>;
  /** The program's stdout (its probes). */
  stdout: string;
}

function loadedBy(mode: 'off' | 'record', dir: string): Loaded {
  const log = join(dir, `${mode}.lsl`);
  const fixtures = join(ROOT, 'dist/test/fixtures');
  // Two spawned workers and a pool worker; the pool's task emits an output. Each worker reports
  // whether node:crypto was loaded in it (process.moduleLoadList lists the builtins it bound).
  const program = `const { start } = await import(${JSON.stringify(join(ROOT, 'dist/runtime/index.js'))});
const s = await start({ mode: ${JSON.stringify(mode)}, log: ${JSON.stringify(log)} });
s.atomics('cells', 1);
s.shared('order', Int32Array, 1);
s.mutex('m');
const pool = s.pool(new URL(${JSON.stringify(`file://${fixtures}/tasks.js`)}), { workers: 1 });
for (let i = 0; i < 2; i++) s.spawn(new URL(${JSON.stringify(`file://${fixtures}/counting_worker.js`)}), { data: { ops: 3 } });
await pool.run({ n: 2, spin: 1 });
console.log('POOL CRYPTO ' + (await pool.run(null, { name: 'cryptoLoaded' })));
console.log('MAIN CRYPTO ' + process.moduleLoadList.includes('NativeModule crypto'));
await s.finish();`;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('LOCKSTEP_')) delete env[k];
  // A file, not -e: the drain's worker inherits the process's execArgv, and --input-type with it.
  const main = join(dir, `${mode}.mjs`);
  writeFileSync(main, program);
  const r = spawnSync(process.execPath, ['--import', join(fixtures, 'module_trace.js'), main], { env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `the ${mode} run failed: ${r.stderr}`);
  const loaded: Loaded = { main: [], workers: new Map(), stdout: r.stdout };
  for (const m of r.stderr.matchAll(/^LOADED (\d+) file:\/\/(\S+)$/gm)) {
    const thread = Number(m[1]);
    // A package's modules as node_modules/<name>/…, wherever node_modules really is (it may be a link).
    const path = m[2]!.replace(`${ROOT.replace(/\/$/, '')}/dist/`, '').replace(/^.*\/node_modules\//, 'node_modules/');
    if (thread === 0) loaded.main.push(path);
    else loaded.workers.set(thread, [...(loaded.workers.get(thread) ?? []), path]);
  }
  return loaded;
}

const under = (paths: string[], prefixes: string[]): string[] => paths.filter((m) => prefixes.some((d) => m.startsWith(d)));
/** The workers that ran lockstep's runtime (the drain's and other internal threads do not). */
const lockstepWorkers = (l: Loaded): [number, string[]][] => [...l.workers].filter(([, ms]) => ms.includes('workers/worker_runtime.js'));

describe('what start() loads', function () {
  this.timeout(180_000);
  let dir = '';
  let off: Loaded;
  let record: Loaded;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-modules-'));
    off = loadedBy('off', dir);
    record = loadedBy('record', dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('mode off loads none of the on-demand modules; a recording loads them', function () {
    assert.ok(off.main.includes('runtime/start.js'), `the trace saw the runtime load: ${off.main.join(', ')}`);
    assert.deepEqual(under(off.main, ON_DEMAND), []);
    assert.match(off.stdout, /MAIN CRYPTO false/, 'the main thread ran in mode off without loading node:crypto');
    for (const m of ['runtime/run_parts.js', 'runtime/drain_life.js', 'recorder/log_writer.js', 'recorder/ring.js', 'engine/log/codec.js', 'engine/patch.js', 'engine/deadlock.js']) {
      assert.ok(record.main.includes(m), `a recording loads ${m}`);
    }
    assert.match(record.stdout, /MAIN CRYPTO true/, 'a recording hashes the program');
  });

  it('importing the package does not load the log reader, its codec or flatbuffers', function () {
    assert.deepEqual(under(off.main, INDEX_ON_DEMAND), []);
  });

  it('mode off workers load no recorder or replayer module, the live setup, the patches, the deadlock detector nor node:crypto; recording workers do', function () {
    const offWorkers = lockstepWorkers(off);
    assert.equal(offWorkers.length, 3, `two spawned workers and a pool worker ran lockstep: ${[...off.workers.keys()].join(', ')}`);
    for (const [thread, ms] of offWorkers) assert.deepEqual(under(ms, WORKER_ON_DEMAND), [], `worker ${thread} in mode off`);
    assert.match(off.stdout, /POOL CRYPTO false/, 'the pool worker emitted an output in mode off without loading node:crypto');
    const recordWorkers = lockstepWorkers(record);
    assert.equal(recordWorkers.length, 3);
    for (const [thread, ms] of recordWorkers) for (const m of ['recorder/ring.js', 'engine/patch.js', 'engine/deadlock.js']) assert.ok(ms.includes(m), `recording worker ${thread} loads ${m}`);
    assert.match(record.stdout, /POOL CRYPTO true/, 'a recording chains outputs with SHA-256');
  });
});
