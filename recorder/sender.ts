// The primary's end of the log channel: a worker thread (the main thread may block in Atomics.wait,
// the drain never yields to its event loop) that owns the TCP listener. It authenticates a backup
// (wire.ts), sends it the log header and every frame the drain posts, takes its acknowledgements,
// and tells the main thread's output gate which outputs are now safe to release. It sends and
// checks heartbeats; when the backup dies it asks the arbiter for the next epoch and either goes
// on alone (the gate opens, the lag is unbounded) or stops the node (fail-stop). A backup that
// joins a running primary gets a state-transfer snapshot first (snapshot.ts).
//
// Frames are held until acknowledged (bounded: the drain stops shipping past lagBytesMax, so the
// program's threads wait instead of the gap growing).

import type { Server, Socket } from 'node:net';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { C_ACKED_FRAMES, C_ALONE } from '../engine/arena_layout.js';
import { serializeError, notLive } from '../engine/errors.js';
import type { Replication } from '../replication/config.js';
import { Heartbeat } from '../replication/heartbeat.js';
import { arbiterFor, type ArbiterClient } from '../replication/arbiter_client.js';
import { listen, transportOf } from '../replication/transport.js';
import { MESSAGE_BYTES_MAX, Msg, WireDecoder, count, encode, mac, macOk, nonce, parseHello, type Message } from '../replication/wire.js';
import { DropLog, Doorman, type Admission } from '../replication/preauth.js';

export interface SenderInit {
  arena: SharedArrayBuffer;
  repl: Replication;
  epoch: number;
  /** The log's header frame (framed), sent first to every backup. */
  header: Uint8Array;
  /** Frames from the drain: { seq, bytes, outputs }. */
  frames: MessagePort;
  /** Start alone (a backup that took over: only a joining backup can follow it). */
  alone: boolean;
}

export interface ShippedFrame {
  seq: number;
  bytes: Uint8Array;
  /** Per thread, outputs shipped up to and including this frame. */
  outputs: number[];
}

/** From the main thread. */
export type SenderCommand =
  | { type: 'released'; outputs: number[] }
  | { type: 'snapshot'; snapshot: unknown; cut: number }
  /** finish(): the drain has shipped its last frame; `frames` is the log's total. */
  | { type: 'end'; frames: number }
  /** A read wants proof that this node still holds its epoch: answered with { type: 'fenced', upTo: id }. */
  | { type: 'fence'; id: number };

interface Peer {
  socket: Socket;
  name: string;
  decoder: WireDecoder;
  hb: Heartbeat;
  /** Authenticated and sent the log (fresh) or the snapshot (join). */
  synced: boolean;
  join: boolean;
  challenge: string;
  node: string;
  /** Until authenticated, the doorman's hold on it (time and count limits). */
  admission: Admission;
  authenticated: boolean;
  /** It replayed the whole log to the recorded digest and said so (Msg.Done): its close is a clean end. */
  finished: boolean;
}

const TICK_MS = 10;

class Sender {
  private readonly a: Int32Array;
  private readonly server: Server;
  private readonly held: ShippedFrame[] = [];
  private nextSeq: number;
  private acked: number;
  private lastOutputs: number[] = [];
  private peer: Peer | null = null;
  private alone: boolean;
  private epoch: number;
  /** Frames were dropped unacknowledged (alone): a fresh backup can no longer follow from the start. */
  private dropped = false;
  private joinWaiting: Peer | null = null;
  /** finish(): the log's total frame count, once known (-1 before). */
  private endFrames = -1;
  private claiming = false;
  /** A backup has followed this log at some point: only a join can follow it after that. */
  private everAttached = false;
  /** Fail-stop: this node lost the flag or the arbiter; nothing is released or sent any more. */
  private stopped = false;
  /** The run ended normally (End sent, or the backup finished first): a backup's close is no loss. */
  private ended = false;
  private readonly started = Date.now();
  private readonly arbiter: ArbiterClient;
  private readonly doorman: Doorman;
  private readonly drops = new DropLog((line) => console.error(line));
  /** Reads' fences: the highest asked, sent to the backup in a heartbeat, and the highest it echoed. */
  private fenceAsked = 0;
  private fenceSent = 0;
  private fenceDone = 0;

