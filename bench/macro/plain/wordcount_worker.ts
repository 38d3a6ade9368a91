// A counting worker of the plain word count (wordcount.ts): the example's count task over the
// shared corpus and table, under Drepper mutexes.

import { parentPort, workerData } from 'node:worker_threads';
import { isLetter } from '../../../examples/wordcount/corpus.js';
import { WordTable, hashWord } from '../../../examples/wordcount/table.js';
import { DrepperMutex } from '../../drepper_mutex.js';
import { serveTasks } from './pool.js';

const s = workerData as Record<'corpus' | 'hashes' | 'counts' | 'keys' | 'locks', SharedArrayBuffer>;
const corpus = new Uint8Array(s.corpus);
const lockWords = new Int32Array(s.locks);
const table = WordTable.over(new Int32Array(s.hashes), new Int32Array(s.counts), new Uint8Array(s.keys),
  Array.from({ length: lockWords.length }, (_, i) => new DrepperMutex(lockWords, i)));

serveTasks((p) => {
  const { chunk, start, end } = p as { chunk: number; start: number; end: number };
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
}, parentPort!);
