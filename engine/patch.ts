// Replaces the ambient sources of nondeterminism inside a recorded or replayed thread with
// recorded ones: Math.random, Date (the whole constructor, because `new Date()` does not call
// Date.now), the global performance.now, crypto.getRandomValues (global webcrypto; node:crypto's is a
// read-only getter and is left alone) and randomUUID (webcrypto and node:crypto).
// Returns a function that puts the originals back.
//
// Nothing of lockstep's own or of its loaders may draw from the program's recorded values: a
// value taken by tsx's registration (randomUUID) or by its cache (Date.now, from a setImmediate at
// a moment that depends on timing) shifts every value the program sees after it, and replay
// diverges in some runs only. Lockstep's own work runs inside unpatched(), where the patched
// functions give live values without recording them.

import { createRequire, syncBuiltinESMExports } from 'node:module';
import { ValueKind } from './event.js';
import { live, liveCrypto } from './thread_api.js';
import type { Thread } from './thread.js';

/** Depth of lockstep's own work on this thread (loader registration): the patches step aside. */
let internal = 0;

/** Runs `fn` (lockstep's own, synchronous) with the ambient values live and unrecorded. */
export function unpatched<T>(fn: () => T): T {
  internal++;
  try {
    return fn();
  } finally {
    internal--;
  }
}

export function patchGlobals(t: Thread): () => void {
  // node:crypto is loaded here, not at import: a thread in mode off never patches (thread_api.ts liveCrypto).
  liveCrypto(); // takes node:crypto's originals before randomUUID is replaced below
  const nodeCrypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  const OriginalDate = Date;
  const originalRandom = Math.random;
  const web = globalThis.crypto;
  const originalGetRandomValues = web.getRandomValues;
  const originalRandomUUID = web.randomUUID;
  const originalNodeRandomUUID = nodeCrypto.randomUUID;

  const dateNow = (): number => (internal > 0 ? live.dateNow() : t.float(ValueKind.DateNow, live.dateNow));
  function PatchedDate(this: unknown, ...args: unknown[]): unknown {
    if (!new.target) return new OriginalDate(dateNow()).toString();
    return args.length === 0 ? new OriginalDate(dateNow()) : new (OriginalDate as DateConstructor)(...(args as [number]));
  }
  Object.setPrototypeOf(PatchedDate, OriginalDate);
  PatchedDate.prototype = OriginalDate.prototype;
  PatchedDate.now = dateNow;
  PatchedDate.parse = OriginalDate.parse;
  PatchedDate.UTC = OriginalDate.UTC;

  const getRandomValues = <T extends ArrayBufferView | null>(array: T): T => {
    if (!array || internal > 0) return array && originalGetRandomValues.call(web, array as unknown as Uint8Array) as unknown as T;
    const view = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    view.set(t.bytes(ValueKind.RandomBytes, () => {
      if (t.seeded) t.seeded.fill(view);
      else originalGetRandomValues.call(web, view);
      return view.slice();
    }));
    return array;
  };
  const randomUUID = (): `${string}-${string}-${string}-${string}-${string}` => {
    if (internal > 0) return live.randomUUID() as `${string}-${string}-${string}-${string}-${string}`;
    const bytes = t.bytes(ValueKind.Uuid, () => new TextEncoder().encode(t.seeded ? t.seeded.uuid() : live.randomUUID()));
    return new TextDecoder().decode(bytes) as `${string}-${string}-${string}-${string}-${string}`;
  };

  // The global `performance` becomes a view whose now() is recorded; the node:perf_hooks object
  // itself is left alone, so libraries that import it (piscina times its tasks with it) do not
  // leave timing-dependent events in the log.
  const originalPerformance = globalThis.performance;
  const recordedNow = (): number => (internal > 0 ? live.perfNow() : t.float(ValueKind.PerfNow, live.perfNow));
  const performanceView = new Proxy(originalPerformance, {
    get(target, prop) {
      if (prop === 'now') return recordedNow;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

  globalThis.Date = PatchedDate as unknown as DateConstructor;
  Math.random = () => (internal > 0 ? originalRandom() : t.float(ValueKind.Random, t.seeded?.float ?? originalRandom));
  globalThis.performance = performanceView;
  web.getRandomValues = getRandomValues;
  web.randomUUID = randomUUID;
  nodeCrypto.randomUUID = randomUUID as typeof nodeCrypto.randomUUID;
  syncBuiltinESMExports();

  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    globalThis.Date = OriginalDate;
    Math.random = originalRandom;
    globalThis.performance = originalPerformance;
    web.getRandomValues = originalGetRandomValues;
    web.randomUUID = originalRandomUUID;
    nodeCrypto.randomUUID = originalNodeRandomUUID;
    syncBuiltinESMExports();
  };
}
