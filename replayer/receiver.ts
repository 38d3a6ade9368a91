// The backup's end of the log channel: a worker thread (the backup's threads, main included, block
// in Atomics.wait while they replay, so the socket cannot live on their event loops). It connects
// to the primary, proves it holds the secret and checks that the primary does too, receives the
// log header (the main thread builds the run from it), then every frame: it checks each frame's
// CRC and sequence, notes each object's floor (version_floors.ts), and posts each thread its part of the frame as
// a segment on the thread's broadcast channel (stream.ts). It acknowledges what it received, one
// acknowledgement per batch of bytes read (not per event), and sends and checks heartbeats.
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
import { C_ABORT, C_LIVE, T_CONSUMED, T_FED, T_STATE, threadTableBase, THREAD_SLOTS } from '../engine/arena_layout.js';
import { channelCorrupt, notLive, peerLost, peerRefused, serializeError } from '../engine/errors.js';
import type { Replication } from '../replication/config.js';
import { Heartbeat } from '../replication/heartbeat.js';
import { arbiterFor } from '../replication/arbiter_client.js';
import { dial, tlsRefusal, transportOf } from '../replication/transport.js';
import { MESSAGE_BYTES_MAX, Msg, WireDecoder, count, encode, mac, macOk, nonce, parseChallenge, parseRefused, parseWelcome, type Message } from '../replication/wire.js';
import { FED_FINAL, streamChannelName, type Segment } from './stream.js';

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
const RETRY_MS = 100;

class Receiver {
  private socket: Socket | null = null;
  private decoder: WireDecoder;
  /** Why the connection under way is being dropped before the handshake (it is dialled again). */
  private retryWhy = '';
  /** The highest read fence the primary asked about (echoed in every acknowledgement). */
  private fence = 0;
  private hb: Heartbeat | null = null;
  private myNonce = nonce();
  private epoch = 0;
  private primary = '';
  private welcomed = false;
  private headerSeen = false;
  private attached: ReceiverAttach | null = null;
  private a: Int32Array | null = null;
  private readonly early: Message[] = [];
  private readonly floors = new VersionFloors();
  private frames = 0;
  private firstSeq = -1;
  private readonly channels = new Map<number, BroadcastChannel>();
  /** Segments for threads not listening yet (not spawned, or not attached). */
  private readonly waiting = new Map<number, Segment[]>();
  private readonly posted: number[] = [];
  private over: 'running' | 'ended' | 'deciding' | 'cutover' | 'failed' = 'running';
  private readonly started = Date.now();
  /** Frames received and checked in this batch, for the backup's own copy of the log (written after the acknowledgement). */
  private readonly unwritten: Uint8Array[] = [];

  constructor(private readonly init: ReceiverInit) {
    this.decoder = new WireDecoder(init.repl.preAuth.preAuthBytesMax);
    this.dial();
    setInterval(() => this.guard(() => this.tick()), TICK_MS);
  }

  attach(m: ReceiverAttach): void {
    this.guard(() => this.attachNow(m));
  }

  private attachNow(m: ReceiverAttach): void {
    this.attached = m;
    this.a = new Int32Array(m.arena);
    if (m.versions) this.floors.startAt(m.versions);
    for (const e of this.early.splice(0)) this.message(e);
    this.persist();
  }

  private get repl(): Replication {
    return this.init.repl;
  }

  private get peer(): string {
    return `${this.primary || 'the primary'} at ${this.repl.connect!.host}:${this.repl.connect!.port}`;
  }

  /**
   * Dials the primary. Until the primary has proved the secret (Welcome), any failure of the
   * connection (refused, accepted and closed, silent, garbled: a proxy or load balancer in front of
   * a primary that is not listening yet) is dialled again until connectMs has passed.
   */
  private dial(): void {
    const s = dial(transportOf(this.repl), this.repl.connect!, this.repl.node);
    s.setNoDelay(true);
    s.on('connect', () => {
      this.socket = s;
      this.decoder = new WireDecoder(this.repl.preAuth.preAuthBytesMax);
      this.myNonce = nonce();
      this.retryWhy = '';
      this.hb = new Heartbeat(this.repl.heartbeatMs, this.repl.timeoutMs, Date.now());
    });
    s.on('data', (chunk) => this.guard(() => {
      if (this.socket === s) this.data(chunk);
    }));
    s.on('error', (e) => this.guard(() => {
      // A refusal at the TLS level (wrong secret or certificate) will not go away by dialling again.
      const refused = tlsRefusal(e);
      if (refused && this.over === 'running' && !this.welcomed) this.fail(peerRefused(this.peer, refused));
    }));
    s.on('close', () => this.guard(() => {
      if (this.over !== 'running') return;
      if (!this.welcomed) {
        const why = this.socket === s ? this.retryWhy || 'the connection closed before the handshake' : 'no answer';
        this.socket = null;
        this.hb = null;
        if (Date.now() - this.started < this.repl.connectMs) setTimeout(() => this.dial(), RETRY_MS);
        else this.fail(peerLost(this.peer, `no primary answered within ${this.repl.connectMs} ms (last: ${why})`));
        return;
      }
      if (this.socket === s) this.primaryLost('the connection closed');
    }));
  }

