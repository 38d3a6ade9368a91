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
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  /** Files each worker loaded, by thread id (a bundle as itself, not as its modules). */
  files: Map<number, string[]>;
  /** Files the main thread loaded. */
  mainFiles: string[];
  /** The program's stdout (its probes). */
  stdout: string;
}

/** Per bundle file under dist/, the dist modules it holds (written by scripts/bundle.mjs; none if it did not run). */
const bundlesFile = join(ROOT, 'dist/bundles.json');
const bundles: Record<string, string[]> = existsSync(bundlesFile) ? (JSON.parse(readFileSync(bundlesFile, 'utf8')) as Record<string, string[]>) : {};

function loadedBy(mode: 'off' | 'record', dir: string): Loaded {
  const log = join(dir, `${mode}.lsl`);
  const fixtures = join(ROOT, 'dist/test/fixtures');
  // Two spawned workers and a pool worker; the pool's task emits an output. Each worker reports
  // whether node:crypto was loaded in it (process.moduleLoadList lists the builtins it bound).
  // The package's entry, as a program imports it (the main thread's bundle when the build made one).
  const program = `const { start } = await import(${JSON.stringify(join(ROOT, 'dist/runtime/package_entry.js'))});
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
  const loaded: Loaded = { main: [], workers: new Map(), files: new Map(), mainFiles: [], stdout: r.stdout };
  for (const m of r.stderr.matchAll(/^LOADED (\d+) file:\/\/(\S+)$/gm)) {
    const thread = Number(m[1]);
    // A package's modules as node_modules/<name>/…, wherever node_modules really is (it may be a link).
    const path = m[2]!.replace(`${ROOT.replace(/\/$/, '')}/dist/`, '').replace(/^.*\/node_modules\//, 'node_modules/');
    // A bundle file counts as the modules it holds (scripts/bundle.mjs lists them).
    const paths = bundles[path] ?? [path];
    if (thread === 0) {
      loaded.main.push(...paths);
      loaded.mainFiles.push(path);
    } else {
      loaded.workers.set(thread, [...(loaded.workers.get(thread) ?? []), ...paths]);
      loaded.files.set(thread, [...(loaded.files.get(thread) ?? []), path]);
    }
  }
  return loaded;
}

const under = (paths: string[], prefixes: string[]): string[] => paths.filter((m) => prefixes.some((d) => m.startsWith(d)));
/** Files of lockstep's own modules loaded one by one (not a bundle, nor a package entry re-exporting one). */
const unbundled = (files: string[]): string[] =>
  files.filter((f) => /^(engine|runtime|workers|recorder|replayer|replication)\//.test(f) && !f.startsWith('workers/bundle/') && !f.endsWith('/package_entry.js'));
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

  it('the main thread, workers and the drain start from their bundles when the build made them', function () {
    if (Object.keys(bundles).length === 0) this.skip(); // built without esbuild: the modules themselves run (engine/bundle.ts)
    for (const run of [off, record]) {
      for (const [thread] of lockstepWorkers(run)) {
        const files = run.files.get(thread)!;
        assert.ok(files.some((f) => f.startsWith('workers/bundle/')), `worker ${thread} ran from workers/bundle/: ${files.join(', ')}`);
        assert.deepEqual(unbundled(files), [], `worker ${thread} loaded lockstep's modules one by one`);
      }
    }
    assert.ok([...record.files.values()].some((fs) => fs.includes('recorder/drain.bundle.js')), 'the drain ran from its bundle');
    for (const run of [off, record]) {
      assert.ok(run.mainFiles.includes('bundle/index.js'), `the main thread ran from dist/bundle/: ${run.mainFiles.join(', ')}`);
      assert.deepEqual(unbundled(run.mainFiles), [], 'the main thread loaded lockstep\'s modules one by one');
    }
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
