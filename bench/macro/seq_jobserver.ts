// The job server's work done sequentially on one thread, without lockstep or a pool: the same
// jobs from stdin, run one after another against a Map, each result printed as one JSON line as
// the server prints it. With one pool worker the server runs its jobs in this order too, so its
// results must be these; with more workers concurrent jobs race and results may differ.
// Handles the jobs the benchmark's job script uses: set, get, incr, sum, spin, quit.

import { createInterface } from 'node:readline';
import { foldResult } from './jobs_script.js';

const store = new Map<string, number>();
let id = 0;
let digest = 0x811c9dc5;

function run(line: string): unknown {
  const [command, ...args] = line.trim().split(/\s+/);
  switch (command) {
    case 'set': {
      const old = store.get(args[0]!) ?? null;
      store.set(args[0]!, Number(args[1]) | 0);
      return old;
    }
    case 'get':
      return store.get(args[0]!) ?? null;
    case 'incr': {
      const now = ((store.get(args[0]!) ?? 0) + Number(args[1])) | 0;
      store.set(args[0]!, now);
      return now;
    }
    case 'sum': {
      let total = 0;
      for (const v of store.values()) total += v;
      return { keys: store.size, total };
    }
    case 'spin': {
      const rounds = Number(args[0]);
      let h = 0x811c9dc5;
      for (let i = 0; i < rounds; i++) h = Math.imul(h ^ i, 0x01000193);
      return (h >>> 0).toString(16).padStart(8, '0');
    }
    case 'quit':
      return 'bye';
    default:
      throw new Error(`seq_jobserver: unsupported job "${line}"`);
  }
}

let quit = false;
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
  const value = run(line);
  process.stdout.write(`${JSON.stringify({ id, job: line, value })}\n`);
  digest = foldResult(digest, id++, value);
  if (line.trim() === 'quit') {
    quit = true;
    break;
  }
}
if (!quit) {
  const value = 'bye';
  process.stdout.write(`${JSON.stringify({ id, job: 'quit', value })}\n`);
  digest = foldResult(digest, id++, value);
}
console.log(JSON.stringify({ jobs: id, results: (digest >>> 0).toString(16) }));
