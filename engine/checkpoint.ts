// Region digests that say where memory differs: every registered region (and every atomics group,
// as its cell values) is cut into at most BLOCKS_PER_REGION_MAX blocks and each block gets a
// 32-bit hash, so two digest sets compare block by block and a difference is named as a region
// and a byte range (cells for atomics) instead of one run digest that only says "something".
// Record takes a set at each checkpoint (a consistent cut: recorder/checkpoint.ts) and at the end
// of the run; replay takes one at the same cuts and compares (replayer/checkpoint.ts).
//
// The block hash is FNV-1a over 32-bit words with a final avalanche (Fowler, Noll, Vo; the
// finaliser is MurmurHash3's fmix32): each step (h ^ w) * p with p odd is a bijection of w for a
// fixed h and of h for a fixed w, so a block that differs from the recorded one in a single word
// always hashes differently; differences in several words collide with probability ~2^-32 per
// block. That is enough for a report (the run digest, SHA-256, still decides pass or fail).
//
// Encoding of a set (little-endian u32 words):
//   [entries n] then per entry: [entry index] [block bytes] [blocks k] [k block hashes]
// The entry index is the entry's place in the arena's directory (registration order, the same in
// record and replay); a region's byte length and an atomics group's cell count come from the
// replaying arena, and a set that disagrees with it is reported as a layout difference.
// Pure: no I/O; it reads the arena's memory only when asked to hash it.

import type { Arena } from './arena.js';
import { elementTypes } from './arena.js';
import { EntryKind } from './arena_layout.js';
import { mix32 } from './prng.js';

/** Most blocks one region is cut into (the block size grows with the region instead). */
export const BLOCKS_PER_REGION_MAX = 256;
/** Smallest block: a difference is named to within this many bytes. */
export const BLOCK_BYTES_MIN = 64;
/** Slots between two atomic cells' values (AtomicArray.SLOTS_PER_CELL; not imported, to stay pure of sync/). */
const ATOMIC_SLOTS_PER_CELL = 3;

/** One region's (or atomics group's) block hashes. */
export interface EntryDigest {
  /** The entry's index in the arena directory. */
  entry: number;
  blockBytes: number;
  hashes: Uint32Array;
}

/** What differs in one entry: its name, the unit ('bytes' for regions, 'cells' for atomics) and the ranges. */
export interface RegionDifference {
  region: string;
  unit: 'bytes' | 'cells';
  /** Half-open ranges [from, to) in `unit`, adjacent differing blocks merged. */
  ranges: [number, number][];
}

/** The block size for an entry of `bytes` bytes: a power of two, at least BLOCK_BYTES_MIN, at most BLOCKS_PER_REGION_MAX blocks. */
export function blockBytesFor(bytes: number): number {
  let b = BLOCK_BYTES_MIN;
  while (b * BLOCKS_PER_REGION_MAX < bytes) b *= 2;
  return b;
}

/** FNV-1a over words [from, to) of `a`, then over `tail` bytes, finalised (see the header). */
export function hashWords(a: Int32Array, from: number, to: number, u8: Uint8Array | null = null, tailFrom = 0, tailTo = 0): number {
  let h = 0x811c9dc5 | 0;
  for (let i = from; i < to; i++) h = Math.imul(h ^ a[i]!, 0x01000193);
  if (u8 !== null) for (let i = tailFrom; i < tailTo; i++) h = Math.imul(h ^ u8[i]!, 0x01000193);
  return mix32(h);
}

/** The byte length of a region entry, or the cell count × 4 of an atomics entry (null: not hashed). */
function entryBytes(e: ReturnType<Arena['entries']>[number]): number | null {
  if (e.kind === EntryKind.Region) return e.count * elementTypes[e.type]!.BYTES_PER_ELEMENT;
  if (e.kind === EntryKind.Atomic) return e.count * 4;
  return null;
}

/** Block hashes of every registered region and atomics group, now (the caller makes "now" a consistent cut). */
export function digestBlocks(arena: Arena): EntryDigest[] {
  const out: EntryDigest[] = [];
  const a = arena.a;
  for (const e of arena.entries()) {
    const bytes = entryBytes(e);
    if (bytes === null) continue;
    const blockBytes = blockBytesFor(bytes);
    const k = Math.ceil(bytes / blockBytes);
    const hashes = new Uint32Array(k);
    if (e.kind === EntryKind.Region) {
      const base = e.offset * 4;
      for (let b = 0; b < k; b++) {
        const lo = b * blockBytes;
        const hi = Math.min(bytes, lo + blockBytes);
        const whole = lo + ((hi - lo) & ~3);
        hashes[b] = hashWords(a, (base + lo) >> 2, (base + whole) >> 2, arena.u8, base + whole, base + hi);
      }
    } else {
      const cellsPerBlock = blockBytes / 4;
      const cells = new Int32Array(cellsPerBlock);
      for (let b = 0; b < k; b++) {
        const first = b * cellsPerBlock;
        const n = Math.min(e.count - first, cellsPerBlock);
        for (let c = 0; c < n; c++) cells[c] = Atomics.load(a, e.offset + (first + c) * ATOMIC_SLOTS_PER_CELL);
        hashes[b] = hashWords(cells, 0, n);
      }
    }
    out.push({ entry: e.index, blockBytes, hashes });
  }
  return out;
}

