// One chunk of the corpus, counted as a pool task: the words of corpus[start, end) are counted
// in a local map first (a combiner, as in MapReduce), then added to the shared table, one
// insertion per distinct word of the chunk.

import type { WorkerThread } from 'lockstep/worker';
import { isLetter } from './corpus.js';
import { WordTable, hashWord } from './table.js';

export interface Chunk {
  chunk: number;
  start: number;
  end: number;
}

export interface ChunkResult {
  chunk: number;
  words: number;
  distinct: number;
  /** Table slots probed while adding this chunk's words (more when words collide). */
  probes: number;
}

export default function count({ chunk, start, end }: Chunk, t: WorkerThread): ChunkResult {
  const corpus = t.shared('wc.corpus', Uint8Array);
  const table = WordTable.attach(t);
  // The corpus is written by the main thread before any task starts and only read afterwards,
  // so reading it needs no lock.
  const local = new Map<string, number>();
  let words = 0;
  let i = start;
  while (i < end) {
    while (i < end && !isLetter(corpus[i]!)) i++;
    let word = '';
    while (i < end && isLetter(corpus[i]!)) word += String.fromCharCode(corpus[i++]! | 0x20);
    if (word === '') continue;
    local.set(word, (local.get(word) ?? 0) + 1);
    words++;
  }
  let probes = 0;
  const bytes = new Uint8Array(16);
  for (const [word, n] of local) {
    for (let k = 0; k < word.length; k++) bytes[k] = word.charCodeAt(k);
    const key = bytes.subarray(0, word.length);
    probes += table.add(key, hashWord(key), n);
  }
  return { chunk, words, distinct: local.size, probes };
}
