// The package's entry (`import … from 'lockstep'`). tsc emits it as a re-export of index.js;
// `npm run build` then rewrites the emitted file to re-export the one-file bundle of index.js
// instead (scripts/bundle.mjs: the main thread pays Node's ESM loader for a few files, not ~50
// modules: ~25 ms of CPU less at every start). A `tsc` alone writes this re-export again, so the
// entry never points at a bundle older than the modules.
export * from './index.js';
