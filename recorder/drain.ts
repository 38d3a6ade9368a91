// The drain: its own worker thread (so a main thread blocked in Atomics.wait never stalls
// recording). It moves events from every thread's ring into frames in causal order
// (causal_order.ts) and appends them to the log. It sleeps on the arena's doorbell word between
// wake-ups (a ring past a quarter full, an output, a thread out of room, finish, a state-transfer cut,
// or flushMs), and at each wake-up takes what the rings hold and writes it as one frame (cut at
// frameEventsMax). On C_FINISH it ships everything, writes the trailer and reports its totals.

import { workerData, parentPort, type MessagePort } from 'node:worker_threads';
import { Arena } from '../engine/arena.js';
import { assert } from '../engine/assert.js';
import type { Limits } from '../engine/limits.js';
import {
  C_ABORT, C_ACKED_FRAMES, C_ALONE, C_CUT, C_DOORBELL, C_DRAIN_DONE, C_FINISH, C_LAG_WAITS, C_SHIPPED_FRAMES, CUT_REQUESTED,
  FINISH_CUT_OFF, FINISH_SEALED, T_LIVE_FROM, T_LIVE_OUTPUTS, T_RING, T_RING_WORDS, entryKindNames,
} from '../engine/arena_layout.js';
import { FRAME_HEADER_BYTES, frame } from '../engine/log/frame.js';
import { serializeError } from '../engine/errors.js';
import { CausalOrder, type Taken } from './causal_order.js';
import { RingReader } from './ring.js';
import { ChunkBuilder } from './chunk_builder.js';
import { LogWriter } from './log_writer.js';
import type { ChunkData, NameData } from '../engine/log/codec.js';

/** A frame the drain posts to the log channel's sender (replication/sender.ts). */
export interface ShippedFrame {
  seq: number;
  bytes: Uint8Array;
  /** Per thread, outputs shipped up to and including this frame. */
  outputs: number[];
}

export interface DrainInit {
  arena: SharedArrayBuffer;
  limits: Limits;
  logPath: string;
  /** Primary: every frame also goes to the log channel's sender (sender.ts). */
  ship?: { port: MessagePort; lagBytesMax: number; cutVersions: SharedArrayBuffer };
  /**
   * A backup that took over starts a new log mid-run: per object, the version its first shipped
   * event has (the cutover floors, or a snapshot's versions), and each thread's first event index
   * is the one it went live at (T_LIVE_FROM).
   */
  continueFrom?: { versions: SharedArrayBuffer };
}

export interface DrainReport {
  events: number;
  bytes: number;
  frames: number;
  threads: number;
  digest: string;
}

const LAG_WAIT_MS = 20;
const CUT_OFF_PASSES_MAX = 64;

class Drain {
  private readonly arena: Arena;
  private readonly order: CausalOrder;
  /** What the last take copied (one object, reused: the drain takes per thread per round). */
  private readonly taken: Taken = { events: 0, outputs: 0, endAt: -1, endBytes: 0 };
  private readonly readers: RingReader[] = [];
  /** Per thread, its ring's tail when the current pass began. */
  private readonly tails: Int32Array;
  private readonly shipped: number[] = [];
  /** Per thread, its part of the frame being built. */
  private readonly builders: ChunkBuilder[] = [];
  private pendingEvents = 0;
  private events = 0;
  private digest = '';
  /** Primary: outputs shipped so far, per thread (the output gate releases by these). */
  private readonly outputs: number[] = [];
  /** Primary: sizes of frames shipped and not yet acknowledged, oldest first, and their sum. */
  private readonly unacked: number[] = [];
  private unackedBytes = 0;
  private ackedSeen = 0;
  /** The drain starts with the run; chunks carry their time since then (Chunk.time, timelines only). */
  private readonly startedMs = performance.now();

  constructor(private readonly init: DrainInit, private readonly writer: LogWriter) {
    this.arena = new Arena(init.arena, init.limits);
    this.order = new CausalOrder(init.limits.objectsMax);
    this.tails = new Int32Array(init.limits.threadsMax);
    if (init.continueFrom) this.order.startAt(new Int32Array(init.continueFrom.versions));
  }

