// Encoding of the log's tables with FlatBuffers (schema.fbs; generated code in generated/).
// Plain objects in, plain objects out, so nothing outside this file touches FlatBuffers.

import * as flatbuffers from 'flatbuffers';
import { Chunk } from './generated/lockstep/log/chunk.js';
import { Frame } from './generated/lockstep/log/frame.js';
import { Header } from './generated/lockstep/log/header.js';
import { Trailer } from './generated/lockstep/log/trailer.js';
import { Name } from './generated/lockstep/log/name.js';
import { FRAME_SHAPE, HEADER_SHAPE, verifyRoot } from './verify.js';

export interface HeaderData {
  formatVersion: number;
  programPath: string;
  programHash: string;
  args: string[];
  threadsMax: number;
  seed: bigint;
  nodeVersion: string;
  options: string;
}

export interface ChunkData {
  thread: number;
  firstIndex: number;
  /** Two words per event (event.ts). */
  events: Int32Array;
  data: Uint8Array;
  /**
   * Milliseconds since the run started when the drain took the chunk from the thread's ring, on an
   * unpatched clock: a coarse time axis for timelines. Not an input: replay never reads it.
   */
  time: number;
}

export interface NameData {
  name: string;
  kind: string;
  firstId: number;
  count: number;
}

export interface TrailerData {
  threadCount: number;
  eventCount: number;
  digest: string;
  names: NameData[];
  /** The program failed before finish(): the log holds the run up to the failure. */
  cutOff: boolean;
}

export interface FrameData {
  seq: number;
  chunks: ChunkData[];
  trailer: TrailerData | null;
}

export function encodeHeader(h: HeaderData): Uint8Array {
  const b = new flatbuffers.Builder(256);
  const path = b.createString(h.programPath);
  const hash = b.createString(h.programHash);
  const args = Header.createArgsVector(b, h.args.map((s) => b.createString(s)));
  const node = b.createString(h.nodeVersion);
  const options = b.createString(h.options);
  Header.startHeader(b);
  Header.addFormatVersion(b, h.formatVersion);
  Header.addProgramPath(b, path);
  Header.addProgramHash(b, hash);
  Header.addArgs(b, args);
  Header.addThreadsMax(b, h.threadsMax);
  Header.addSeed(b, h.seed);
  Header.addNodeVersion(b, node);
  Header.addOptions(b, options);
  b.finish(Header.endHeader(b));
  return b.asUint8Array().slice();
}

/** Decodes a header; throws BadFlatBuffer (verify.ts) if its content lies about its own layout. */
export function decodeHeader(bytes: Uint8Array): HeaderData {
  verifyRoot(bytes, HEADER_SHAPE);
  const h = Header.getRootAsHeader(new flatbuffers.ByteBuffer(bytes));
  const args: string[] = [];
  for (let i = 0; i < h.argsLength(); i++) args.push(h.args(i) ?? '');
  return {
    formatVersion: h.formatVersion(),
    programPath: h.programPath() ?? '',
    programHash: h.programHash() ?? '',
    args,
    threadsMax: h.threadsMax(),
    seed: h.seed(),
    nodeVersion: h.nodeVersion() ?? '',
    options: h.options() ?? '{}',
  };
}

export function encodeFrame(f: FrameData): Uint8Array {
  let size = 64;
  for (const c of f.chunks) size += c.events.length * 4 + c.data.length + 64;
  return encodeFrameInto(new flatbuffers.Builder(size), f).slice();
}

