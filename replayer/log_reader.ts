// Reads a whole log file: checks the preamble, every frame's length and CRC, the header, the
// per-thread continuity of chunks, and the trailer that only a finished recording has. Any
// problem becomes a typed error (errors.ts); nothing is guessed.

import { readFileSync } from 'node:fs';
import { MAGIC, FORMAT_VERSION, PREAMBLE_BYTES } from '../engine/log/format.js';
import { scanFrame } from '../engine/log/frame.js';
import { Expander } from '../engine/log/compact.js';
import { decodeFrame, decodeHeader, type ChunkData, type HeaderData, type TrailerData } from '../engine/log/codec.js';
import { LockstepError, logCorrupt, logTruncated, logVersion, notALog } from '../engine/errors.js';
import { Kind, hasPayload, kindOf } from '../engine/event.js';
import { limitsDefault } from '../engine/limits.js';

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
  /** Chunks in shipped (causal) order, two words per event (versions restored: compact.ts). */
  chunks: ChunkData[];
  streams: ThreadStream[];
  trailer: TrailerData;
  frames: number;
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
  let trailer: TrailerData | null = null;
  const chunks: ChunkData[] = [];
  let frames = 0;
  const expander = new Expander();
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
      } else {
        const f = decodeFrame(r.payload);
        if (f.seq !== frames) throw logCorrupt(path, offset, `frame ${f.seq} where frame ${frames} was due`);
        for (const c of f.chunks) {
          const events = expander.expand(c.events);
          if (!events) throw logCorrupt(path, offset, `thread ${c.thread}'s chunk ends inside an event`);
          chunks.push({ ...c, events });
        }
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
  const streams = joinStreams(chunks, path);
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

/** Concatenates each thread's chunks into one stream, checking that no event is missing or doubled. */
function joinStreams(chunks: ChunkData[], path: string): ThreadStream[] {
  const parts = new Map<number, ChunkData[]>();
  for (const c of chunks) {
    const list = parts.get(c.thread) ?? [];
    list.push(c);
    parts.set(c.thread, list);
  }
  const streams: ThreadStream[] = [];
  for (const [thread, list] of [...parts].sort((x, y) => x[0] - y[0])) {
    let eventWords = 0;
    let dataBytes = 0;
    for (const c of list) {
      if (c.firstIndex * 2 !== eventWords) {
        throw logCorrupt(path, 0, `thread ${thread} jumps from event ${eventWords / 2} to event ${c.firstIndex}`);
      }
      eventWords += c.events.length;
      dataBytes += c.data.length;
    }
    const events = new Int32Array(eventWords);
    const data = new Uint8Array(dataBytes);
    let w = 0;
    let d = 0;
    for (const c of list) {
      events.set(c.events, w);
      data.set(c.data, d);
      w += c.events.length;
      d += c.data.length;
    }
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
    if (n.firstId === 0 || id < n.firstId || id >= n.firstId + n.count) continue;
    return n.count === 1 && n.kind !== 'atomic' ? n.name : `${n.name}[${id - n.firstId}]`;
  }
  return `object ${id}`;
}
