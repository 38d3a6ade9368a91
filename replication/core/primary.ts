// The primary's end of the log channel, as a pure core in the manner of etcd raft's RawNode: every
// input (a peer connected, a message, a frame from the drain, a command from the main thread, the
// arbiter's answer, the clock's tick) is a method that takes the time and returns actions for the
// driver (replication/sender.ts) to carry out: send X to a peer, close it, publish the acknowledged
// count, ask the arbiter, go alone, stop. No sockets, timers, clock, crypto or Atomics in here, so
// the seeded simulator (test/sim/) drives this very code through millions of schedules.
//
// Protocol, as the primary sees it:
// - handshake: a peer gets a challenge; its hello must carry the secret's MAC (the driver checks
//   the MAC and says whether it held); then one backup is welcomed and sent the log header;
// - a fresh backup is sent every frame still held; a joining one (--join) waits for a snapshot
//   taken at the next quiescent point, then gets the frames after its cut, and never one before
//   it: the snapshot holds their effects already (the drain's frames and the main thread's
//   snapshot reach the sender on two ports, so the cut's last frame can arrive after the snapshot);
// - acknowledgements: frames below the acked count are dropped and their outputs released (gate);
// - heartbeats both ways; a silent or closed backup is lost, and one that was following may have
//   gone live, so the primary claims the next epoch: winning, it goes on alone; losing, it stops;
// - no backup within waitBackupMs: it runs alone (the gate opens);
// - finish: once the backup holds every frame, End; read fences: proved alone, or by the backup's
//   echo of a fence sent after the read.

import { notLive } from '../../engine/errors.js';
import { Heartbeat } from '../heartbeat.js';

/** A frame as the core sees it: its sequence number and, per thread, outputs shipped up to it. */
export interface CoreFrame {
  seq: number;
  outputs: number[];
}

/** Settings the core needs (a subset of Replication). */
export interface PrimarySettings {
  node: string;
  heartbeatMs: number;
  timeoutMs: number;
  waitBackupMs: number;
}

/** What the primary sends; the driver encodes it (and adds the MACs and nonces). */
export type PrimaryOut<F> =
  | { type: 'challenge' }
  | { type: 'welcome'; epoch: number }
  | { type: 'refused'; why: string }
  | { type: 'header' }
  | { type: 'log'; frame: F }
  | { type: 'heartbeat'; fence?: number }
  | { type: 'released'; outputs: number[] }
  | { type: 'snapshot'; snapshot: unknown }
  | { type: 'end'; frames: number };

/** What a peer said, as the driver decoded it. */
export type PrimaryIn =
  | { type: 'hello'; node: string; join: boolean; macOk: boolean }
  | { type: 'hello-malformed' }
  | { type: 'ack'; frames: number | null; fence: number | null }
  | { type: 'done'; digest: string }
  | { type: 'other'; code: number };

export type PrimaryAction<F> =
  | { do: 'send'; peer: number; msg: PrimaryOut<F> }
  /** Close the peer: 'end' after what was sent (a refusal), 'destroy' at once. */
  | { do: 'close'; peer: number; how: 'end' | 'destroy' }
  /** Frames below `frames` are acknowledged (or safe alone); `outputs` is non-null when the gate may move. */
  | { do: 'acked'; frames: number; outputs: number[] | null }
  | { do: 'alone'; why: string; epoch: number }
  /** A joining backup was sent its snapshot: the gate closes again. */
  | { do: 'followed' }
  | { do: 'backup'; node: string; join: boolean; frames: number }
  | { do: 'join'; node: string }
  | { do: 'fenced'; upTo: number }
  | { do: 'ended' }
  /** Ask the arbiter for `epoch`; answer with claimed() or failed(). */
  | { do: 'claim'; epoch: number }
  /** This node is live for `epoch` (etcd: hold its lease). */
  | { do: 'hold'; epoch: number }
  /** Fail-stop: close everything, nothing more is released or sent. */
  | { do: 'stop'; error: unknown }
  /** The peer proved the secret: lift the stranger's limits. */
  | { do: 'authenticated'; peer: number }
  /** A peer was dropped or refused before it proved itself (the driver rate-limits these lines). */
  | { do: 'drop'; peer: number; verb: 'dropped' | 'refused'; why: string }
  /** A line for the operator (stderr). */
  | { do: 'log'; line: string };