/** Encodes a set after `prefix` words (the checkpoint's number, say). */
export function encodeBlocks(set: EntryDigest[], prefix: number[] = []): Uint8Array {
  let words = prefix.length + 1;
  for (const d of set) words += 3 + d.hashes.length;
  const out = new Uint32Array(words);
  let p = 0;
  for (const w of prefix) out[p++] = w >>> 0;
  out[p++] = set.length;
  for (const d of set) {
    out[p++] = d.entry;
    out[p++] = d.blockBytes;
    out[p++] = d.hashes.length;
    out.set(d.hashes, p);
    p += d.hashes.length;
  }
  return new Uint8Array(out.buffer);
}

/** Decodes a set encoded after `prefixWords` words; null if the bytes are not one (a log that lies). */
export function decodeBlocks(bytes: Uint8Array, prefixWords = 0): { prefix: number[]; set: EntryDigest[] } | null {
  if (bytes.length % 4 !== 0) return null;
  const w = new Uint32Array(bytes.slice().buffer);
  if (w.length < prefixWords + 1) return null;
  const prefix = Array.from(w.subarray(0, prefixWords));
  let p = prefixWords;
  const n = w[p++]!;
  const set: EntryDigest[] = [];
  for (let i = 0; i < n; i++) {
    if (p + 3 > w.length) return null;
    const entry = w[p]!;
    const blockBytes = w[p + 1]!;
    const k = w[p + 2]!;
    p += 3;
    if (k > BLOCKS_PER_REGION_MAX || p + k > w.length || blockBytes < BLOCK_BYTES_MIN) return null;
    set.push({ entry, blockBytes, hashes: w.slice(p, p + k) });
    p += k;
  }
  return p === w.length ? { prefix, set } : null;
}

/**
 * What differs between a recorded set and a replayed one, named with the arena's entries (an
 * entry missing from either side, or cut differently, is named whole).
 */
export function compareBlocks(recorded: EntryDigest[], replayed: EntryDigest[], names: (entry: number) => { name: string; unit: 'bytes' | 'cells'; size: number }): RegionDifference[] {
  const out: RegionDifference[] = [];
  const mine = new Map(replayed.map((d) => [d.entry, d]));
  const seen = new Set<number>();
  for (const r of recorded) {
    seen.add(r.entry);
    const info = names(r.entry);
    const m = mine.get(r.entry);
    if (!m || m.blockBytes !== r.blockBytes || m.hashes.length !== r.hashes.length) {
      out.push({ region: info.name, unit: info.unit, ranges: [[0, info.size]] });
      continue;
    }
    const unitBytes = info.unit === 'cells' ? 4 : 1;
    const ranges: [number, number][] = [];
    for (let b = 0; b < r.hashes.length; b++) {
      if (r.hashes[b] === m.hashes[b]) continue;
      const from = (b * r.blockBytes) / unitBytes;
      const to = Math.min(info.size, ((b + 1) * r.blockBytes) / unitBytes);
      const last = ranges[ranges.length - 1];
      if (last && last[1] === from) last[1] = to;
      else ranges.push([from, to]);
    }
    if (ranges.length > 0) out.push({ region: info.name, unit: info.unit, ranges });
  }
  for (const m of replayed) {
    if (seen.has(m.entry)) continue;
    const info = names(m.entry);
    out.push({ region: info.name, unit: info.unit, ranges: [[0, info.size]] });
  }
  return out;
}

/** Names entries for compareBlocks from an arena. */
export function entryNames(arena: Arena): (entry: number) => { name: string; unit: 'bytes' | 'cells'; size: number } {
  const entries = arena.entries();
  return (i) => {
    const e = entries[i];
    if (!e) return { name: `entry ${i}`, unit: 'bytes', size: 0 };
    const atomic = e.kind === EntryKind.Atomic;
    return { name: e.name, unit: atomic ? 'cells' : 'bytes', size: atomic ? e.count : entryBytes(e) ?? 0 };
  };
}

/** "balances bytes [0, 64) and [256, 320); hits cells [0, 16)" */
export function describeDifferences(diffs: RegionDifference[]): string {
  return diffs.map((d) => `"${d.region}" ${d.unit} ${d.ranges.map(([a, b]) => `[${a}, ${b})`).join(' and ')}`).join('; ');
}

/** One thread's place in a cut: it stopped before its event `index` (where its checkpoint-mark is). */
export interface CutPlace {
  thread: number;
  index: number;
  /** The thread had exited (index: its last event's, plus one): replay waits until it has exited too. */
  gone?: boolean;
}

/** A gone thread's place has this bit set on its thread word. */
const GONE_BIT = 0x80000000;

/** A checkpoint event's payload: its number, every other thread's place, and the block digests. */
export function encodeCut(number: number, places: CutPlace[], set: EntryDigest[]): Uint8Array {
  return encodeBlocks(set, [number, places.length, ...places.flatMap((p) => [p.gone ? (p.thread | GONE_BIT) >>> 0 : p.thread, p.index])]);
}

export function decodeCut(bytes: Uint8Array): { number: number; places: CutPlace[]; set: EntryDigest[] } | null {
  if (bytes.length < 8 || bytes.length % 4 !== 0) return null;
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (n > (bytes.length - 8) / 8) return null;
  const d = decodeBlocks(bytes, 2 + 2 * n);
  if (!d) return null;
  const places: CutPlace[] = [];
  for (let i = 0; i < n; i++) {
    const word = d.prefix[2 + 2 * i]!;
    const place: CutPlace = { thread: (word & ~GONE_BIT) >>> 0, index: d.prefix[3 + 2 * i]! };
    if ((word & GONE_BIT) !== 0) place.gone = true;
    places.push(place);
  }
  return { number: d.prefix[0]!, places, set: d.set };
}
