// Parallel word count: a seeded corpus of several MB (generated from session.seed, which the log
// records) is split into chunks; pool tasks count the chunks into one shared open-addressing hash
// table with striped locks (table.ts); the main thread prints the 20 most frequent words.
//
// The racy part: which of two colliding words gets the nearer slot depends on the interleaving,
// so in mode off two runs with the same seed print the same top 20 but usually different digests;
// a replay reproduces the recorded slot placement, and so the digest, exactly.
//
// Sizes: WORDCOUNT_BYTES corpus bytes (default 4 MiB), WORDCOUNT_CHUNK bytes per task (default
// 64 KiB), WORDCOUNT_VOCAB distinct words (default 5,000), WORDCOUNT_WORKERS pool workers
// (default 4), WORDCOUNT_STRIPES lock stripes (default 64, a power of two). LOCKSTEP_SEED picks
// the corpus when recording or in mode off.

import { start } from 'lockstep';
import { envInt } from '../env.js';
import { generate, isLetter } from './corpus.js';
import type { Chunk, ChunkResult } from './count.js';
import { KEY_BYTES, WordTable } from './table.js';

const TOP = 20;
const bytes = envInt('WORDCOUNT_BYTES', 4 << 20, 1024, 1 << 30);
const chunkBytes = envInt('WORDCOUNT_CHUNK', 64 << 10, 256);
const vocabularySize = envInt('WORDCOUNT_VOCAB', 5_000, TOP, 1 << 20);
const workers = envInt('WORDCOUNT_WORKERS', 4, 1, 32);
const stripes = envInt('WORDCOUNT_STRIPES', 64, 1, 1 << 16);

// Twice as many slots as words keeps probes short and still gives collisions to race on.
let capacity = stripes;
while (capacity < 2 * vocabularySize) capacity *= 2;
// The arena holds the corpus and the table on top of lockstep's own default needs.
const arenaBytes = Math.max(64 << 20, (16 << 20) + bytes + capacity * (8 + KEY_BYTES));

const session = await start({ limits: { arenaBytes: Math.ceil(arenaBytes / 4096) * 4096 } });
const corpus = session.shared('wc.corpus', Uint8Array, bytes);
const generated = generate(session.seed, corpus, vocabularySize);
const table = WordTable.create(session, capacity, stripes);

// Chunks end at a non-letter, so no word is cut in two.
const chunks: Chunk[] = [];
for (let start = 0; start < bytes;) {
  let end = Math.min(bytes, start + chunkBytes);
  while (end < bytes && isLetter(corpus[end]!)) end++;
  chunks.push({ chunk: chunks.length, start, end });
  start = end;
}

const pool = session.pool(new URL('./count.js', import.meta.url), { workers });
const counted = await pool.map<ChunkResult>(chunks);
const words = counted.reduce((n, c) => n + c.words, 0);
if (words !== generated.words) throw new Error(`counted ${words} words, the corpus has ${generated.words}`);

// Every task has finished: the main thread reads the table without locks.
const entries = [...table.entries()];
const total = entries.reduce((n, e) => n + e.count, 0);
if (total !== words) throw new Error(`the table holds ${total} occurrences, the corpus has ${words} words`);
entries.sort((a, b) => b.count - a.count || (a.word < b.word ? -1 : a.word > b.word ? 1 : 0));
const top = entries.slice(0, TOP).map((e) => [e.word, e.count] as const);

const result = await session.finish();
console.log(JSON.stringify({
  mode: result.mode,
  digest: result.digest,
  seed: session.seed.toString(),
  bytes,
  words,
  distinct: entries.length,
  chunks: chunks.length,
  probes: counted.reduce((n, c) => n + c.probes, 0),
  top,
  threads: result.threads,
  events: result.events,
  logBytes: result.logBytes,
}));