interface Peer {
  id: number;
  hb: Heartbeat;
  /** Authenticated and sent the log (fresh) or the snapshot (join). */
  synced: boolean;
  join: boolean;
  /** The first frame it is sent: 0, or a joiner's snapshot cut (the frames before it are in the snapshot). */
  from: number;
  node: string;
  authenticated: boolean;
  /** It replayed the whole log to the recorded digest and said so: its close is a clean end. */
  finished: boolean;
  closed: boolean;
}

export class PrimaryCore<F extends CoreFrame> {
  epoch: number;
  /** No backup follows: frames are safe as soon as shipped. */
  alone: boolean;
  /** Fail-stop: this node lost the flag or the arbiter. */
  stopped = false;
  private readonly held: F[] = [];
  private nextSeq = 0;
  private acked = 0;
  private lastOutputs: number[] = [];
  private readonly peers = new Map<number, Peer>();
  private peer: Peer | null = null;
  /** Frames were dropped unacknowledged (alone): a fresh backup can no longer follow from the start. */
  private dropped = false;
  private joinWaiting: Peer | null = null;
  /** finish(): the log's total frame count, once known (-1 before). */
  private endFrames = -1;
  private claiming = false;
  /** A backup has followed this log at some point: only a join can follow it after that. */
  private everAttached = false;
  /** The run ended normally (End sent, or the backup finished first): a backup's close is no loss. */
  private ended = false;
  private readonly started: number;
  private fenceAsked = 0;
  private fenceSent = 0;
  private fenceDone = 0;
  private out: PrimaryAction<F>[] = [];
  /** Why the pending claim was made (its answer's log line says). */
  private lostWhy = { why: '', backup: '' };

  constructor(private readonly s: PrimarySettings, epoch: number, alone: boolean, now: number) {
    this.epoch = epoch;
    this.alone = alone;
    this.started = now;
  }

  /** A backup follows the log (authenticated and sent the log or its snapshot). */
  get following(): boolean {
    return this.peer?.synced === true;
  }

  /** Frames acknowledged so far (what the drain may count as safe). */
  get ackedFrames(): number {
    return this.acked;
  }

  /** Starting: this node holds its epoch. */
  start(): PrimaryAction<F>[] {
    this.out.push({ do: 'hold', epoch: this.epoch });
    return this.take();
  }

  // ---- inputs ----

  /** A peer connected (the driver names it with a fresh id). */
  accept(id: number, now: number): PrimaryAction<F>[] {
    if (this.stopped) return [{ do: 'close', peer: id, how: 'destroy' }];
    const peer: Peer = {
      id, hb: new Heartbeat(this.s.heartbeatMs, this.s.timeoutMs, now),
      synced: false, join: false, from: 0, node: '', authenticated: false, finished: false, closed: false,
    };
    this.peers.set(id, peer);
    this.send(peer, { type: 'challenge' });
    return this.take();
  }

  /** Bytes arrived from a peer (any message is a sign of life). */
  heard(id: number, now: number): void {
    this.peers.get(id)?.hb.heard(now);
  }

  message(id: number, m: PrimaryIn): PrimaryAction<F>[] {
    const peer = this.peers.get(id);
    if (!peer || peer.closed) return [];
    if (!peer.authenticated) {
      // A stranger may say hello and nothing else.
      if (m.type === 'hello' || m.type === 'hello-malformed') this.hello(peer, m);
      else {
        this.drop(`it spoke (message ${m.type === 'other' ? m.code : m.type}) before the handshake`, peer);
        this.close(peer, 'destroy');
      }
      return this.take();
    }
    if (peer !== this.peer || !peer.synced) return this.take();
    if (m.type === 'ack') {
      if (m.frames === null) {
        this.lost(peer, 'a malformed acknowledgement');
        return this.take();
      }
      this.ackUpTo(m.frames);
      if (m.fence !== null) this.fenced(m.fence);
    } else if (m.type === 'done') {
      peer.finished = true;
      this.out.push({ do: 'log', line: `lockstep: ${this.s.node}: backup ${peer.node} replayed the whole log and finished with the recorded digest ${m.digest.slice(0, 16)}…` });
    }
    return this.take();
  }

  /** The peer's connection closed, failed or carried garbage. */
  closed(id: number, why: string): PrimaryAction<F>[] {
    const peer = this.peers.get(id);
    if (peer) this.lost(peer, why);
    return this.take();
  }

  /** The drain shipped a frame. */
  frame(f: F): PrimaryAction<F>[] {
    this.nextSeq = f.seq + 1;
    this.held.push(f);
    if (this.peer?.synced && f.seq >= this.peer.from) this.send(this.peer, { type: 'log', frame: f });
    if (this.alone) this.ackUpTo(this.nextSeq);
    return this.take();
  }

