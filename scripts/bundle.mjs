// Bundles what lockstep loads when a program starts, run by `npm run build` after tsc:
//   dist/recorder/drain.bundle.js    the drain worker (recorder/drain.js and all it imports)
//   dist/workers/bundle/*.js         the spawned thread's and the pool worker's bootstrap, split
//                                    into chunks so that what a worker imports on demand (the
//                                    ring, the patches, the replay stream …) stays on demand
//   dist/bundle/*.js                 the main thread's entry (runtime/index.js), on-demand parts in chunks
//   dist/bundles.json                per bundle file, the dist modules it holds (the module trace
//                                    in test/start_modules reads it)
// Why: a thread pays Node's ESM loader for every module it imports, ~1 ms of CPU each on this
// machine. 10 workers importing the drain (perf stat -r 3): 31 ms of CPU each over an empty
// worker from its 29 modules, 5-9 ms from the one file; a pool worker's static imports 14-31 ms
// against 4-12; the main thread's `import 'lockstep'` 25-36 ms against 0-12.
// Never stale: the spawners take a bundle only when it is not older than the module it replaces
// (engine/bundle.ts), and the package's entries are files tsc writes as re-exports of the
// modules and this script rewrites as re-exports of the bundles, so a `tsc` alone undoes them.
// `lockstep/worker` re-exports the worker bundle's worker.js, so a program's worker module
// shares the chunks its bootstrap loaded. Where two copies of a module still meet in one thread
// (tests that import dist/runtime/ while a bundle runs), LockstepError's instanceof goes by
// brand (engine/errors.ts) and attach() by a global symbol.

import { rmSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // An install without devDependencies: every thread starts from the modules (the package's
  // entries, runtime/package_entry.ts and workers/package_entry.ts, stay re-exports of them).
  console.warn('lockstep: esbuild is not installed, so nothing is bundled: every thread starts from the modules (~20 ms of CPU slower each)');
  process.exit(0);
}

const dist = resolve('dist');
// Chunk names carry hashes: no stale ones left beside.
for (const d of ['dist/workers/bundle', 'dist/bundle']) rmSync(d, { recursive: true, force: true });

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', metafile: true, external: ['tsx', 'tsx/*'] };
const results = [
  await esbuild.build({ ...common, entryPoints: ['dist/recorder/drain.js'], outfile: 'dist/recorder/drain.bundle.js' }),
  await esbuild.build({
    ...common,
    // worker.js is the package's `lockstep/worker` export: a program's worker module that imports
    // it gets the chunks its bootstrap already loaded (one copy of each module, nothing loaded twice).
    entryPoints: ['dist/workers/bootstrap.js', 'dist/workers/pool_worker.js', 'dist/workers/worker.js'],
    outdir: 'dist/workers/bundle',
    splitting: true,
    chunkNames: '[name]-[hash]',
  }),
  // The main thread's entry, index.js, with what it imports on demand (record, replay,
  // replication) in chunks. dist/bundle/ is as deep as dist/runtime/, so the modules' own
  // new URL('../workers/…', import.meta.url) still name the right files.
  await esbuild.build({
    ...common,
    external: [...common.external, 'etcd3'],
    entryPoints: ['dist/runtime/index.js'],
    outdir: 'dist/bundle',
    splitting: true,
    chunkNames: '[name]-[hash]',
  }),
];
// The package's entries now re-export the bundles (tsc wrote them as re-exports of the modules).
writeFileSync('dist/runtime/package_entry.js', "// Written by scripts/bundle.mjs (tsc writes a re-export of index.js).\nexport * from '../bundle/index.js';\n");
writeFileSync('dist/workers/package_entry.js', "// Written by scripts/bundle.mjs (tsc writes a re-export of worker.js).\nexport * from './bundle/worker.js';\n");

const map = {};
for (const r of results) {
  for (const [out, o] of Object.entries(r.metafile.outputs)) {
    map[relative(dist, resolve(out))] = Object.keys(o.inputs).map((i) => (i.startsWith('dist/') ? relative(dist, resolve(i)) : i.replace(/^.*node_modules\//, 'node_modules/'))).sort();
  }
}
writeFileSync('dist/bundles.json', JSON.stringify(map, null, 1) + '\n');