  run(): DrainReport {
    const a = this.arena.a;
    const limits = this.arena.limits;
    let finishing = 0;
    for (let cutPasses = 0; ;) {
      const bell = Atomics.load(a, C_DOORBELL);
      finishing = Atomics.load(a, C_FINISH);
      const moved = this.pass();
      // Cut off: threads may still be running while the process exits; take what is there, briefly.
      if (finishing === FINISH_CUT_OFF && (!moved || ++cutPasses >= CUT_OFF_PASSES_MAX)) break;
      if (finishing !== 0) {
        if (moved) continue;
        if (finishing === FINISH_SEALED) break;
      }
      if (Atomics.load(a, C_CUT) === CUT_REQUESTED) this.cut();
      // One frame per wake-up: a wake-up comes from a ring past its threshold, an output, a
      // thread waiting for room, finish or a cut, or else after flushMs. Sleeping between them
      // rather than polling leaves the cores to the program (the drain used to be a third
      // runnable thread on two cores) and batches the work: a wake-up under load takes a quarter of a
      // ring from each thread in one frame.
      this.flush();
      Atomics.wait(a, C_DOORBELL, bell, limits.flushMs);
    }
    // A sealed run has shipped everything; a cut-off one may hold events whose causal past never
    // reached a ring (a thread killed mid-step): those stay out, so the log is still a consistent cut.
    if (finishing === FINISH_SEALED) {
      for (const [thread, r] of this.readers.entries()) {
        assert(r.head === r.tail(), `drain: thread ${thread}'s ring is empty at finish (causal order blocked?)`);
      }
    }
    this.flush(true, finishing === FINISH_CUT_OFF);
    this.writer.close();
    Atomics.store(a, C_DRAIN_DONE, 1);
    Atomics.notify(a, C_DRAIN_DONE);
    return { events: this.events, bytes: this.writer.bytes, frames: this.writer.frames, threads: this.readers.length, digest: this.digest };
  }

  /**
   * Takes what the rings held when the pass began, in rounds over all rings while any ring yields
   * events (a lock handed back and forth yields one event a round), and then frees what it took in
   * each ring, once; true if anything moved. Bounded by the tails read at the start, so a wake-up
   * is a batch, not a chase of producers that keep writing.
   */
  private pass(): boolean {
    this.attachNewThreads();
    const readers = this.readers;
    const tails = this.tails;
    for (let t = 0; t < readers.length; t++) tails[t] = readers[t]!.tail();
    let movedAny = false;
    for (let moved = true; moved;) {
      moved = false;
      for (let t = 0; t < readers.length; t++) {
        const r = readers[t]!;
        const end = this.take(t, r, tails[t]!);
        if (end === r.taken) continue;
        r.taken = end;
        moved = movedAny = true;
      }
      if (this.pendingEvents >= this.arena.limits.frameEventsMax) this.flush();
    }
    for (const r of readers) if (r.taken !== r.head) r.release(r.taken);
    return movedAny;
  }

  private attachNewThreads(): void {
    const a = this.arena.a;
    for (let t = this.readers.length; t < this.arena.threadCount; t++) {
      const slot = this.arena.threadSlot(t);
      this.readers.push(new RingReader(a, a[slot + T_RING]!, a[slot + T_RING_WORDS]!));
      this.shipped.push(this.init.continueFrom ? -1 : 0);
      this.outputs.push(0);
      this.builders.push(new ChunkBuilder());
    }
  }

  /**
   * Copies the longest prefix of ring positions [r.taken, tail) that may ship now (CausalOrder.take)
   * into the thread's chunk of the frame being built, and returns where it stopped. Events of one
   * thread taken at several points of a pass (a lock handed back and forth) join one chunk.
   */
  private take(thread: number, r: RingReader, tail: number): number {
    const b = this.builders[thread]!;
    const taken = this.taken;
    const p = this.order.take(r, r.taken, tail, b, taken);
    const count = taken.events;
    if (taken.endAt >= 0) this.digest = Buffer.from(b.bytes.subarray(taken.endAt, taken.endAt + taken.endBytes)).toString('hex');
    this.outputs[thread]! += taken.outputs;
    if (count === 0) return p;
    // A new primary's thread ships from the event it went live at (stored before its first push).
    // Its output count too: the output gate releases by output sequence numbers, which go on.
    if (this.shipped[thread]! < 0) {
      const slot = this.arena.threadSlot(thread);
      this.shipped[thread] = Atomics.load(this.arena.a, slot + T_LIVE_FROM);
      this.outputs[thread] = Atomics.load(this.arena.a, slot + T_LIVE_OUTPUTS) + this.outputs[thread]!;
    }
    if (b.events === 0) b.firstIndex = this.shipped[thread]!;
    b.events += count;
    this.shipped[thread]! += count;
    this.pendingEvents += count;
    this.events += count;
    return p;
  }