  constructor(private readonly init: SenderInit) {
    this.a = new Int32Array(init.arena);
    this.epoch = init.epoch;
    this.arbiter = arbiterFor(init.repl);
    this.nextSeq = 0;
    this.acked = 0;
    this.alone = init.alone;
    Atomics.store(this.a, C_ACKED_FRAMES, this.acked);
    Atomics.store(this.a, C_ALONE, this.alone ? 1 : 0);
    init.frames.on('message', (f: ShippedFrame) => this.frame(f));
    this.doorman = new Doorman(init.repl.preAuth, (s, why) => this.drops.note(`lockstep: ${init.repl.node} dropped a peer from ${s.remoteAddress}:${s.remotePort}: ${why}`));
    this.server = listen(transportOf(init.repl), (s) => this.accept(s), (r) => this.drops.note(`lockstep: ${init.repl.node} refused a peer from ${r.peer}: ` +
      (r.secret ? 'it does not hold the cluster secret (attempt logged)' : `${r.why} (attempt logged)`)), init.repl.preAuth);
    // A live node holds the arbiter's lease (etcd) while it runs; losing it stops the node.
    this.arbiter.hold(this.epoch, (e) => this.fail(e));
    this.server.on('error', (e) => this.fail(e));
    this.server.listen(init.repl.listen!.port, init.repl.listen!.host, () => {
      const addr = this.server.address();
      parentPort!.postMessage({ type: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0 });
    });
    setInterval(() => this.tick(), TICK_MS);
  }

  command(c: SenderCommand): void {
    if (c.type === 'released') {
      if (this.peer?.synced) this.send(this.peer, Msg.Released, { outputs: c.outputs });
    } else if (c.type === 'snapshot') {
      this.sendSnapshot(c.snapshot, c.cut);
    } else if (c.type === 'fence') {
      this.fenceAsked = Math.max(this.fenceAsked, c.id);
      this.fence();
    } else {
      this.endFrames = c.frames;
      this.maybeEnd();
    }
  }

  private frame(f: ShippedFrame): void {
    this.nextSeq = f.seq + 1;
    this.held.push(f);
    if (this.peer?.synced) this.send(this.peer, Msg.Log, f.bytes);
    if (this.alone) this.ackUpTo(this.nextSeq);
  }

  /** Frames below `frames` are safe: drop them, publish the count, release their outputs. */
  private ackUpTo(frames: number): void {
    if (this.stopped) return;
    let outputs: number[] | null = null;
    for (const f of this.held) {
      if (f.seq >= frames) break;
      outputs = f.outputs;
    }
    // A backup waiting for its snapshot still needs the frames after the cut: keep them (the
    // snapshot command drops the ones before it); the gate opens for them all the same.
    while (!this.joinWaiting && this.held.length > 0 && this.held[0]!.seq < frames) {
      this.held.shift();
      if (!this.peer?.synced) this.dropped = true;
    }
    if (frames <= this.acked) return;
    this.acked = frames;
    Atomics.store(this.a, C_ACKED_FRAMES, frames);
    Atomics.notify(this.a, C_ACKED_FRAMES);
    if (outputs) {
      this.lastOutputs = outputs;
      parentPort!.postMessage({ type: 'acked', frames, outputs });
    }
    this.maybeEnd();
  }