  /** The main thread released outputs up to these marks: the backup forgets them. */
  released(outputs: number[]): PrimaryAction<F>[] {
    if (this.peer?.synced) this.send(this.peer, { type: 'released', outputs });
    return this.take();
  }

  /** The main thread took the snapshot a joining backup asked for; frames from `cut` on follow it. */
  snapshot(snapshot: unknown, cut: number): PrimaryAction<F>[] {
    const peer = this.joinWaiting;
    this.joinWaiting = null;
    if (!peer || peer.closed) {
      if (this.alone) this.ackUpTo(this.nextSeq);
      return this.take();
    }
    while (this.held.length > 0 && this.held[0]!.seq < cut) this.held.shift();
    // A frame before the cut still on its way from the drain (frame()) is not sent to this peer.
    peer.from = cut;
    this.send(peer, { type: 'snapshot', snapshot });
    this.attach(peer);
    this.alone = false;
    this.out.push({ do: 'followed' });
    for (const f of this.held) this.send(peer, { type: 'log', frame: f });
    return this.take();
  }

  /** finish(): the drain shipped its last frame; `frames` is the log's total. */
  end(frames: number): PrimaryAction<F>[] {
    this.endFrames = frames;
    this.maybeEnd();
    return this.take();
  }

  /** A read asks for proof that this node still holds its epoch. */
  fence(id: number): PrimaryAction<F>[] {
    this.fenceAsked = Math.max(this.fenceAsked, id);
    this.proveFence();
    return this.take();
  }

  tick(now: number): PrimaryAction<F>[] {
    for (const peer of [this.peer, this.joinWaiting]) {
      if (!peer) continue;
      if (peer.hb.sendDue(now)) this.send(peer, { type: 'heartbeat' });
      const silent = peer.hb.silentFor(now);
      if (silent !== null) this.lost(peer, `no heartbeat for ${silent} ms`);
    }
    if (!this.stopped && !this.peer && !this.everAttached && !this.alone && !this.claiming && now - this.started >= this.s.waitBackupMs) {
      this.goAlone(`no backup connected within ${this.s.waitBackupMs} ms`);
    }
    return this.take();
  }

  /** The arbiter answered the claim made after the backup was lost. */
  claimed(d: { won: boolean; epoch: number; owner: string }): PrimaryAction<F>[] {
    const { why, backup } = this.lostWhy;
    this.claiming = false;
    if (!d.won) {
      this.stop(notLive(this.s.node, d.epoch, d.owner, `lost its backup (${why})`));
      return this.take();
    }
    this.epoch = d.epoch;
    this.out.push({ do: 'hold', epoch: d.epoch });
    this.goAlone(`backup ${backup} lost (${why}); won epoch ${d.epoch}`);
    return this.take();
  }

  /** The arbiter could not be reached, the lease was lost, or the listener failed: fail-stop. */
  failed(e: unknown): PrimaryAction<F>[] {
    this.stop(e);
    return this.take();
  }

  // ---- the protocol ----

  private hello(peer: Peer, h: Extract<PrimaryIn, { type: 'hello' | 'hello-malformed' }>): void {
    if (h.type === 'hello-malformed') {
      this.drop('a malformed hello', peer, 'refused');
      return this.refuse(peer, 'malformed hello');
    }
    if (!h.macOk) {
      this.drop('it does not hold the cluster secret (attempt logged)', peer, 'refused');
      return this.refuse(peer, 'wrong secret');
    }
    peer.authenticated = true;
    this.out.push({ do: 'authenticated', peer: peer.id });
    peer.node = h.node;
    peer.join = h.join;
    if (this.peer || this.joinWaiting) return this.refuse(peer, `${this.s.node} already has a backup`);
    // Asking the arbiter whether it still holds its epoch (its backup was lost): a backup welcomed
    // now would follow an epoch this node is about to leave, and winning would open the gate while
    // it follows. Its connection is dropped unanswered, so it dials again once the claim is decided.
    // (Found by the simulator, test/sim/.)
    if (this.claiming) {
      this.drop('it arrived while this node asks the arbiter for the next epoch; it may dial again', peer);
      return this.close(peer, 'destroy');
    }
    if (this.endFrames >= 0) return this.refuse(peer, 'the run is finishing');
    if (!peer.join && (this.alone || this.dropped)) {
      return this.refuse(peer, `${this.s.node} runs alone and its log has moved on; start the backup with --join (state transfer)`);
    }
    this.send(peer, { type: 'welcome', epoch: this.epoch });
    this.send(peer, { type: 'header' });
    if (peer.join) {
      this.joinWaiting = peer;
      this.out.push({ do: 'join', node: peer.node });
      return;
    }
    this.attach(peer);
    for (const f of this.held) this.send(peer, { type: 'log', frame: f });
  }

