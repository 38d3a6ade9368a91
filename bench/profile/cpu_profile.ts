// Reads V8 .cpuprofile files (node --cpu-prof writes one per thread, workers included) and sums
// self time by function and by category (lockstep engine, recorder, replayer, workers, the
// program, piscina, Node internals, GC). The profiler samples a thread whether it runs or waits
// in Atomics.wait, so time a thread spends parked shows as the self time of the function that
// parked it (awaitVersion, RingWriter.reserve, the drain's idle wait): waits are costs here too.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export type Role = 'main' | 'drain' | 'pool worker' | 'spawned thread';

export interface ThreadProfile {
  file: string;
  role: Role;
  totalMs: number;
  /** "function (file:line)" → self ms. */
  byFunction: Map<string, number>;
  byCategory: Map<string, number>;
}

/** Per bundle file (scripts/bundle.mjs), the line at which each module's code starts, in order. */
const bundleMaps = new Map<string, { line: number; module: string }[]>();

/**
 * A frame's module: its url, or, in a bundle, the module whose code holds the frame's line
 * (esbuild marks where each module starts with a `// dist/…` or `// node_modules/…` line).
 */
function moduleOf(frame: CallFrame): string {
  const u = frame.url;
  if (!u.includes('/bundle/') && !u.endsWith('.bundle.js')) return u;
  let map = bundleMaps.get(u);
  if (map === undefined) {
    map = [];
    try {
      const lines = readFileSync(fileURLToPath(u), 'utf8').split('\n');
      const root = u.slice(0, u.indexOf('/dist/') + 1);
      for (let i = 0; i < lines.length; i++) {
        const m = /^\/\/ ((?:dist|node_modules)\/\S+\.js)$/.exec(lines[i]!);
        if (m) map.push({ line: i, module: root + m[1]! });
      }
    } catch {
      // Not a file we can read: the url itself.
    }
    bundleMaps.set(u, map);
  }
  let found = u;
  for (const e of map) {
    if (e.line > frame.lineNumber) break;
    found = e.module;
  }
  return found;
}

/** Where a function lives, as a category of cost (`u`: its module, moduleOf). */
export function category(frame: CallFrame, u = moduleOf(frame)): string {
  const f = frame.functionName;
  if (f === '(garbage collector)') return 'GC';
  if (f === '(idle)') return 'idle';
  if (f === '(program)') return 'V8/native (program)';
  if (f === '(root)') return 'root';
  if (u.includes('/dist/engine/log/') || u.includes('node_modules/flatbuffers')) return 'log encoding (engine/log, flatbuffers)';
  if (u.includes('/dist/engine/')) return 'lockstep engine (sync objects, thread)';
  if (u.includes('/dist/recorder/')) return 'recorder (ring, drain, writer)';
  if (u.includes('/dist/replayer/')) return 'replayer';
  if (u.includes('/dist/workers/')) return 'lockstep workers/pool';
  if (u.includes('node_modules/piscina')) return 'piscina';
  if (u.includes('/dist/examples/') || u.includes('/dist/bench/')) return 'program';
  if (u.startsWith('node:')) return 'Node internals';
  if (u === '') return 'native (Atomics.wait, builtins)';
  return 'other';
}

function shortUrl(url: string): string {
  const i = url.indexOf('/dist/');
  if (i >= 0) return url.slice(i + 6);
  const j = url.indexOf('node_modules/');
  if (j >= 0) return url.slice(j + 13);
  return url;
}

export function readProfile(file: string, role: Role): ThreadProfile {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the next delta to it (as DevTools does).
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + Math.max(0, dt));
  }
  const byFunction = new Map<string, number>();
  const byCategory = new Map<string, number>();
  let totalMs = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const f = n.callFrame;
    const module = moduleOf(f);
    const key = `${f.functionName || '(anonymous)'} (${shortUrl(module)}${module !== f.url ? ' in a bundle' : f.url ? `:${f.lineNumber + 1}` : ''})`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us / 1e3);
    const c = category(f, module);
    byCategory.set(c, (byCategory.get(c) ?? 0) + us / 1e3);
    totalMs += us / 1e3;
  }
  return { file, role, totalMs, byFunction, byCategory };
}

/** The thread's role, from the code it ran. */
export function roleOf(file: string, threadId: number): Role {
  if (threadId === 0) return 'main';
  const text = readFileSync(file, 'utf8');
  if (text.includes('/recorder/drain.js') || text.includes('/recorder/drain.bundle.js')) return 'drain';
  if (text.includes('/workers/pool_worker.js') || text.includes('/workers/bundle/pool_worker.js')) return 'pool worker';
  return 'spawned thread';
}

/** Sums profiles of one role. */
export function merge(profiles: ThreadProfile[]): { totalMs: number; byFunction: Map<string, number>; byCategory: Map<string, number> } {
  const byFunction = new Map<string, number>();
  const byCategory = new Map<string, number>();
  let totalMs = 0;
  for (const p of profiles) {
    totalMs += p.totalMs;
    for (const [k, v] of p.byFunction) byFunction.set(k, (byFunction.get(k) ?? 0) + v);
    for (const [k, v] of p.byCategory) byCategory.set(k, (byCategory.get(k) ?? 0) + v);
  }
  return { totalMs, byFunction, byCategory };
}
