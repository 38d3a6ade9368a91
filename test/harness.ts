// Test harness: runs a contended workload (fixtures/contend.ts) through a real session on real
// worker threads, in any mode, and returns the run result and the order-sensitive hashes.

import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, type RunResult, type StartOptions } from '../runtime/index.js';

export const PROGRAM = fileURLToPath(import.meta.url);

export interface Workload {
  kind: string;
  threads: number;
  ops: number;
  divergeAt?: { thread: number; iteration: number };
}

export interface Outcome {
  result: RunResult;
  order: number[];
}

export function tempLog(name: string): string {
  return join(mkdtempSync(join(tmpdir(), 'lockstep-test-')), `${name}.lsl`);
}

export async function runWorkload(mode: 'off' | 'record' | 'replay', log: string | undefined, w: Workload, extra: StartOptions = {}): Promise<Outcome> {
  const session = await start({ mode, log, program: PROGRAM, args: [], ...extra, limits: { stallMsMax: 20_000, ...extra.limits } });
  const order = session.shared('order', Int32Array, 1 + w.threads);
  switch (w.kind) {
    case 'mutex':
    case 'trylock':
      session.mutex('m');
      break;
    case 'rwlock':
      session.rwlock('rw');
      break;
    case 'semaphore':
      session.semaphore('s', 1);
      break;
    case 'condition':
      session.mutex('cm');
      session.condition('notEmpty');
      session.condition('notFull');
      session.shared('queue', Int32Array, 7);
      break;
    case 'barrier':
      session.barrier('b', w.threads);
      break;
    case 'atomic':
      session.atomics('cells', 4);
      break;
    case 'channel':
      session.channel('ch', { capacity: 8 });
      break;
    case 'poll':
      session.channel('pc', { capacity: 8 });
      session.atomics('done', 1);
      break;
  }
  const threads = session.spawn(new URL('./fixtures/contend.js', import.meta.url), {
    count: w.threads,
    data: { kind: w.kind, ops: w.ops, divergeAt: w.divergeAt, threads: w.threads },
  });
  try {
    const exits = await threads.exited;
    for (const e of exits) if (!e.ok) throw e.error;
  } catch (e) {
    await session.finish().catch(() => {});
    throw e;
  }
  const snapshot = Array.from(order);
  const result = await session.finish();
  return { result, order: snapshot };
}

/** Runs `fn` until it produced two different values or `tries` runs; returns the distinct values. */
export async function distinct<T>(tries: number, fn: () => Promise<T>): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < tries && seen.size < 2; i++) seen.add(JSON.stringify(await fn()));
  return seen;
}
