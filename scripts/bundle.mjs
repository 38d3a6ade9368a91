// Bundles the code lockstep starts in fresh threads, run by `npm run build` after tsc:
//   dist/recorder/drain.bundle.js    the drain worker (recorder/drain.js and all it imports)
//   dist/workers/bundle/*.js         the spawned thread's and the pool worker's bootstrap, split
//                                    into chunks so that what a worker imports on demand (the
//                                    ring, the patches, the replay stream …) stays on demand
//   dist/bundles.json                per bundle file, the dist modules it holds (the module trace
//                                    in test/start_modules reads it)
// Why: a fresh worker pays Node's ESM loader for every module it imports, ~1 ms of CPU each on
// this machine. 10 workers importing the drain (perf stat -r 3): 31 ms of CPU each over an
// empty worker from its 29 modules, 5-9 ms from the one file; a pool worker's static imports
// 14-31 ms against 4-12. The spawners take a bundle only when it is there and not older than
// the module it replaces (engine/bundle.ts), so a `tsc` without this step never runs stale code.
// The package's `lockstep/worker` export is the worker bundle's worker.js, so a program's worker
// module shares the bootstrap's chunks. Where the two could still differ (a stale bundle the
// spawners refuse, while the export still points at it), LockstepError's instanceof goes by brand
// (engine/errors.ts) and attach() by a global symbol.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // An install without devDependencies: workers start from their modules, and the package's
  // `lockstep/worker` export (dist/workers/bundle/worker.js) re-exports the module.
  console.warn('lockstep: esbuild is not installed, so worker entries are not bundled (each worker starts ~20 ms slower)');
  mkdirSync('dist/workers/bundle', { recursive: true });
  writeFileSync('dist/workers/bundle/worker.js', "export * from '../worker.js';\n");
  process.exit(0);
}

const dist = resolve('dist');
rmSync('dist/workers/bundle', { recursive: true, force: true }); // chunk names carry hashes: no stale ones left beside

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
];

const map = {};
for (const r of results) {
  for (const [out, o] of Object.entries(r.metafile.outputs)) {
    map[relative(dist, resolve(out))] = Object.keys(o.inputs).map((i) => (i.startsWith('dist/') ? relative(dist, resolve(i)) : i.replace(/^.*node_modules\//, 'node_modules/'))).sort();
  }
}
writeFileSync('dist/bundles.json', JSON.stringify(map, null, 1) + '\n');
