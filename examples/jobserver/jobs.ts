// The jobserver's pool task: takes the next job from the "jobs" channel (where the main thread
// put it with session.input), runs it against the shared store, and emits the result on the
// "results" output. One task is submitted per job, so every task finds a job waiting; which task
// (and so which worker) gets which job is the channel's receive order, recorded and replayed.
//
// Jobs, one per line:
//   set KEY N      → the old value (null if new)      get KEY   → the value (null if none)
//   incr KEY N     → the new value                    sum       → { keys, total }
//   roll KEY SIDES → KEY set to a random 1..SIDES     spin N    → a hash after N rounds of work
//   quit           → "bye" (the server stops reading; end of input is an implicit quit)
// A bad job gets { error } as its result.

import type { WorkerThread } from 'lockstep/worker';
import { Store, StoreError } from './store.js';

export interface Job {
  id: number;
  line: string;
  /** Set by the main thread for a job it refused (a line too long): the result is this error. */
  error?: string;
}

export interface Result {
  id: number;
  job: string;
  value?: unknown;
  error?: string;
}

const SPIN_ROUNDS_MAX = 50_000_000;
const ROLL_SIDES_MAX = 1_000_000;

export default function serve(_: unknown, t: WorkerThread): number {
  const job = t.channel<Job>('jobs').receive();
  if (job === undefined) throw new Error('a job task found the jobs channel closed');
  let result: Result;
  if (job.error !== undefined) result = { id: job.id, job: job.line, error: job.error };
  else try {
    result = { id: job.id, job: job.line, value: run(job.line, Store.attach(t), () => t.random()) };
  } catch (e) {
    if (!(e instanceof StoreError)) throw e;
    result = { id: job.id, job: job.line, error: e.message };
  }
  t.output('results', result);
  return job.id;
}

/** Runs one job line against the store; `random` is t.random (recorded) here, Math.random in bench/macro/plain. */
export function run(line: string, store: Store, random: () => number): unknown {
  const [command, ...args] = line.trim().split(/\s+/);
  const arity = (n: number): void => {
    if (args.length !== n) throw new StoreError(`${command} takes ${n} argument${n === 1 ? '' : 's'}`);
  };
  switch (command) {
    case 'set': {
      arity(2);
      const n = int(args[1]!);
      return store.update(args[0]!, () => n).old;
    }
    case 'get':
      arity(1);
      return store.get(args[0]!);
    case 'incr': {
      arity(2);
      const n = int(args[1]!);
      return store.update(args[0]!, (old) => (old ?? 0) + n).now;
    }
    case 'sum':
      arity(0);
      return store.sum();
    case 'roll': {
      arity(2);
      const sides = int(args[1]!);
      if (sides < 1 || sides > ROLL_SIDES_MAX) throw new StoreError(`roll takes 1 to ${ROLL_SIDES_MAX} sides`);
      const roll = 1 + Math.floor(random() * sides); // recorded, replayed
      return store.update(args[0]!, () => roll).now;
    }
    case 'spin': {
      arity(1);
      const rounds = int(args[0]!);
      if (rounds < 0 || rounds > SPIN_ROUNDS_MAX) throw new StoreError(`spin takes 0 to ${SPIN_ROUNDS_MAX} rounds`);
      let h = 0x811c9dc5;
      for (let i = 0; i < rounds; i++) h = Math.imul(h ^ i, 0x01000193);
      return (h >>> 0).toString(16).padStart(8, '0');
    }
    case 'quit':
      arity(0);
      return 'bye';
    default:
      throw new StoreError(`unknown job "${command ?? ''}"`);
  }
}

function int(text: string): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) throw new StoreError(`"${text}" is not a 32-bit integer`);
  return n;
}