/** Encodes into `b` (cleared first); the result is a view of the builder, valid until its next use. */
export function encodeFrameInto(b: flatbuffers.Builder, f: FrameData): Uint8Array {
  b.clear();
  const chunks = f.chunks.map((c) => {
    const events = uintVector(b, c.events);
    const data = byteVector(b, c.data);
    Chunk.startChunk(b);
    Chunk.addThread(b, c.thread);
    Chunk.addFirstIndex(b, BigInt(c.firstIndex));
    Chunk.addEvents(b, events);
    Chunk.addData(b, data);
    Chunk.addTime(b, c.time);
    return Chunk.endChunk(b);
  });
  const chunkVector = Frame.createChunksVector(b, chunks);
  let trailer = 0;
  if (f.trailer) {
    const digest = b.createString(f.trailer.digest);
    const names = Trailer.createNamesVector(b, f.trailer.names.map((n) => {
      const name = b.createString(n.name);
      const kind = b.createString(n.kind);
      Name.startName(b);
      Name.addName(b, name);
      Name.addKind(b, kind);
      Name.addFirstId(b, n.firstId);
      Name.addCount(b, n.count);
      return Name.endName(b);
    }));
    Trailer.startTrailer(b);
    Trailer.addNames(b, names);
    Trailer.addCutOff(b, f.trailer.cutOff);
    Trailer.addThreadCount(b, f.trailer.threadCount);
    Trailer.addEventCount(b, BigInt(f.trailer.eventCount));
    Trailer.addDigest(b, digest);
    trailer = Trailer.endTrailer(b);
  }
  Frame.startFrame(b);
  Frame.addSeq(b, BigInt(f.seq));
  Frame.addChunks(b, chunkVector);
  if (f.trailer) Frame.addTrailer(b, trailer);
  b.finish(Frame.endFrame(b));
  return b.asUint8Array();
}

/** A [ubyte] vector written in one copy (the generated createDataVector adds byte by byte). */
function byteVector(b: flatbuffers.Builder, bytes: Uint8Array): flatbuffers.Offset {
  b.startVector(1, bytes.length, 1);
  const inner = b as unknown as { space: number; bb: flatbuffers.ByteBuffer };
  const space = inner.space - bytes.length;
  inner.bb.bytes().set(bytes, space);
  inner.space = space;
  inner.bb.setPosition(space);
  return b.endVector();
}

/** A [uint] vector written in one copy rather than one builder call per element. */
function uintVector(b: flatbuffers.Builder, words: Int32Array): flatbuffers.Offset {
  b.startVector(4, words.length, 4);
  // The builder fills its buffer from the end; `space` is private in the typings, public in JS.
  const inner = b as unknown as { space: number; bb: flatbuffers.ByteBuffer };
  const space = inner.space - words.length * 4;
  inner.bb.bytes().set(new Uint8Array(words.buffer, words.byteOffset, words.length * 4), space);
  inner.space = space;
  inner.bb.setPosition(space);
  return b.endVector();
}

/**
 * Decodes a frame; `bytes` must be 4-byte aligned (frame.ts copies payloads). Throws BadFlatBuffer
 * (verify.ts) if its content lies about its own layout.
 */
export function decodeFrame(bytes: Uint8Array): FrameData {
  verifyRoot(bytes, FRAME_SHAPE);
  const f = Frame.getRootAsFrame(new flatbuffers.ByteBuffer(bytes));
  const chunks: ChunkData[] = [];
  for (let i = 0; i < f.chunksLength(); i++) {
    const c = f.chunks(i)!;
    const events = c.eventsArray();
    chunks.push({
      thread: c.thread(),
      firstIndex: Number(c.firstIndex()),
      events: events ? new Int32Array(events.buffer, events.byteOffset, events.length) : new Int32Array(0),
      data: c.dataArray() ?? new Uint8Array(0),
      time: c.time(),
    });
  }
  const t = f.trailer();
  return {
    seq: Number(f.seq()),
    chunks,
    trailer: t ? { threadCount: t.threadCount(), eventCount: Number(t.eventCount()), digest: t.digest() ?? '', names: namesOf(t), cutOff: t.cutOff() } : null,
  };
}

function namesOf(t: Trailer): NameData[] {
  const out: NameData[] = [];
  for (let i = 0; i < t.namesLength(); i++) {
    const n = t.names(i)!;
    out.push({ name: n.name() ?? '', kind: n.kind() ?? '', firstId: n.firstId(), count: n.count() });
  }
  return out;
}
