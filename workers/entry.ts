// Where a worker or pool entry really is, and how a TypeScript one is loaded.
//
// A program written in TypeScript names its worker files the way TypeScript's own imports do:
// `new URL('./teller.js', import.meta.url)` next to `teller.ts` (the name it will have once
// compiled). tsx maps such imports to the .ts file; a Worker's URL never goes through an import,
// so lockstep does the same mapping here: a .js/.mjs/.cjs entry that does not exist, beside a
// .ts/.mts/.cts that does, is the TypeScript file. A compiled program (dist/…/teller.js exists)
// is left alone.
//
// TypeScript entries run through tsx, an optional peer dependency: only programs with .ts
// entries need it installed, and its absence is a typed error that says what to install.

import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tsxMissing } from '../engine/errors.js';

const TS_FOR_JS: Record<string, string> = { '.js': '.ts', '.mjs': '.mts', '.cjs': '.cts' };

/** The entry's file URL, with a missing `.js` mapped to the `.ts` source beside it (see above). */
export function resolveEntry(href: string): string {
  if (!href.startsWith('file:')) return href;
  const path = fileURLToPath(href);
  const m = /(\.[cm]?js)$/.exec(path);
  if (!m || existsSync(path)) return href;
  const ts = path.slice(0, -m[1]!.length) + TS_FOR_JS[m[1]!]!;
  return existsSync(ts) ? pathToFileURL(ts).href : href;
}

export function isTypeScriptEntry(entry: string): boolean {
  return /\.[cm]?tsx?$/.test(entry);
}

/**
 * Registers tsx's loader in this thread before a TypeScript entry is imported. tsx is lockstep's
 * loader, so it must not draw from the program's recorded values (engine/patch.ts): it registers
 * with the patches out of its way, and its disk cache stays off (the cache expires old entries from
 * a setImmediate, calling Date.now at a moment that depends on timing: 1 in 6 replays diverged).
 */
export async function loadTypeScript(entry: string): Promise<void> {
  process.env.TSX_DISABLE_CACHE ??= '1';
  let api: { register: () => unknown };
  try {
    api = (await import('tsx/esm/api')) as { register: () => unknown };
  } catch (e) {
    throw tsxMissing(entry, e);
  }
  // Loaded here: a worker with a JavaScript entry in mode off never loads the patches.
  const { unpatched } = await import('../engine/patch.js');
  unpatched(() => api.register());
}
