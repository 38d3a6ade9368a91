// The backup's end of the log channel: a worker thread (the backup's threads, main included, block
// in Atomics.wait while they replay, so the socket cannot live on their event loops). The protocol
// (dialling, handshake, sequence, acknowledgements, heartbeats, lost primary, the claim and the
// decision to cut over) is the pure core core/backup.ts; this driver owns the socket, the files,
// the frame checks and the per-thread streams, and carries out the core's actions. It connects
// to the primary, proves it holds the secret and checks that the primary does too, receives the
// log header (the main thread builds the run from it), then every frame: it checks each frame's
// CRC and sequence, notes each object's floor (version_floors.ts), and posts each thread its part of the frame as
// a segment on the thread's broadcast channel (stream.ts). It acknowledges what it received, one
// acknowledgement per batch of bytes read (not per event), before it posts the batch's segments
// and writes its copy of the log, and sends and checks heartbeats.
//
// When the primary dies (silence, a closed or corrupt channel) it asks the arbiter for the next
// epoch. Winning is cutover: every complete frame received is already posted (each frame boundary
// is a consistent cut: the drain ships in causal order), so it publishes each object's floor (the
// version after the last received operation), marks every thread's stream final, and tells the
// main thread, which starts a new log and lets threads go live as they reach the end of their
// streams. Losing, or not reaching the arbiter, stops the node (fail-stop).
//
// Lag bound: when the segments posted and not yet taken by their threads exceed lagBytesMax, it stops reading
// the socket; TCP backpressure then stops the acknowledgements and the primary's drain waits.

import { appendFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import { VersionFloors } from '../engine/log/version_floors.js';
import { decodeFrame, type FrameData } from '../engine/log/codec.js';
import { scanFrame } from '../engine/log/frame.js';
import { preamble } from '../engine/log/format.js';
import type { Limits } from '../engine/limits.js';
import { C_ABORT, T_CONSUMED, T_FED, T_STATE, threadTableBase, THREAD_SLOTS } from '../engine/arena_layout.js';
import { channelCorrupt, serializeError } from '../engine/errors.js';
import type { Replication } from './config.js';
import { joinStreams } from '../engine/log/stream_join.js';
import { publishCutover } from './cutover.js';
import { BackupCore, type BackupAction, type BackupIn, type BackupOut } from './core/backup.js';
import { arbiterFor } from './arbiter_client.js';
import { dial, tlsRefusal, transportOf } from './transport.js';
import { MESSAGE_BYTES_MAX, Msg, WireDecoder, count, encode, mac, macOk, nonce, parseChallenge, parseRefused, parseWelcome, type Message } from './wire.js';
import { FED_FINAL, streamChannelName, type Segment } from '../replayer/stream.js';

export interface ReceiverInit {
  repl: Replication;
  run: string;
}

/** From the main thread: the backup replayed the whole log to the recorded digest and finished. */
export interface ReceiverDone {
  type: 'done';
  digest: string;
}

/** From the main thread, once it has built the arena from the header. */
export interface ReceiverAttach {
  type: 'attach';
  arena: SharedArrayBuffer;
  limits: Limits;
  /** Per object, the cutover floor (written at cutover). */
  floors: SharedArrayBuffer;
  /** Joining: per object, the version at the snapshot's cut. */
  versions?: Int32Array;
}

const TICK_MS = 10;

class Receiver {
  private socket: Socket | null = null;
  private decoder: WireDecoder;
  private myNonce = nonce();
  /** The primary's challenge, which the hello's MAC answers. */
  private challenge = '';
  private readonly core: BackupCore<Uint8Array>;
  private attached: ReceiverAttach | null = null;
  private a: Int32Array | null = null;
  private readonly floors = new VersionFloors();
  private readonly channels = new Map<number, BroadcastChannel>();
  /** Segments for threads not listening yet (not spawned, or not attached). */
  private readonly waiting = new Map<number, Segment[]>();
  private readonly posted: number[] = [];
  /** Frames received and checked in this batch, for the backup's own copy of the log (written after the acknowledgement). */
  private readonly unwritten: Uint8Array[] = [];
  /**
   * While a batch is read: the segments of its checked frames, posted to their threads right after
   * the batch's acknowledgement (in the same turn, so before anything else this worker does).
   */
  private batch: { thread: number; s: Segment }[] | null = null;

  constructor(private readonly init: ReceiverInit) {
    const r = init.repl;
    this.decoder = new WireDecoder(r.preAuth.preAuthBytesMax);
    this.core = new BackupCore<Uint8Array>({
      node: r.node, connectTo: `${r.connect!.host}:${r.connect!.port}`, heartbeatMs: r.heartbeatMs, timeoutMs: r.timeoutMs, connectMs: r.connectMs,
    }, Date.now());
    this.run(this.core.start());
    setInterval(() => this.guard(() => this.tick()), TICK_MS);
  }

  attach(m: ReceiverAttach): void {
    this.guard(() => this.attachNow(m));
  }

  private attachNow(m: ReceiverAttach): void {
    this.attached = m;
    this.a = new Int32Array(m.arena);
    if (m.versions) this.floors.startAt(m.versions);
    this.run(this.core.attach());
    this.persist();
  }

  private get repl(): Replication {
    return this.init.repl;
  }

  private get peer(): string {
    return `${this.core.primary || 'the primary'} at ${this.repl.connect!.host}:${this.repl.connect!.port}`;
  }

  /** Dials the primary (the core decides when: at start, and again after a failure before the welcome). */
  private dial(): void {
    const s = dial(transportOf(this.repl), this.repl.connect!, this.repl.node);
    s.setNoDelay(true);
    s.on('connect', () => {
      this.socket = s;
      this.decoder = new WireDecoder(this.repl.preAuth.preAuthBytesMax);
      this.myNonce = nonce();
      this.core.connect(Date.now());
    });
    s.on('data', (chunk) => this.guard(() => {
      if (this.socket === s) this.data(chunk);
    }));
    s.on('error', (e) => this.guard(() => {
      // A refusal at the TLS level (wrong secret or certificate) will not go away by dialling again.
      const refused = tlsRefusal(e);
      if (refused) this.run(this.core.tlsRefused(refused));
    }));
    s.on('close', () => this.guard(() => {
      const current = this.socket === s;
      if (current && !this.core.welcomed && this.core.phase === 'running') this.socket = null;
      this.run(this.core.closed(current, Date.now()));
    }));
  }

  /** An unexpected error in this worker fails the node (fail-stop) and wakes every waiting thread. */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.run(this.core.failed(e as Error));
    }
  }

  private data(chunk: Buffer): void {
    this.decoder.push(chunk);
    const batch: { thread: number; s: Segment }[] = [];
    this.batch = batch;
    try {
      this.read();
    } finally {
      this.batch = null;
    }
    // The acknowledgement goes first: the frames are checked and held here, and their segments are
    // posted to the replaying threads next, in this same turn. Posting first woke the backup's
    // threads, which then took the cores from this one while the primary's outputs waited for the
    // acknowledgement; the disk copy is not part of it either (writing it first put a file
    // open/write/close per frame into every output's latency).
    this.run(this.core.batchRead(Date.now()));
    for (const b of batch) this.post(b.thread, b.s);
    // Frames checked before a bad one are still the backup's log: they are written whatever follows.
    this.persist();
  }

  /** Reads the messages the batch completed (stops at a bad one, or when the core stops reading). */
  private read(): void {
    for (;;) {
      if (!this.core.reading) break;
      const d = this.decoder.next();
      if (d.kind === 'more') break;
      if (d.kind === 'bad') {
        const err = channelCorrupt(this.peer, d.why);
        console.error(`lockstep: ${this.repl.node}: ${err.message}`);
        this.run(this.core.lost(`a corrupt frame (${d.why})`));
        break;
      }
      this.run(this.core.message(this.decode(d.message)));
    }
  }

  /** A wire message as the core reads it (the MAC is checked here: the core has no crypto). */
  private decode(m: Message): BackupIn<Uint8Array> {
    switch (m.type) {
      case Msg.Challenge: {
        const c = parseChallenge(m.body);
        if (c) this.challenge = c.nonce;
        return { type: 'challenge', ok: c !== null };
      }
      case Msg.Welcome: {
        const w = parseWelcome(m.body);
        if (!w) return { type: 'welcome', ok: false, malformed: true, epoch: 0, node: '' };
        return { type: 'welcome', ok: macOk(this.repl.secret, w.mac, 'welcome', this.myNonce, w.node), malformed: false, epoch: w.epoch, node: w.node };
      }
      case Msg.Refused: return { type: 'refused', why: parseRefused(m.body).why };
      case Msg.Heartbeat: return { type: 'heartbeat', fence: count(m.body, 'fence') };
      case Msg.Log: return { type: 'log', bytes: m.body as Uint8Array };
      case Msg.Snapshot: return { type: 'snapshot', snapshot: m.body, cut: count(m.body, 'cut') };
      case Msg.Released: return { type: 'released', outputs: Array.isArray(m.body?.outputs) ? m.body.outputs : null };
      case Msg.End: return { type: 'end', frames: count(m.body, 'frames') };
      default: return { type: 'other', code: m.type };
    }
  }

  /** Carries out the core's actions, in order. */
  private run(actions: BackupAction<Uint8Array>[]): void {
    for (const x of actions) {
      switch (x.do) {
        case 'dial':
          if (x.afterMs === 0) this.dial();
          else setTimeout(() => this.guard(() => this.dial()), x.afterMs);
          break;
        case 'send':
          if (this.socket && !this.socket.destroyed) this.socket.write(this.encode(x.msg));
          break;
        case 'close':
          if (x.how === 'end') this.socket?.end();
          else this.socket?.destroy();
          break;
        case 'welcome':
          this.decoder.bytesMax = MESSAGE_BYTES_MAX;
          parentPort!.postMessage({ type: 'welcome', epoch: x.epoch, primary: x.primary });
          break;
        case 'header': this.header(x.bytes); break;
        case 'frame': this.frame(x.bytes); break;
        case 'snapshot': parentPort!.postMessage({ type: 'snapshot', snapshot: x.snapshot }); break;
        case 'released': parentPort!.postMessage({ type: 'released', outputs: x.outputs }); break;
        case 'ended': parentPort!.postMessage({ type: 'ended', frames: x.frames }); break;
        case 'lost': {
          const torn = this.decoder.pending;
          console.error(`lockstep: ${this.repl.node} lost the primary ${x.primary}: ${x.why}` +
            (torn > 0 ? ` (${torn} bytes of an incomplete frame dropped)` : ''));
          break;
        }
        case 'claim': {
          const arbiter = arbiterFor(this.repl);
          arbiter.claim(x.epoch).finally(() => arbiter.close()).then(
            (d) => this.guard(() => this.run(this.core.claimed(d))),
            (e) => this.run(this.core.failed(e)),
          );
          break;
        }
        case 'cutover': this.cutover(x.epoch, x.frames, x.why); break;
        case 'done-sent':
          if (x.after === 'close' && this.socket) this.socket.end(() => parentPort!.postMessage({ type: 'done-sent' }));
          else parentPort!.postMessage({ type: 'done-sent' });
          break;
        case 'fail': this.fail(x.error); break;
      }
    }
  }

  private encode(m: BackupOut): Uint8Array {
    const r = this.repl;
    switch (m.type) {
      case 'hello': return encode(Msg.Hello, { node: r.node, join: r.join, mac: mac(r.secret, 'hello', this.challenge, r.node), nonce: this.myNonce });
      case 'heartbeat': return encode(Msg.Heartbeat, {});
      case 'ack': return encode(Msg.Ack, { frames: m.frames, fence: m.fence });
      case 'done': return encode(Msg.Done, { digest: m.digest });
    }
  }

  /** Appends the batch's frames to the backup's copy of the log, one write per batch. */
  private persist(): void {
    if (this.unwritten.length === 0) return;
    appendFileSync(this.repl.log!, this.unwritten.length === 1 ? this.unwritten[0]! : Buffer.concat(this.unwritten));
    this.unwritten.length = 0;
  }

  private header(bytes: Uint8Array): void {
    if (this.repl.log) writeFileSync(this.repl.log, Buffer.concat([preamble(), bytes]));
    const r = scanFrame(bytes, 0, bytes.length);
    if (r.kind !== 'frame') return this.run(this.core.lost(`a bad log header (${r.kind === 'end' ? 'empty' : r.why})`));
    parentPort!.postMessage({ type: 'header', payload: r.payload });
  }

  private frame(bytes: Uint8Array): void {
    const r = scanFrame(bytes, 0, this.attached!.limits.frameBytesMax);
    if (r.kind !== 'frame') return this.run(this.core.lost(`a corrupt log frame (${r.kind === 'end' ? 'empty' : r.why})`));
    let f: FrameData;
    try {
      f = decodeFrame(r.payload);
    } catch (e) {
      return this.run(this.core.lost(`a corrupt log frame (${(e as Error).message})`));
    }
    const gap = this.core.sequence(f.seq);
    if (gap !== null) return this.run(this.core.lost(gap));
    if (this.repl.log) this.unwritten.push(bytes);
    for (const c of f.chunks) {
      if (!this.floors.note(c.events)) return this.run(this.core.lost(`thread ${c.thread}'s chunk ends inside an event`));
    }
    let joined;
    try {
      joined = joinStreams(f.chunks, (thread, due, got) => {
        throw new Error(`thread ${thread}'s chunks jump from event ${due} to event ${got}`);
      });
    } catch (e) {
      return this.run(this.core.lost(`a corrupt log frame (${(e as Error).message})`));
    }
    for (const j of joined) {
      const data = new Uint8Array(j.data);
      const s: Segment = { firstIndex: j.firstIndex, events: j.events, data, bytes: j.events.length * 4 + data.length };
      if (this.batch) this.batch.push({ thread: j.thread, s });
      else this.post(j.thread, s);
    }
    this.core.received();
  }

  private post(thread: number, s: Segment): void {
    const queue = this.waiting.get(thread);
    if (queue || !this.listening(thread)) {
      if (queue) queue.push(s);
      else this.waiting.set(thread, [s]);
      return;
    }
    this.deliver(thread, s);
  }

  private listening(thread: number): boolean {
    return thread === 0 || Atomics.load(this.a!, this.slot(thread) + T_STATE) >= 2;
  }

  private slot(thread: number): number {
    return threadTableBase(this.attached!.limits.namesMax) + thread * THREAD_SLOTS;
  }

  private deliver(thread: number, s: Segment): void {
    let ch = this.channels.get(thread);
    if (!ch) {
      ch = new BroadcastChannel(streamChannelName(this.init.run, thread));
      this.channels.set(thread, ch);
    }
    ch.postMessage(s);
    this.posted[thread] = ((this.posted[thread] ?? 0) + s.bytes) | 0;
    const fed = this.slot(thread) + T_FED;
    Atomics.add(this.a!, fed, 1);
    Atomics.notify(this.a!, fed);
    if (thread === 0) parentPort!.postMessage({ type: 'more' });
  }

  /** Log bytes posted to threads and not yet replayed. */
  private queued(): number {
    let n = 0;
    for (let t = 0; t < this.posted.length; t++) n += ((this.posted[t] ?? 0) - Atomics.load(this.a!, this.slot(t) + T_CONSUMED)) | 0;
    for (const q of this.waiting.values()) for (const s of q) n += s.bytes;
    return n;
  }

  private tick(): void {
    if (this.a) {
      for (const [thread, queue] of this.waiting) {
        if (!this.listening(thread)) continue;
        for (const s of queue) this.deliver(thread, s);
        this.waiting.delete(thread);
        if (this.core.phase === 'cutover') this.markFinal(thread);
      }
      if (this.socket && this.core.phase === 'running') {
        const behind = this.queued() > this.repl.lagBytesMax;
        if (behind && !this.socket.isPaused()) this.socket.pause();
        if (!behind && this.socket.isPaused()) this.socket.resume();
      }
    }
    this.run(this.core.tick(Date.now(), this.socket?.isPaused() ?? false));
  }

  /** Won the epoch: cutover's first step (cutover.ts). */
  private cutover(epoch: number, frames: number, why: string): void {
    publishCutover(this.a!, epoch, this.floors, this.attached!.floors, this.attached!.limits.threadsMax, (t) => this.waiting.has(t), (t) => this.markFinal(t));
    parentPort!.postMessage({ type: 'cutover', epoch, frames, why });
  }

  /** The backup finished (replayed to the recorded digest): tell the primary, so its close is a clean end. */
  done(m: ReceiverDone): void {
    this.run(this.core.done(m.digest));
  }

  private markFinal(thread: number): void {
    const fed = this.slot(thread) + T_FED;
    Atomics.or(this.a!, fed, FED_FINAL);
    Atomics.notify(this.a!, fed);
  }

  private fail(e: Error): void {
    // The main thread may be parked on its stream: the abort word reaches it where a message cannot.
    if (this.a) {
      Atomics.store(this.a, C_ABORT, 1);
      for (let t = 0; t < this.attached!.limits.threadsMax; t++) Atomics.notify(this.a, this.slot(t) + T_FED);
    }
    parentPort!.postMessage({ type: 'fail', error: serializeError(e) });
  }
}

if (parentPort && workerData?.receiver) {
  const receiver = new Receiver(workerData.receiver as ReceiverInit);
  parentPort.on('message', (m: ReceiverAttach | ReceiverDone) => {
    if (m.type === 'attach') receiver.attach(m);
    else if (m.type === 'done') receiver.guard(() => receiver.done(m));
  });
}
