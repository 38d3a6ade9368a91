// Reads a whole log file: checks the preamble, every frame's length and CRC, the header, the
// per-thread continuity of chunks, and the trailer that only a finished recording has. Any
// problem becomes a typed error (errors.ts); nothing is guessed.
//
// Two readers: readLog keeps every chunk (the CLI's tools walk them); readReplayLog, for replay,
// reads the file one frame at a time, twice (sizes, then contents), and writes each thread's
// stream straight into the shared buffer its thread replays from, so a replay holds the streams
// and one frame, not the file, its chunks and two copies of the streams (it used to peak at
// 1.8× the recording's memory on the bank example).

import { joinStreams } from '../engine/log/stream_join.js';
import { closeSync, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { MAGIC, FORMAT_VERSION, PREAMBLE_BYTES } from '../engine/log/format.js';
import { scanFrame } from '../engine/log/frame.js';
import { decodeFrame, decodeHeader, type ChunkData, type HeaderData, type TrailerData } from '../engine/log/codec.js';
import { LockstepError, logCorrupt, logTruncated, logVersion, notALog } from '../engine/errors.js';
import { Kind, hasPayload, isKnownKind, kindOf } from '../engine/event.js';
import { FRAME_HEADER_BYTES } from '../engine/log/frame.js';
import type { StreamInit } from './stream.js';
import { limitsDefault, type Limits } from '../engine/limits.js';
import { idsPerObject, objectLabel } from '../engine/arena_layout.js';
import { checkHeader } from '../engine/log/header_check.js';

export interface ThreadStream {
  thread: number;
  /** Two words per event. */
  events: Int32Array;
  /** Payload bytes of the thread's payload events, in order. */
  data: Uint8Array;
}

export interface Log {
  path: string;
  bytes: number;
  header: HeaderData;
  /** Chunks in shipped order (frames in causal order; within a frame, at most one chunk per thread), two words per event. */
  chunks: ChunkData[];
  streams: ThreadStream[];
  trailer: TrailerData;
  frames: number;
}

/** What a replay needs of a log: its header and trailer, and per thread the stream to replay. */
export interface ReplayLog {
  path: string;
  bytes: number;
  header: HeaderData;
  trailer: TrailerData;
  frames: number;
  /** Per thread id, its stream in a shared buffer (StreamReader reads it as is). */
  streams: Map<number, StreamInit>;
}

export function readReplayLog(path: string, frameBytesMax: number = limitsDefault.frameBytesMax): ReplayLog {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LockstepError('ERR_USAGE', `cannot read log ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { path });
  }
  try {
    const size = fstatSync(fd).size;
    const first = new Uint8Array(Math.min(size, PREAMBLE_BYTES));
    readSync(fd, first, 0, first.length, 0);
    checkPreamble(first, path);
    // Pass 1: check everything, and count each thread's words and payload bytes.
    const sizes = new Map<number, { events: number; data: number }>();
    let header: HeaderData | null = null;
    let limits: Limits | null = null;
    let trailer: TrailerData | null = null;
    let frames = 0;
    forEachFrame(fd, size, path, frameBytesMax, (payload, offset) => {
      if (trailer) throw logCorrupt(path, offset, 'data after the final frame');
      if (!header) {
        header = decodeHeader(payload);
        if (header.formatVersion !== FORMAT_VERSION) throw logVersion(path, header.formatVersion, FORMAT_VERSION);
        limits = checkHeader(header, path).limits;
        return;
      }
      const f = decodeFrame(payload);
      if (f.seq !== frames) throw logCorrupt(path, offset, `frame ${f.seq} where frame ${frames} was due`);
      if (f.trailer) checkTrailer(f.trailer, limits!, path, offset);
      for (const c of f.chunks) {
        checkChunk(c, limits!, path, offset);
        const s = sizes.get(c.thread) ?? { events: 0, data: 0 };
        if (c.firstIndex * 2 !== s.events) throw logCorrupt(path, 0, `thread ${c.thread} jumps from event ${s.events / 2} to event ${c.firstIndex}`);
        s.events += c.events.length;
        s.data += c.data.length;
        sizes.set(c.thread, s);
      }
      trailer = f.trailer;
      frames++;
    });
    if (!header) throw logTruncated(path, size, 'there is no header frame');
    if (!trailer) throw logTruncated(path, size, 'there is no final frame with the end marker');
    const cutOff = (trailer as TrailerData).cutOff;
    // Pass 2: the streams, written where their threads will read them.
    const streams = new Map<number, StreamInit>();
    const filled = new Map<number, { events: Int32Array; data: Uint8Array; w: number; d: number }>();
    for (const [thread, s] of sizes) {
      const buffer = new SharedArrayBuffer(s.events * 4 + s.data);
      streams.set(thread, { buffer, eventWords: s.events, dataBytes: s.data, cutOff });
      filled.set(thread, { events: new Int32Array(buffer, 0, s.events), data: new Uint8Array(buffer, s.events * 4, s.data), w: 0, d: 0 });
    }
    let headerSeen = false;
    forEachFrame(fd, size, path, frameBytesMax, (payload) => {
      if (!headerSeen) {
        headerSeen = true;
        return;
      }
      for (const c of decodeFrame(payload).chunks) {
        const t = filled.get(c.thread)!;
        t.events.set(c.events, t.w);
        t.data.set(c.data, t.d);
        t.w += c.events.length;
        t.d += c.data.length;
      }
    });
    const threadStreams = [...filled].sort((x, y) => x[0] - y[0]).map(([thread, t]) => ({ thread, events: t.events, data: t.data }));
    checkCounts(threadStreams, header, trailer, path, size);
    return { path, bytes: size, header, trailer, frames, streams };
  } finally {
    closeSync(fd);
  }
}

function checkPreamble(bytes: Uint8Array, path: string): void {
  const magicSeen = Math.min(bytes.length, MAGIC.length);
  if (!MAGIC.subarray(0, magicSeen).every((b, i) => bytes[i] === b)) throw notALog(path);
  if (bytes.length < PREAMBLE_BYTES) throw logTruncated(path, bytes.length, 'the preamble is cut short');
  const version = new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length, true);
  if (version !== FORMAT_VERSION) throw logVersion(path, version, FORMAT_VERSION);
}

/** Two words per event, and the payload bytes its events name are the ones it holds. */
function checkChunk(c: ChunkData, limits: Limits, path: string, offset: number): void {
  if (c.thread >= limits.threadsMax) throw logCorrupt(path, offset, `a chunk of thread ${c.thread}, beyond threadsMax ${limits.threadsMax}`);
  if ((c.events.length & 1) !== 0) throw logCorrupt(path, offset, `thread ${c.thread}'s chunk ends inside an event`);
  // Every event of a known kind, every payload length in 0..frameBytesMax (a payload lies inside
  // one chunk): replay and the tools index payloads by these lengths.
  let need = 0;
  const events = c.events;
  for (let p = 0; p < events.length; p += 2) {
    const kind = kindOf(events[p]!);
    if (!isKnownKind(kind)) throw logCorrupt(path, offset, `thread ${c.thread}'s chunk holds an event of unknown kind ${kind}`);
    if (!hasPayload(kind)) continue;
    const length = events[p + 1]!;
    if (length < 0 || length > limits.frameBytesMax) {
      throw logCorrupt(path, offset, `thread ${c.thread}'s chunk claims a ${length}-byte payload (frameBytesMax ${limits.frameBytesMax})`);
    }
    need += length;
  }
  if (need !== c.data.length) throw logCorrupt(path, offset, `thread ${c.thread}'s payloads need ${need} bytes, its chunk holds ${c.data.length}`);
}

/**
 * Calls `fn` with each frame's checked payload, reading the file one frame at a time into one
 * buffer: the payload is a view of it, valid until `fn` returns (fn keeps decoded values, not views).
 */
function forEachFrame(fd: number, size: number, path: string, frameBytesMax: number, fn: (payload: Uint8Array, offset: number) => void): void {
  const head = new Uint8Array(FRAME_HEADER_BYTES);
  let buffer = new Uint8Array(1 << 16);
  for (let offset = PREAMBLE_BYTES; offset < size;) {
    const got = readSync(fd, head, 0, Math.min(FRAME_HEADER_BYTES, size - offset), offset);
    const length = got === FRAME_HEADER_BYTES ? new DataView(head.buffer).getUint32(0, true) : 0;
    const total = Math.min(size - offset, FRAME_HEADER_BYTES + (length <= frameBytesMax ? length : 0));
    if (buffer.length < total) buffer = new Uint8Array(Math.max(total, buffer.length * 2));
    readSync(fd, buffer, 0, total, offset);
    // In place: the frame is at the start of `buffer` (aligned), and fn is done with it before the next read.
    const r = scanFrame(buffer.subarray(0, total), 0, frameBytesMax, false);
    if (r.kind === 'end') break;
    if (r.kind === 'truncated') throw logTruncated(path, offset, r.why);
    if (r.kind === 'corrupt') throw logCorrupt(path, offset, r.why);
    try {
      fn(r.payload, offset);
    } catch (e) {
      if (e instanceof LockstepError) throw e;
      throw logCorrupt(path, offset, `undecodable frame: ${(e as Error).message}`);
    }
    offset += r.next;
  }
}

export function readLog(path: string, frameBytesMax: number = limitsDefault.frameBytesMax): Log {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LockstepError('ERR_USAGE', `cannot read log ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { path });
  }
  return parseLog(bytes, path, frameBytesMax);
}

export function parseLog(bytes: Uint8Array, path: string, frameBytesMax: number = limitsDefault.frameBytesMax): Log {
  const magicSeen = Math.min(bytes.length, MAGIC.length);
  if (!MAGIC.subarray(0, magicSeen).every((b, i) => bytes[i] === b)) throw notALog(path);
  if (bytes.length < PREAMBLE_BYTES) throw logTruncated(path, bytes.length, 'the preamble is cut short');
  const version = new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length, true);
  if (version !== FORMAT_VERSION) throw logVersion(path, version, FORMAT_VERSION);

  let offset = PREAMBLE_BYTES;
  let header: HeaderData | null = null;
  let limits: Limits | null = null;
  let trailer: TrailerData | null = null;
  const chunks: ChunkData[] = [];
  let frames = 0;
  for (;;) {
    const r = scanFrame(bytes, offset, frameBytesMax);
    if (r.kind === 'end') break;
    if (r.kind === 'truncated') throw logTruncated(path, offset, r.why);
    if (r.kind === 'corrupt') throw logCorrupt(path, offset, r.why);
    if (trailer) throw logCorrupt(path, offset, 'data after the final frame');
    try {
      if (!header) {
        header = decodeHeader(r.payload);
        if (header.formatVersion !== FORMAT_VERSION) throw logVersion(path, header.formatVersion, FORMAT_VERSION);
        limits = checkHeader(header, path).limits;
      } else {
        const f = decodeFrame(r.payload);
        if (f.seq !== frames) throw logCorrupt(path, offset, `frame ${f.seq} where frame ${frames} was due`);
        for (const c of f.chunks) {
          checkChunk(c, limits!, path, offset);
          chunks.push(c);
        }
        if (f.trailer) checkTrailer(f.trailer, limits!, path, offset);
        trailer = f.trailer;
        frames++;
      }
    } catch (e) {
      if (e instanceof LockstepError) throw e;
      throw logCorrupt(path, offset, `undecodable frame: ${(e as Error).message}`);
    }
    offset = r.next;
  }
  if (!header) throw logTruncated(path, offset, 'there is no header frame');
  if (!trailer) throw logTruncated(path, offset, 'there is no final frame with the end marker');
  const streams = threadStreams(chunks, path);
  checkCounts(streams, header, trailer, path, offset);
  return { path, bytes: bytes.length, header, chunks, streams, trailer, frames };
}

/**
 * The trailer's counts are claims about the streams; tools print them and replay's progress uses
 * them, so they must be what the streams hold. A complete log has one spawn event (on the main
 * thread) per thread after the first; a log cut off by a failure may know a thread that had not
 * recorded anything yet.
 */
function checkCounts(streams: ThreadStream[], header: HeaderData, trailer: TrailerData, path: string, offset: number): void {
  let events = 0;
  for (const s of streams) events += s.events.length / 2;
  if (trailer.eventCount !== events) throw logCorrupt(path, offset, `the trailer counts ${trailer.eventCount} events, the streams hold ${events}`);
  const spawns = countSpawns(streams.find((s) => s.thread === 0));
  const threads = trailer.threadCount;
  const last = streams.length > 0 ? streams[streams.length - 1]!.thread : -1;
  const fits = trailer.cutOff ? threads >= spawns + 1 : threads === spawns + 1;
  if (!fits || last >= threads || threads > header.threadsMax) {
    throw logCorrupt(path, offset, `the trailer counts ${threads} threads, the streams show ${spawns + 1} (threadsMax ${header.threadsMax})`);
  }
}

function countSpawns(main: ThreadStream | undefined): number {
  let n = 0;
  if (main) for (let p = 0; p < main.events.length; p += 2) if (kindOf(main.events[p]!) === Kind.Spawn) n++;
  return n;
}

/** The trailer's counts and names, within the header's limits (tools size tables from them). */
function checkTrailer(t: TrailerData, limits: Limits, path: string, offset: number): void {
  if (t.threadCount > limits.threadsMax) throw logCorrupt(path, offset, `the trailer counts ${t.threadCount} threads, beyond threadsMax ${limits.threadsMax}`);
  if (!Number.isSafeInteger(t.eventCount)) throw logCorrupt(path, offset, `the trailer counts ${t.eventCount} events`);
  if (t.names.length > limits.namesMax) throw logCorrupt(path, offset, `the trailer holds ${t.names.length} names, beyond namesMax ${limits.namesMax}`);
  for (const n of t.names) {
    if (n.kind !== 'region' && n.firstId + n.count * idsPerObject(n.kind) > limits.objectsMax + 1) {
      throw logCorrupt(path, offset, `the trailer names objects ${n.firstId}..${n.firstId + n.count * idsPerObject(n.kind) - 1}, beyond objectsMax ${limits.objectsMax}`);
    }
  }
}

/** Each thread's chunks as one stream (stream_join.ts), checking that no event is missing or doubled. */
function threadStreams(chunks: ChunkData[], path: string): ThreadStream[] {
  const streams: ThreadStream[] = [];
  const joined = joinStreams(chunks, (thread, due, got) => {
    throw logCorrupt(path, 0, `thread ${thread} jumps from event ${due} to event ${got}`);
  }, 0);
  for (const { thread, events, data } of joined) {
    let need = 0;
    for (let p = 0; p < events.length; p += 2) if (hasPayload(kindOf(events[p]!))) need += events[p + 1]!;
    if (need !== data.length) throw logCorrupt(path, 0, `thread ${thread}'s payloads need ${need} bytes, the log holds ${data.length}`);
    streams.push({ thread, events, data });
  }
  return streams;
}

/** The registered name of sync object `id` ("account[12]", or "m" for a group of one). */
export function objectName(log: Log, id: number): string {
  for (const n of log.trailer.names) {
    if (n.firstId === 0 || id < n.firstId || id >= n.firstId + n.count * idsPerObject(n.kind)) continue;
    return objectLabel(n.name, n.kind, n.firstId, n.count, id);
  }
  return `object ${id}`;
}
