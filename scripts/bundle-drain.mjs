// Bundles the drain worker (dist/recorder/drain.js and everything it imports: engine/log,
// flatbuffers, …) into one file, dist/recorder/drain.bundle.js, which runtime/drain_life.ts starts
// when it is there and not older than drain.js. A fresh worker pays Node's ESM loader once per
// module: the drain's 19 modules and flatbuffers' 10 cost about 25 ms of CPU at every recording's
// start, the one file about 5 (measured: 10 workers importing each, perf stat -r 3). Run by
// `npm run build` after tsc; the drain is a closed world (nothing imports values from it), so a
// second copy of the modules it shares with the main thread is harmless.

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  // An install without devDependencies: the drain starts from its modules (drain_life.ts).
  console.warn('lockstep: esbuild is not installed, so the drain is not bundled (recording starts ~20 ms slower)');
  process.exit(0);
}

await esbuild.build({
  entryPoints: ['dist/recorder/drain.js'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: 'dist/recorder/drain.bundle.js',
  logLevel: 'warning',
});
