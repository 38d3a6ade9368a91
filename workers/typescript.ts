// TypeScript worker and task entries load through tsx (Node 20 cannot start a Worker on a .ts
// file). tsx is lockstep's loader, so it must not draw from the program's recorded values
// (patch.ts): it is imported before the thread's globals are patched, registered once per thread
// with the patches out of its way, and its disk cache is off (the cache expires old entries from a
// setImmediate, calling Date.now at a moment that depends on timing).

import { unpatched } from '../engine/patch.js';

let registered: Promise<void> | null = null;

export function isTypeScript(entry: string): boolean {
  return /\.[cm]?ts$/.test(entry);
}

/** Loads and registers tsx for `entry` if it is TypeScript, once per thread; call before patching. */
export function loadTypeScript(entry: string): Promise<void> {
  if (!isTypeScript(entry)) return Promise.resolve();
  process.env.TSX_DISABLE_CACHE ??= '1';
  registered ??= import('tsx/esm/api').then((api) => {
    unpatched(() => api.register());
  });
  return registered;
}