  private attach(peer: Peer): void {
    peer.synced = true;
    this.peer = peer;
    this.everAttached = true;
    this.out.push({ do: 'backup', node: peer.node, join: peer.join, frames: this.nextSeq });
    if (this.lastOutputs.length > 0) this.send(peer, { type: 'released', outputs: this.lastOutputs });
    this.fenceSent = 0;
    this.proveFence();
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
    // snapshot drops the ones before it); the gate opens for them all the same.
    while (!this.joinWaiting && this.held.length > 0 && this.held[0]!.seq < frames) {
      this.held.shift();
      if (!this.peer?.synced) this.dropped = true;
    }
    if (frames <= this.acked) return;
    this.acked = frames;
    if (outputs) this.lastOutputs = outputs;
    this.out.push({ do: 'acked', frames, outputs });
    this.maybeEnd();
  }

  /**
   * A read may be answered once this node has proved, after the read arrived, that it still holds
   * its epoch: running alone (it won the epoch, and no backup follows it that could take over), or
   * a following backup echoed a fence sent after the read was asked. A backup echoes fences only
   * while it follows (it stops acknowledging the moment it decides the primary is lost), so an echo
   * means no other node had gone live when the backup sent it.
   */
  private proveFence(): void {
    if (this.stopped || this.fenceAsked === 0) return;
    if (this.alone && !this.claiming) return this.fenced(this.fenceAsked);
    if (this.peer?.synced && this.fenceSent < this.fenceAsked) {
      this.fenceSent = this.fenceAsked;
      this.send(this.peer, { type: 'heartbeat', fence: this.fenceSent });
    }
  }

  private fenced(upTo: number): void {
    const done = Math.min(upTo, this.fenceAsked);
    if (this.stopped || done <= this.fenceDone) return;
    this.fenceDone = done;
    this.out.push({ do: 'fenced', upTo: done });
  }

  private refuse(peer: Peer, why: string): void {
    this.send(peer, { type: 'refused', why });
    this.out.push({ do: 'close', peer: peer.id, how: 'end' });
    peer.synced = false;
  }

  /** A backup died or went silent. One that was following the log may have gone live: ask the arbiter. */
  private lost(peer: Peer, why: string): void {
    this.close(peer, 'destroy');
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
    this.out.push({ do: 'log', line: `lockstep: ${this.s.node} lost its backup ${peer.node}: ${why}` });
    this.claiming = true;
    this.lostWhy = { why, backup: peer.node };
    this.out.push({ do: 'claim', epoch: this.epoch + 1 });
  }


  private goAlone(why: string): void {
    if (this.stopped) return;
    this.alone = true;
    this.out.push({ do: 'alone', why, epoch: this.epoch });
    this.ackUpTo(this.nextSeq);
    this.proveFence();
  }

  /** finish(): once the backup has every frame, tell it the run ended normally. */
  private maybeEnd(): void {
    if (this.endFrames < 0 || this.acked < this.endFrames) return;
    if (this.peer?.synced) this.send(this.peer, { type: 'end', frames: this.endFrames });
    this.endFrames = Number.MAX_SAFE_INTEGER;
    this.ended = true;
    this.out.push({ do: 'ended' });
  }

  private stop(e: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of [this.peer, this.joinWaiting]) if (p) this.close(p, 'destroy');
    this.out.push({ do: 'stop', error: e });
  }

  private close(peer: Peer, how: 'end' | 'destroy'): void {
    if (peer.closed) return;
    peer.closed = true;
    this.peers.delete(peer.id);
    this.out.push({ do: 'close', peer: peer.id, how });
  }

  private drop(why: string, peer: Peer, verb: 'dropped' | 'refused' = 'dropped'): void {
    this.out.push({ do: 'drop', peer: peer.id, verb, why });
  }

  private send(peer: Peer, msg: PrimaryOut<F>): void {
    if (!peer.closed) this.out.push({ do: 'send', peer: peer.id, msg });
  }

  private take(): PrimaryAction<F>[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}
