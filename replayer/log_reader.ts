// Reads a whole log file: checks the preamble, every frame's length and CRC, the header, the
// per-thread continuity of chunks, and the trailer that only a finished recording has. Any
// problem becomes a typed error (errors.ts); nothing is guessed.

import { readFileSync } from 'node:fs';
import { MAGIC, FORMAT_VERSION, PREAMBLE_BYTES } from '../engine/log/format.js';
import { scanFrame } from '../engine/log/frame.js';
import { Expander } from '../engine/log/compact.js';
import { decodeFrame, decodeHeader, type ChunkData, type HeaderData, type TrailerData } from '../engine/log/codec.js';
import { LockstepError, logCorrupt, logTruncated, logVersion, notALog } from '../engine/errors.js';
import { hasPayload, kindNames, kindOf } from '../engine/event.js';
import { limitsDefault, type Limits } from '../engine/limits.js';
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
  let limits: Limits | null = null;
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
        limits = checkHeader(header, path).limits;
      } else {
        const f = decodeFrame(r.payload);
        if (f.seq !== frames) throw logCorrupt(path, offset, `frame ${f.seq} where frame ${frames} was due`);
        for (const c of f.chunks) {
          if (c.thread >= limits!.threadsMax) throw logCorrupt(path, offset, `a chunk of thread ${c.thread}, beyond threadsMax ${limits!.threadsMax}`);
          const events = expander.expand(c.events);
          if (!events) throw logCorrupt(path, offset, `thread ${c.thread}'s chunk ends inside an event`);
          chunks.push({ ...c, events });
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
  return { path, bytes: bytes.length, header, chunks, streams: joinStreams(chunks, path, limits!), trailer, frames };
}

/** The trailer's counts and names, within the header's limits (tools size tables from them). */
function checkTrailer(t: TrailerData, limits: Limits, path: string, offset: number): void {
  if (t.threadCount > limits.threadsMax) throw logCorrupt(path, offset, `the trailer counts ${t.threadCount} threads, beyond threadsMax ${limits.threadsMax}`);
  if (!Number.isSafeInteger(t.eventCount)) throw logCorrupt(path, offset, `the trailer counts ${t.eventCount} events`);
  if (t.names.length > limits.namesMax) throw logCorrupt(path, offset, `the trailer holds ${t.names.length} names, beyond namesMax ${limits.namesMax}`);
  for (const n of t.names) {
    if (n.kind !== 'region' && n.firstId + n.count > limits.objectsMax + 1) {
      throw logCorrupt(path, offset, `the trailer names objects ${n.firstId}..${n.firstId + n.count - 1}, beyond objectsMax ${limits.objectsMax}`);
    }
  }
}

/** Concatenates each thread's chunks into one stream, checking that no event is missing or doubled. */
function joinStreams(chunks: ChunkData[], path: string, limits: Limits): ThreadStream[] {
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
    // Every event of a known kind, every payload length in 0..frameBytesMax (a payload lies inside
    // one chunk): tools and replay index payloads by these lengths.
    let need = 0;
    for (let p = 0; p < events.length; p += 2) {
      const kind = kindOf(events[p]!);
      if (kindNames[kind] === undefined) throw logCorrupt(path, 0, `thread ${thread}'s event ${p / 2} has unknown kind ${kind}`);
      if (!hasPayload(kind)) continue;
      const length = events[p + 1]!;
      if (length < 0 || length > limits.frameBytesMax) {
        throw logCorrupt(path, 0, `thread ${thread}'s event ${p / 2} claims a ${length}-byte payload (frameBytesMax ${limits.frameBytesMax})`);
      }
      need += length;
    }
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
