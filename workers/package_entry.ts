// The package's `lockstep/worker` entry. tsc emits it as a re-export of worker.js; `npm run build`
// rewrites the emitted file to re-export the worker bundle's worker.js (scripts/bundle.mjs), so a
// program's worker module shares the chunks its bootstrap loaded. A `tsc` alone writes this
// re-export again, so the entry never points at a stale bundle.
export * from './worker.js';
