// Which file a fresh thread starts from: the bundle `npm run build` made of its entry
// (scripts/bundle.mjs: a worker then pays Node's ESM loader for a few files instead of ~30
// modules, ~20 ms of CPU less per worker), or the entry module itself when there is no bundle or
// it is older than the module (a `tsc` without the bundle step: the bundle would run stale code).

import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const chosen = new Map<string, URL>();

/** `bundle` if it exists and is not older than `module`, else `module` (decided once per process). */
export function freshBundle(module: URL, bundle: URL): URL {
  let url = chosen.get(module.href);
  if (url === undefined) {
    url = module;
    try {
      if (statSync(fileURLToPath(bundle)).mtimeMs >= statSync(fileURLToPath(module)).mtimeMs) url = bundle;
    } catch {
      // No bundle (or no module file: a source run): the module.
    }
    chosen.set(module.href, url);
  }
  return url;
}
