// The word-count corpus: seeded text generated into a byte array. Pure code (no clock, no
// Math.random): the same seed gives the same bytes, so a replay, which takes the seed from the
// log, regenerates exactly the corpus that was recorded.
//
// The text is sentences over a vocabulary of made-up words drawn with Zipf's law (the word of
// rank r has weight 1/(r+1)), as in natural text: a few words are very common, most are rare.
// Sentences start with a capital letter, have the odd comma, end with a full stop, and some end a
// line, so the counter must lowercase and split on more than spaces.

/** Longest generated word, in bytes. The counting table's key slots hold this much. */
export const WORD_BYTES_MAX = 12;
const WORD_BYTES_MIN = 2;
const CONSONANTS = 'bcdfghjklmnprstvwz';
const VOWELS = 'aeiou';

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from PractRand), seeded by 64 bits. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: bigint) {
    this.a = Number(seed & 0xffffffffn) | 0;
    this.b = Number((seed >> 32n) & 0xffffffffn) | 0;
    this.c = 0x9e3779b9 | 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.next() / 2 ** 32;
  }

  /** A uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }
}

/** `size` distinct pronounceable lowercase words (consonant-vowel syllables). */
export function vocabulary(rng: Rng, size: number): string[] {
  const words = new Set<string>();
  while (words.size < size) {
    const length = rng.int(WORD_BYTES_MIN, WORD_BYTES_MAX);
    let w = '';
    for (let i = 0; i < length; i++) {
      const letters = i % 2 === 0 ? CONSONANTS : VOWELS;
      w += letters[rng.next() % letters.length];
    }
    words.add(w);
  }
  return [...words];
}

export interface Corpus {
  /** Words written (every one counts once in the word count). */
  words: number;
}

/**
 * Fills `out` with text over a Zipf-distributed vocabulary of `vocabularySize` words drawn from
 * `seed`. The tail that a whole word no longer fits into is filled with spaces.
 */
export function generate(seed: bigint, out: Uint8Array, vocabularySize: number): Corpus {
  const rng = new Rng(seed);
  const vocab = vocabulary(rng, vocabularySize).map((w) => new TextEncoder().encode(w));
  // Zipf's law: cumulative weights, sampled by binary search.
  const cumulative = new Float64Array(vocab.length);
  let sum = 0;
  for (let r = 0; r < vocab.length; r++) cumulative[r] = sum += 1 / (r + 1);
  const pick = (): Uint8Array => {
    const x = rng.float() * sum;
    let lo = 0;
    let hi = vocab.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return vocab[lo]!;
  };

  let at = 0;
  let words = 0;
  let sentenceLeft = 0;
  // Room for a word, a comma or full stop, and the separator after it.
  while (at + WORD_BYTES_MAX + 2 <= out.length) {
    const word = pick();
    const starts = sentenceLeft === 0;
    if (starts) sentenceLeft = rng.int(4, 16);
    out.set(word, at);
    if (starts) out[at] = out[at]! - 32; // capitalised
    at += word.length;
    words++;
    sentenceLeft--;
    if (sentenceLeft === 0) out[at++] = 0x2e; // '.'
    else if (rng.next() % 12 === 0) out[at++] = 0x2c; // ','
    out[at++] = sentenceLeft === 0 && rng.next() % 3 === 0 ? 0x0a : 0x20;
  }
  out.fill(0x20, at);
  return { words };
}

/** A byte is part of a word if it is an ASCII letter. */
export function isLetter(b: number): boolean {
  const lower = b | 0x20;
  return lower >= 0x61 && lower <= 0x7a;
}