  private names(): NameData[] {
    return this.arena.entries().map((e) => ({
      name: e.name,
      kind: entryKindNames[e.kind] ?? String(e.kind),
      firstId: e.firstId,
      count: e.count,
    }));
  }

  private flush(final = false, cutOff = false): void {
    if (this.pendingEvents === 0 && !final) return;
    const chunks: ChunkData[] = [];
    // One coarse time per frame: the timeline's time axis needs no finer grain than a frame.
    const time = performance.now() - this.startedMs;
    for (let t = 0; t < this.builders.length; t++) {
      if (this.builders[t]!.events > 0) chunks.push(this.builders[t]!.chunk(t, time));
    }
    const trailer = final ? { threadCount: this.readers.length, eventCount: this.events, digest: this.digest, names: this.names(), cutOff } : null;
    if (this.init.ship && !cutOff) this.awaitBackup();
    if (this.init.ship) {
      // The frame goes to the backup before it goes to the file: an output waits for the backup's
      // acknowledgement, not for this node's own copy (the local writes came first, on every output's path).
      const payload = this.writer.encodeFrame(chunks, trailer);
      const bytes = frame(payload);
      const header = bytes.slice(0, FRAME_HEADER_BYTES);
      this.ship(bytes, this.writer.frames);
      this.writer.appendFrame(header, payload);
      Atomics.store(this.arena.a, C_SHIPPED_FRAMES, this.writer.frames);
    } else this.writer.writeFrame(chunks, trailer);
    for (const b of this.builders) b.clear();
    this.pendingEvents = 0;
  }

  /** Primary: holds the next frame back while the backup lags by more than lagBytesMax (rings fill, threads wait). */
  private awaitBackup(): void {
    const a = this.arena.a;
    this.noteAcks();
    for (let counted = false; this.unackedBytes > this.init.ship!.lagBytesMax;) {
      if (Atomics.load(a, C_ALONE) !== 0 || Atomics.load(a, C_ABORT) !== 0 || Atomics.load(a, C_FINISH) === FINISH_CUT_OFF) return;
      if (!counted) Atomics.add(a, C_LAG_WAITS, 1);
      counted = true;
      Atomics.wait(a, C_ACKED_FRAMES, Atomics.load(a, C_ACKED_FRAMES), LAG_WAIT_MS);
      this.noteAcks();
    }
  }

  private noteAcks(): void {
    const acked = Atomics.load(this.arena.a, C_ACKED_FRAMES);
    while (this.ackedSeen < acked && this.unacked.length > 0) {
      this.unackedBytes -= this.unacked.shift()!;
      this.ackedSeen++;
    }
  }

  /** Primary: frame `seq` goes to the sender as it will be in the file, with the output counts it covers. */
  private ship(bytes: Uint8Array, seq: number): void {
    const f: ShippedFrame = { seq, bytes, outputs: this.outputs.slice() };
    // Counted before the post: transferring the buffer detaches it (its length becomes 0).
    this.unacked.push(bytes.length);
    this.unackedBytes += bytes.length;
    this.init.ship!.port.postMessage(f, [bytes.buffer as ArrayBuffer]);
  }

  /**
   * State transfer: the main thread holds every other thread quiet and asks for a cut. Everything
   * in the rings ships now; frames from the answer on hold only what happens after the snapshot,
   * and each object's next version is written for the joining backup's cutover floors.
   */
  private cut(): void {
    const a = this.arena.a;
    while (this.pass());
    this.flush();
    this.order.versionsInto(new Int32Array(this.init.ship!.cutVersions));
    Atomics.store(a, C_CUT, this.writer.frames);
    Atomics.notify(a, C_CUT);
  }
}

if (parentPort && workerData?.drain) {
  const init = workerData.drain as DrainInit;
  try {
    const writer = LogWriter.append(init.logPath);
    parentPort.postMessage({ type: 'done', report: new Drain(init, writer).run() });
  } catch (e) {
    parentPort.postMessage({ type: 'error', error: serializeError(e) });
  }
}