  /** An unexpected error in this worker fails the node (fail-stop) and wakes every waiting thread. */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private data(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      if (this.over !== 'running' && this.over !== 'ended') break;
      const d = this.decoder.next();
      if (d.kind === 'more') break;
      if (d.kind === 'bad') {
        const err = channelCorrupt(this.peer, d.why);
        console.error(`lockstep: ${this.repl.node}: ${err.message}`);
        this.primaryLost(`a corrupt frame (${d.why})`);
        break;
      }
      const m = d.message;
      // Before the primary has proved the secret only the handshake is read; log data is not taken.
      if (!this.welcomed && m.type !== Msg.Challenge && m.type !== Msg.Welcome && m.type !== Msg.Refused) {
        this.primaryLost(`message ${m.type} before the handshake`);
        break;
      }
      // Log frames wait until the main thread has built the arena from the header (and snapshot).
      if (this.attached || m.type !== Msg.Log || !this.headerSeen) this.message(m);
      else this.early.push(m);
    }
    if (this.over === 'running' || this.over === 'ended') this.hb?.heard(Date.now());
    // The acknowledgement goes first: it says the frames are checked and posted to the replaying
    // threads (this node can replay them if it takes over); the disk copy is not part of that,
    // and writing it first put a file open/write/close per frame into every output's latency.
    // (A node that has stopped following sends nothing: send() needs the socket, destroyed then.)
    if (this.welcomed && this.attached) this.send(Msg.Ack, { frames: this.frames, fence: this.fence });
    // Frames checked before a bad one are still the backup's log: they are written whatever follows.
    this.persist();
  }

  /** Appends the batch's frames to the backup's copy of the log, one write per batch. */
  private persist(): void {
    if (this.unwritten.length === 0) return;
    appendFileSync(this.repl.log!, this.unwritten.length === 1 ? this.unwritten[0]! : Buffer.concat(this.unwritten));
    this.unwritten.length = 0;
  }

  private message(m: Message): void {
    switch (m.type) {
      case Msg.Challenge: {
        const c = parseChallenge(m.body);
        if (!c || this.welcomed) return this.primaryLost('a malformed challenge');
        this.send(Msg.Hello, { node: this.repl.node, join: this.repl.join, mac: mac(this.repl.secret, 'hello', c.nonce, this.repl.node), nonce: this.myNonce });
        return;
      }
      case Msg.Welcome: {
        const w = parseWelcome(m.body);
        if (this.welcomed) return;
        if (!w || !macOk(this.repl.secret, w.mac, 'welcome', this.myNonce, w.node)) {
          return this.fail(peerRefused(this.peer, 'it does not hold the cluster secret (it cannot prove it): not following it'));
        }
        this.welcomed = true;
        this.decoder.bytesMax = MESSAGE_BYTES_MAX;
        this.epoch = w.epoch;
        this.primary = w.node;
        parentPort!.postMessage({ type: 'welcome', epoch: this.epoch, primary: this.primary });
        return;
      }
      case Msg.Refused:
        return this.fail(peerRefused(this.peer, parseRefused(m.body).why));
      case Msg.Heartbeat: {
        const f = count(m.body, 'fence');
        if (f !== null && f > this.fence) this.fence = f;
        return;
      }
      case Msg.Log:
        if (!this.headerSeen) return this.header(m.body as Uint8Array);
        return this.frame(m.body as Uint8Array);
      case Msg.Snapshot:
        parentPort!.postMessage({ type: 'snapshot', snapshot: m.body });
        return;
      case Msg.Released:
        if (Array.isArray(m.body?.outputs)) parentPort!.postMessage({ type: 'released', outputs: m.body.outputs });
        return;
      case Msg.End:
        this.over = 'ended';
        this.socket?.end();
        parentPort!.postMessage({ type: 'ended', frames: count(m.body, 'frames') });
        return;
      default:
    }
  }

  private header(bytes: Uint8Array): void {
    this.headerSeen = true;
    if (this.repl.log) writeFileSync(this.repl.log, Buffer.concat([preamble(), bytes]));
    const r = scanFrame(bytes, 0, bytes.length);
    if (r.kind !== 'frame') return this.primaryLost(`a bad log header (${r.kind === 'end' ? 'empty' : r.why})`);
    parentPort!.postMessage({ type: 'header', payload: r.payload });
  }

  private frame(bytes: Uint8Array): void {
    const r = scanFrame(bytes, 0, this.attached!.limits.frameBytesMax);
    if (r.kind !== 'frame') return this.primaryLost(`a corrupt log frame (${r.kind === 'end' ? 'empty' : r.why})`);
    let f: FrameData;
    try {
      f = decodeFrame(r.payload);
    } catch (e) {
      return this.primaryLost(`a corrupt log frame (${(e as Error).message})`);
    }
    if (this.firstSeq < 0) this.firstSeq = this.frames = f.seq;
    if (f.seq !== this.frames) return this.primaryLost(`log frame ${f.seq} where ${this.frames} was due`);
    if (this.repl.log) this.unwritten.push(bytes);
    const parts = new Map<number, { firstIndex: number; events: Int32Array[]; data: Uint8Array[] }>();
    for (const c of f.chunks) {
      const events = c.events;
      if (!this.floors.note(events)) return this.primaryLost(`thread ${c.thread}'s chunk ends inside an event`);
      const p = parts.get(c.thread) ?? { firstIndex: c.firstIndex, events: [], data: [] };
      p.events.push(events);
      p.data.push(c.data);
      parts.set(c.thread, p);
    }
    for (const [thread, p] of parts) {
      const events = concatInt32(p.events);
      const data = Buffer.concat(p.data);
      this.post(thread, { firstIndex: p.firstIndex, events, data: new Uint8Array(data), bytes: events.length * 4 + data.length });
    }
    this.frames++;
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
        if (this.over === 'cutover') this.markFinal(thread);
      }
      if (this.socket && this.over === 'running') {
        const behind = this.queued() > this.repl.lagBytesMax;
        if (behind && !this.socket.isPaused()) this.socket.pause();
        if (!behind && this.socket.isPaused()) this.socket.resume();
      }
    }
    if (!this.hb || !this.socket || this.over !== 'running') return;
    const now = Date.now();
    // A paused socket still counts as alive: the primary's heartbeats wait in the kernel's buffer.
    if (this.socket.isPaused()) this.hb.heard(now);
    if (this.hb.sendDue(now)) this.send(Msg.Heartbeat, {});
    const silent = this.hb.silentFor(now);
    if (silent !== null) this.primaryLost(`no heartbeat for ${silent} ms`);
  }

  private send(type: Msg, body: unknown): void {
    if (this.socket && !this.socket.destroyed) this.socket.write(encode(type, body));
  }

  /** The primary is gone (or its channel is unusable): the arbiter decides whether this node goes live. */
  private primaryLost(why: string): void {
    if (this.over !== 'running') return;
    if (!this.welcomed) {
      // Not the primary yet, only a connection: drop it and dial again (the close does).
      this.retryWhy = why;
      this.socket?.destroy();
      return;
    }
    this.socket?.destroy();
    if (!this.attached) {
      this.over = 'failed';
      return this.fail(peerLost(this.peer, `${why} before the log started`));
    }
    this.over = 'deciding';
    const torn = this.decoder.pending;
    console.error(`lockstep: ${this.repl.node} lost the primary ${this.primary}: ${why}` +
      (torn > 0 ? ` (${torn} bytes of an incomplete frame dropped)` : ''));
    const arbiter = arbiterFor(this.repl);
    arbiter.claim(this.epoch + 1).finally(() => arbiter.close()).then(
      (d) => {
        if (!d.won) return this.fail(notLive(this.repl.node, d.epoch, d.owner, `lost the primary (${why})`));
        this.cutover(d.epoch, why);
      },
      (e) => this.fail(e),
    );
  }

  /** Every received frame is posted; floors go out, then every stream is marked final. */
  private cutover(epoch: number, why: string): void {
    const a = this.a!;
    this.floors.versionsInto(new Int32Array(this.attached!.floors));
    Atomics.store(a, C_LIVE, epoch);
    for (let t = 0; t < this.attached!.limits.threadsMax; t++) if (!this.waiting.has(t)) this.markFinal(t);
    this.over = 'cutover';
    parentPort!.postMessage({ type: 'cutover', epoch, frames: this.frames, why });
  }

  /** The backup finished (replayed to the recorded digest): tell the primary, so its close is a clean end. */
  done(m: ReceiverDone): void {
    if (this.over === 'running' && this.socket && !this.socket.destroyed) {
      this.send(Msg.Done, { digest: m.digest });
      this.over = 'ended';
      this.socket.end(() => parentPort!.postMessage({ type: 'done-sent' }));
      return;
    }
    parentPort!.postMessage({ type: 'done-sent' });
  }

  private markFinal(thread: number): void {
    const fed = this.slot(thread) + T_FED;
    Atomics.or(this.a!, fed, FED_FINAL);
    Atomics.notify(this.a!, fed);
  }

  private fail(e: Error): void {
    this.over = 'failed';
    this.socket?.destroy();
    // The main thread may be parked on its stream: the abort word reaches it where a message cannot.
    if (this.a) {
      Atomics.store(this.a, C_ABORT, 1);
      for (let t = 0; t < this.attached!.limits.threadsMax; t++) Atomics.notify(this.a, this.slot(t) + T_FED);
    }
    parentPort!.postMessage({ type: 'fail', error: serializeError(e) });
  }
}

function concatInt32(parts: Int32Array[]): Int32Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

if (parentPort && workerData?.receiver) {
  const receiver = new Receiver(workerData.receiver as ReceiverInit);
  parentPort.on('message', (m: ReceiverAttach | ReceiverDone) => {
    if (m.type === 'attach') receiver.attach(m);
    else if (m.type === 'done') receiver.guard(() => receiver.done(m));
  });
}