  private accept(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    if (this.stopped) return void socket.destroy();
    const admission = this.doorman.admit(socket);
    const name = `${socket.remoteAddress}:${socket.remotePort}`;
    // A stranger's messages are held to preAuthBytesMax until it proves the secret.
    const peer: Peer = {
      socket, name, decoder: new WireDecoder(this.init.repl.preAuth.preAuthBytesMax), hb: new Heartbeat(this.init.repl.heartbeatMs, this.init.repl.timeoutMs, Date.now()),
      synced: false, join: false, challenge: nonce(), node: '', admission, authenticated: false, finished: false,
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      peer.decoder.push(chunk);
      for (;;) {
        if (peer.socket.destroyed) return;
        const d = peer.decoder.next();
        if (d.kind === 'more') break;
        if (d.kind === 'bad') return this.lost(peer, `a corrupt message (${d.why})`);
        this.message(peer, d.message);
      }
      peer.hb.heard(Date.now());
    });
    // A reset or a broken pipe is the peer's close seen while writing (a heartbeat after its FIN).
    socket.on('error', (e: NodeJS.ErrnoException) => this.lost(peer, e.code === 'ECONNRESET' || e.code === 'EPIPE' ? 'the connection closed' : 'the connection failed'));
    socket.on('close', () => this.lost(peer, 'the connection closed'));
    this.send(peer, Msg.Challenge, { nonce: peer.challenge });
  }

  private message(peer: Peer, m: Message): void {
    if (!peer.authenticated) {
      // A stranger may say hello and nothing else.
      if (m.type === Msg.Hello) return this.hello(peer, m.body);
      this.drops.note(`lockstep: ${this.init.repl.node} dropped a peer from ${peer.name}: it spoke (message ${m.type}) before the handshake`);
      return void peer.socket.destroy();
    }
    if (peer !== this.peer || !peer.synced) return;
    if (m.type === Msg.Ack) {
      const frames = count(m.body, 'frames');
      if (frames === null) return this.lost(peer, 'a malformed acknowledgement');
      const fence = count(m.body, 'fence');
      this.ackUpTo(frames);
      if (fence !== null) this.fenced(fence);
    } else if (m.type === Msg.Done) {
      peer.finished = true;
      const digest = typeof m.body?.digest === 'string' ? m.body.digest.slice(0, 16) : '?';
      console.error(`lockstep: ${this.init.repl.node}: backup ${peer.node} replayed the whole log and finished with the recorded digest ${digest}…`);
    }
  }

  private hello(peer: Peer, body: unknown): void {
    const h = parseHello(body);
    if (!h) {
      this.drops.note(`lockstep: ${this.init.repl.node} refused a peer from ${peer.name}: a malformed hello`);
      return this.refuse(peer, 'malformed hello');
    }
    if (!macOk(this.init.repl.secret, h.mac, 'hello', peer.challenge, h.node)) {
      this.drops.note(`lockstep: ${this.init.repl.node} refused a peer from ${peer.name}: it does not hold the cluster secret (attempt logged)`);
      return this.refuse(peer, 'wrong secret');
    }
    peer.authenticated = true;
    peer.admission.authenticated();
    peer.decoder.bytesMax = MESSAGE_BYTES_MAX;
    peer.node = h.node;
    peer.join = h.join;
    if (this.peer || this.joinWaiting) return this.refuse(peer, `${this.init.repl.node} already has a backup`);
    if (this.endFrames >= 0) return this.refuse(peer, 'the run is finishing');
    if (!peer.join && (this.alone || this.dropped)) {
      return this.refuse(peer, `${this.init.repl.node} runs alone and its log has moved on; start the backup with --join (state transfer)`);
    }
    this.send(peer, Msg.Welcome, { mac: mac(this.init.repl.secret, 'welcome', h.nonce, this.init.repl.node), epoch: this.epoch, node: this.init.repl.node });
    this.send(peer, Msg.Log, this.init.header);
    if (peer.join) {
      this.joinWaiting = peer;
      parentPort!.postMessage({ type: 'join', node: peer.node });
      return;
    }
    this.attach(peer);
    for (const f of this.held) this.send(peer, Msg.Log, f.bytes);
  }

  private sendSnapshot(snapshot: unknown, cut: number): void {
    const peer = this.joinWaiting;
    this.joinWaiting = null;
    if (!peer || peer.socket.destroyed) {
      if (this.alone) this.ackUpTo(this.nextSeq);
      return;
    }
    while (this.held.length > 0 && this.held[0]!.seq < cut) this.held.shift();
    this.send(peer, Msg.Snapshot, snapshot);
    this.attach(peer);
    this.alone = false;
    Atomics.store(this.a, C_ALONE, 0);
    for (const f of this.held) this.send(peer, Msg.Log, f.bytes);
  }

  private attach(peer: Peer): void {
    peer.synced = true;
    this.peer = peer;
    this.everAttached = true;
    parentPort!.postMessage({ type: 'backup', node: peer.node, join: peer.join, frames: this.nextSeq });
    if (this.lastOutputs.length > 0) this.send(peer, Msg.Released, { outputs: this.lastOutputs });
    this.fenceSent = 0;
    this.fence();
  }

  /**
   * A read may be answered once this node has proved, after the read arrived, that it still holds
   * its epoch: running alone (it won the epoch, and no backup follows it that could take over), or
   * a following backup echoed a fence sent after the read was asked. A backup echoes fences only
   * while it follows (it stops acknowledging the moment it decides the primary is lost), so an echo
   * means no other node had gone live when the backup sent it.
   */
  private fence(): void {
    if (this.stopped || this.fenceAsked === 0) return;
    if (this.alone && !this.claiming) return this.fenced(this.fenceAsked);
    if (this.peer?.synced && this.fenceSent < this.fenceAsked) {
      this.fenceSent = this.fenceAsked;
      this.send(this.peer, Msg.Heartbeat, { fence: this.fenceSent });
    }
  }

  private fenced(upTo: number): void {
    const done = Math.min(upTo, this.fenceAsked);
    if (this.stopped || done <= this.fenceDone) return;
    this.fenceDone = done;
    parentPort!.postMessage({ type: 'fenced', upTo: done });
  }

  private refuse(peer: Peer, why: string): void {
    this.send(peer, Msg.Refused, { why });
    peer.socket.end();
    peer.synced = false;
  }

  private send(peer: Peer, type: Msg, body: unknown): void {
    if (!peer.socket.destroyed) peer.socket.write(encode(type, body));
  }

  private tick(): void {
    const now = Date.now();
    for (const peer of [this.peer, this.joinWaiting]) {
      if (!peer) continue;
      if (peer.hb.sendDue(now)) this.send(peer, Msg.Heartbeat, {});
      const silent = peer.hb.silentFor(now);
      if (silent !== null) this.lost(peer, `no heartbeat for ${silent} ms`);
    }
    if (this.stopped) return;
    if (!this.peer && !this.everAttached && !this.alone && !this.claiming && now - this.started >= this.init.repl.waitBackupMs) {
      this.goAlone(`no backup connected within ${this.init.repl.waitBackupMs} ms`);
    }
  }

  /** A backup died or went silent. One that was following the log may have gone live: ask the arbiter. */
  private lost(peer: Peer, why: string): void {
    peer.socket.destroy();
    if (peer === this.joinWaiting) {
      this.joinWaiting = null;
      if (this.alone) this.ackUpTo(this.nextSeq);
      return;
    }
    if (peer !== this.peer) return;
    this.peer = null;
    // A clean end is not a loss: the End was sent, or the backup finished first (it replayed the
    // log to the recorded digest, so it holds every frame and every output is acknowledged).
    if (this.ended || peer.finished) {
      this.ended = true;
      return;
    }
    console.error(`lockstep: ${this.init.repl.node} lost its backup ${peer.node}: ${why}`);
    this.claiming = true;
    this.arbiter.claim(this.epoch + 1).then(
      (d) => {
        this.claiming = false;
        if (!d.won) return this.fail(notLive(this.init.repl.node, d.epoch, d.owner, `lost its backup (${why})`));
        this.epoch = d.epoch;
        this.arbiter.hold(d.epoch, (e) => this.fail(e));
        this.goAlone(`backup ${peer.node} lost (${why}); won epoch ${d.epoch}`);
      },
      (e) => this.fail(e),
    );
  }

  private goAlone(why: string): void {
    if (this.stopped) return;
    this.alone = true;
    Atomics.store(this.a, C_ALONE, 1);
    Atomics.notify(this.a, C_ACKED_FRAMES);
    parentPort!.postMessage({ type: 'alone', why, epoch: this.epoch });
    this.ackUpTo(this.nextSeq);
    this.fence();
  }

  /** finish(): once the backup has every frame, tell it the run ended normally. */
  private maybeEnd(): void {
    if (this.endFrames < 0 || this.acked < this.endFrames) return;
    if (this.peer?.synced) this.send(this.peer, Msg.End, { frames: this.endFrames });
    this.endFrames = Number.MAX_SAFE_INTEGER;
    this.ended = true;
    parentPort!.postMessage({ type: 'ended' });
  }

  private fail(e: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.arbiter.close();
    this.server.close();
    this.peer?.socket.destroy();
    this.joinWaiting?.socket.destroy();
    parentPort!.postMessage({ type: 'fail', error: serializeError(e) });
  }
}

if (parentPort && workerData?.sender) {
  const sender = new Sender(workerData.sender as SenderInit);
  parentPort.on('message', (c: SenderCommand) => sender.command(c));
}
