// Appends the log's preamble, header and frames to a file, synchronously (the drain is its own
// thread, so blocking writes cost the recorded program nothing).

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import * as flatbuffers from 'flatbuffers';
import { encodeFrameInto, encodeHeader, type ChunkData, type HeaderData, type TrailerData } from '../engine/log/codec.js';
import { frame, frameHeader } from '../engine/log/frame.js';
import { preamble } from '../engine/log/format.js';

export class LogWriter {
  bytes = 0;
  frames = 0;

  private readonly builder = new flatbuffers.Builder(1 << 16);

  private constructor(private readonly fd: number) {}

  /** Creates (or truncates) the file and writes the preamble and the header frame. */
  static create(path: string, header: HeaderData): LogWriter {
    const w = new LogWriter(openSync(path, 'w'));
    w.write(preamble());
    w.write(frame(encodeHeader(header)));
    w.close();
    return w;
  }

  static append(path: string): LogWriter {
    return new LogWriter(openSync(path, 'a'));
  }

  /** Appends a frame; returns its payload (a view of the builder, valid until the next frame). */
  writeFrame(chunks: ChunkData[], trailer: TrailerData | null): Uint8Array {
    const payload = this.encodeFrame(chunks, trailer);
    this.appendFrame(frameHeader(payload), payload);
    return payload;
  }

  /**
   * The next frame's payload, not written yet (a view of the builder, valid until the next frame):
   * a primary ships it before it writes it (appendFrame). The builder is reused and its bytes
   * written straight from it: no per-frame allocation.
   */
  encodeFrame(chunks: ChunkData[], trailer: TrailerData | null): Uint8Array {
    return encodeFrameInto(this.builder, { seq: this.frames, chunks, trailer });
  }

  /** Appends the frame encodeFrame() returned, with its header (frameHeader). */
  appendFrame(header: Uint8Array, payload: Uint8Array): void {
    this.write(header);
    this.write(payload);
    this.frames++;
  }

  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  private write(bytes: Uint8Array): void {
    for (let off = 0; off < bytes.length;) off += writeSync(this.fd, bytes, off);
    this.bytes += bytes.length;
  }
}
