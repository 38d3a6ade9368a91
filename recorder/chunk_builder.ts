// One thread's part of the frame the drain is building: its event words (two per event) and its
// payload bytes, in scratch buffers reused from frame to frame (a fresh typed array per chunk
// cost more than the rest of the drain together). A frame holds at most one chunk per thread.

import type { ChunkData } from '../engine/log/codec.js';

const START_WORDS = 1 << 12;
const START_BYTES = 1 << 12;

export class ChunkBuilder {
  words = new Int32Array(START_WORDS);
  wordsUsed = 0;
  bytes = new Uint8Array(START_BYTES);
  /** A view of `bytes`, made again only when `bytes` grows (one per event cost GC time). */
  view = new DataView(this.bytes.buffer);
  /** `bytes` as little-endian words (made with it): payload words at a 4-aligned offset are copied whole. */
  words32 = new Int32Array(this.bytes.buffer);
  bytesUsed = 0;
  /** Event index of the chunk's first event, and how many events it holds. */
  firstIndex = 0;
  events = 0;

  /** Makes room for `n` more words. */
  roomForWords(n: number): void {
    if (this.wordsUsed + n <= this.words.length) return;
    const bigger = new Int32Array(Math.max(this.words.length * 2, this.wordsUsed + n));
    bigger.set(this.words.subarray(0, this.wordsUsed));
    this.words = bigger;
  }

  /** Makes room for `n` more payload bytes. */
  roomForBytes(n: number): void {
    if (this.bytesUsed + n <= this.bytes.length) return;
    // A whole number of words, so that words32 covers every byte.
    const bigger = new Uint8Array((Math.max(this.bytes.length * 2, this.bytesUsed + n) + 3) & ~3);
    bigger.set(this.bytes.subarray(0, this.bytesUsed));
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
    this.words32 = new Int32Array(bigger.buffer);
  }

  /** The chunk, as views of the scratch buffers: valid until clear(). `time`: Chunk.time (ms since the run started). */
  chunk(thread: number, time: number): ChunkData {
    return { thread, firstIndex: this.firstIndex, events: this.words.subarray(0, this.wordsUsed), data: this.bytes.subarray(0, this.bytesUsed), time };
  }

  clear(): void {
    this.wordsUsed = 0;
    this.bytesUsed = 0;
    this.events = 0;
  }
}
