// The random values a recorded thread sees when the run has an explicit seed (start({ seed }),
// --seed, $LOCKSTEP_SEED): one generator per logical thread, derived from (seed, thread id), so
// two recordings with the same seed and the same schedule draw the same values in every thread,
// whatever order the threads run in. Without an explicit seed the live sources (node:crypto,
// Math.random) are used, as before. Replay never draws: its values come from the log.
//
// Generator: xoshiro128** 1.1 (David Blackman and Sebastiano Vigna, 2018), 128 bits of state in
// four uint32 words, seeded through SplitMix32-style mixing of the 64-bit seed and the thread id
// so neighbouring seeds and threads get unrelated streams. Not cryptographic, and not meant to be:
// a seeded run is for reproducing a schedule, not for keys.

export class SeededRandom {
  private readonly s = new Uint32Array(4);

  constructor(seed: bigint, thread: number) {
    let x = (Number(seed & 0xffffffffn) ^ Math.imul(thread + 1, 0x9e3779b9)) >>> 0;
    const hi = Number((seed >> 32n) & 0xffffffffn) >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9 + (i === 1 ? hi : 0)) >>> 0;
      this.s[i] = mix32(x ^ Math.imul(hi, i + 1));
    }
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1; // the all-zero state is a fixed point
  }

  /** The next 32 random bits. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A float in [0, 1) with 53 random bits, as Math.random gives. */
  readonly float = (): number => ((this.nextU32() >>> 5) * 67108864 + (this.nextU32() >>> 6)) / 9007199254740992;

  /** Fills `view` with random bytes. */
  fill(view: Uint8Array): void {
    for (let i = 0; i < view.length; i += 4) {
      let r = this.nextU32();
      for (let k = i; k < i + 4 && k < view.length; k++, r >>>= 8) view[k] = r & 0xff;
    }
  }

  readonly bytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    this.fill(out);
    return out;
  };

  /** An RFC 4122 version-4 UUID from this generator. */
  readonly uuid = (): string => {
    const b = this.bytes(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A 32-bit finaliser (murmur3's fmix32): spreads every input bit over the output. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
