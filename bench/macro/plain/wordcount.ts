// The word count (examples/wordcount) written with plain worker_threads + Atomics, no lockstep:
// the same seeded corpus in shared memory, the same chunks, the same counting task and the very
// same table code (WordTable.over) under Drepper mutexes, on WORDCOUNT_WORKERS workers. Its
// result line has the example's fields, so the macro bench checks it the same way.

import { envInt } from '../../../examples/env.js';
import { generate, isLetter } from '../../../examples/wordcount/corpus.js';
import { KEY_BYTES, WordTable } from '../../../examples/wordcount/table.js';
import { DrepperMutex } from '../../drepper_mutex.js';
import { PlainPool } from './pool.js';

const TOP = 20;
const bytes = envInt('WORDCOUNT_BYTES', 4 << 20, 1024, 1 << 30);
const chunkBytes = envInt('WORDCOUNT_CHUNK', 64 << 10, 256);
const vocabularySize = envInt('WORDCOUNT_VOCAB', 5_000, TOP, 1 << 20);
const workers = envInt('WORDCOUNT_WORKERS', 4, 1, 32);
const stripes = envInt('WORDCOUNT_STRIPES', 64, 1, 1 << 16);
const seed = BigInt.asUintN(64, BigInt(process.env.LOCKSTEP_SEED ?? '1'));

let capacity = stripes;
while (capacity < 2 * vocabularySize) capacity *= 2;
const shared = {
  corpus: new SharedArrayBuffer(bytes),
  hashes: new SharedArrayBuffer(capacity * 4),
  counts: new SharedArrayBuffer(capacity * 4),
  keys: new SharedArrayBuffer(capacity * KEY_BYTES),
  locks: new SharedArrayBuffer(stripes * 4),
};
const corpus = new Uint8Array(shared.corpus);
const generated = generate(seed, corpus, vocabularySize);
const lockWords = new Int32Array(shared.locks);
const table = WordTable.over(new Int32Array(shared.hashes), new Int32Array(shared.counts), new Uint8Array(shared.keys),
  Array.from({ length: stripes }, (_, i) => new DrepperMutex(lockWords, i)));

const chunks: { chunk: number; start: number; end: number }[] = [];
for (let start = 0; start < bytes;) {
  let end = Math.min(bytes, start + chunkBytes);
  while (end < bytes && isLetter(corpus[end]!)) end++;
  chunks.push({ chunk: chunks.length, start, end });
  start = end;
}

const pool = new PlainPool(new URL('./wordcount_worker.js', import.meta.url), workers, shared);
const counted = await pool.map<{ words: number; probes: number }>(chunks);
await pool.close();
const words = counted.reduce((n, c) => n + c.words, 0);
if (words !== generated.words) throw new Error(`counted ${words} words, the corpus has ${generated.words}`);
const entries = [...table.entries()];
const total = entries.reduce((n, e) => n + e.count, 0);
if (total !== words) throw new Error(`the table holds ${total} occurrences, the corpus has ${words} words`);
entries.sort((a, b) => b.count - a.count || (a.word < b.word ? -1 : a.word > b.word ? 1 : 0));
const top = entries.slice(0, TOP).map((e) => [e.word, e.count] as const);
console.log(JSON.stringify({ mode: 'plain', seed: seed.toString(), bytes, words, distinct: entries.length, chunks: chunks.length, probes: counted.reduce((n, c) => n + c.probes, 0), top }));
