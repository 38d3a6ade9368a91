// The backup's end of the log channel, as a pure core in the manner of etcd raft's RawNode: each
// input (connected, closed, a message, a frame checked, the main thread attached, a tick, the
// arbiter's answer) takes the time and returns actions for the driver (replication/receiver.ts):
// dial again, send, close, post to the main thread, check this frame, ask the arbiter, cut over,
// fail. No sockets, timers, clock, crypto, files or Atomics in here, so the seeded simulator
// (test/sim/) drives this very code.
//
// Protocol, as the backup sees it:
// - dialling: until the primary has proved the secret (welcome), any failure of the connection is
//   dialled again until connectMs has passed (a proxy in front of a primary not listening yet);
// - handshake: the primary's challenge is answered with a hello; its welcome must carry the
//   secret's MAC (the driver checks it); before the welcome only handshake messages are read;
// - log: the header first, then frames in sequence (a gap or a repeat is a lost primary); frames
//   wait until the main thread has built the run from the header (attach);
// - one acknowledgement per batch read, carrying the frames received and the highest fence heard;
// - heartbeats both ways; a silent, closed or corrupt channel is a lost primary: the backup claims
//   the next epoch, and winning is cutover (every frame received is already posted), losing or not
//   reaching the arbiter is fail-stop.

import { notLive, peerLost, peerRefused } from '../../engine/errors.js';
import { Heartbeat } from '../heartbeat.js';

export interface BackupSettings {
  node: string;
  /** The primary's address, for messages ("host:port"). */
  connectTo: string;
  heartbeatMs: number;
  timeoutMs: number;
  connectMs: number;
}

/** Pause before dialling again while no primary has answered. */
export const REDIAL_MS = 100;

/** What the primary said, as the driver decoded it (MACs checked there). */
export type BackupIn<B> =
  | { type: 'challenge'; ok: boolean }
  | { type: 'welcome'; ok: boolean; malformed: boolean; epoch: number; node: string }
  | { type: 'refused'; why: string }
  | { type: 'heartbeat'; fence: number | null }
  | { type: 'log'; bytes: B }
  /** `cut`: the first frame after the snapshot (null: the snapshot did not say, a malformed message). */
  | { type: 'snapshot'; snapshot: unknown; cut: number | null }
  | { type: 'released'; outputs: number[] | null }
  | { type: 'end'; frames: number | null }
  | { type: 'other'; code: number };

export type BackupOut = { type: 'hello' } | { type: 'heartbeat' } | { type: 'ack'; frames: number; fence: number } | { type: 'done'; digest: string };

export type BackupAction<B> =
  | { do: 'dial'; afterMs: number }
  | { do: 'send'; msg: BackupOut }
  /** 'end' after what was sent, 'destroy' at once. */
  | { do: 'close'; how: 'end' | 'destroy' }
  | { do: 'welcome'; epoch: number; primary: string }
  /** The log's header frame: the driver checks it (lost() if bad) and the main thread builds the run. */
  | { do: 'header'; bytes: B }
  /** A log frame: the driver checks and decodes it, asks sequence(), then posts its segments. */
  | { do: 'frame'; bytes: B }
  | { do: 'snapshot'; snapshot: unknown }
  | { do: 'released'; outputs: number[] }
  | { do: 'ended'; frames: number | null }
  /** The primary is lost (the driver says so, with how many bytes of a torn frame it drops). */
  | { do: 'lost'; primary: string; why: string }
  | { do: 'claim'; epoch: number }
  /** Won the epoch: publish the floors, mark every stream final, tell the main thread. */
  | { do: 'cutover'; epoch: number; frames: number; why: string }
  /** done(): the Done message is sent; close after it, then tell the main thread. */
  | { do: 'done-sent'; after: 'close' | 'now' }
  | { do: 'fail'; error: Error };

export type BackupPhase = 'running' | 'ended' | 'deciding' | 'cutover' | 'failed';

export class BackupCore<B> {
  phase: BackupPhase = 'running';
  epoch = 0;
  primary = '';
  welcomed = false;
  /** Frames received in sequence (the next one due). */
  frames = 0;
  /** The highest fence the primary sent, echoed in acknowledgements. */
  fence = 0;
  private headerSeen = false;
  private attached = false;
  private firstSeq = -1;
  /** Joining: the snapshot's cut, the frame due first (-1: no snapshot; a fresh backup starts where the log does). */
  private snapshotCut = -1;
  private readonly early: B[] = [];
  private hb: Heartbeat | null = null;
  private connected = false;
  private retryWhy = '';
  private readonly started: number;
  private lostWhy = '';
  private out: BackupAction<B>[] = [];

  constructor(private readonly s: BackupSettings, now: number) {
    this.started = now;
  }

  start(): BackupAction<B>[] {
    this.out.push({ do: 'dial', afterMs: 0 });
    return this.take();
  }

  /** The connection is up (a fresh one each dial). */
  connect(now: number): void {
    this.connected = true;
    this.retryWhy = '';
    this.hb = new Heartbeat(this.s.heartbeatMs, this.s.timeoutMs, now);
  }

  /** A connection closed; `current` is false for one that never connected (no answer). */
  closed(current: boolean, now: number): BackupAction<B>[] {
    if (this.phase !== 'running') return [];
    if (!this.welcomed) {
      const why = current ? this.retryWhy || 'the connection closed before the handshake' : 'no answer';
      this.connected = false;
      this.hb = null;
      if (now - this.started < this.s.connectMs) this.out.push({ do: 'dial', afterMs: REDIAL_MS });
      else this.fail(peerLost(this.peer, `no primary answered within ${this.s.connectMs} ms (last: ${why})`));
      return this.take();
    }
    if (current) this.primaryLost('the connection closed');
    return this.take();
  }

  /** The TLS layer refused us (wrong secret or certificate): dialling again will not help. */
  tlsRefused(why: string): BackupAction<B>[] {
    if (this.phase === 'running' && !this.welcomed) this.fail(peerRefused(this.peer, why));
    return this.take();
  }

  /** Whether the driver should read on (a node that stopped following reads nothing more). */
  get reading(): boolean {
    return this.phase === 'running' || this.phase === 'ended';
  }

  message(m: BackupIn<B>): BackupAction<B>[] {
    // Before the primary has proved the secret only the handshake is read; log data is not taken.
    if (!this.welcomed && m.type !== 'challenge' && m.type !== 'welcome' && m.type !== 'refused') {
      this.primaryLost(`message ${m.type === 'other' ? m.code : m.type} before the handshake`);
      return this.take();
    }
    switch (m.type) {
      case 'challenge':
        if (!m.ok || this.welcomed) this.primaryLost('a malformed challenge');
        else this.send({ type: 'hello' });
        break;
      case 'welcome':
        if (this.welcomed) break;
        if (m.malformed || !m.ok) {
          this.fail(peerRefused(this.peer, 'it does not hold the cluster secret (it cannot prove it): not following it'));
          break;
        }
        this.welcomed = true;
        this.epoch = m.epoch;
        this.primary = m.node;
        this.out.push({ do: 'welcome', epoch: m.epoch, primary: m.node });
        break;
      case 'refused':
        this.fail(peerRefused(this.peer, m.why));
        break;
      case 'heartbeat':
        if (m.fence !== null && m.fence > this.fence) this.fence = m.fence;
        break;
      case 'log':
        if (!this.headerSeen) {
          this.headerSeen = true;
          this.out.push({ do: 'header', bytes: m.bytes });
        } else if (!this.attached) {
          // Log frames wait until the main thread has built the arena from the header (and snapshot).
          this.early.push(m.bytes);
        } else {
          this.out.push({ do: 'frame', bytes: m.bytes });
        }
        break;
      case 'snapshot':
        if (m.cut === null) {
          this.primaryLost('a snapshot without its cut');
          break;
        }
        this.snapshotCut = m.cut;
        this.out.push({ do: 'snapshot', snapshot: m.snapshot });
        break;
      case 'released':
        if (m.outputs) this.out.push({ do: 'released', outputs: m.outputs });
        break;
      case 'end':
        this.phase = 'ended';
        this.out.push({ do: 'close', how: 'end' });
        this.out.push({ do: 'ended', frames: m.frames });
        break;
      default:
    }
    return this.take();
  }

  /** A checked frame's sequence number: null when it is the one due, else why not. */
  sequence(seq: number): string | null {
    // A joiner's first frame is its snapshot's cut: one before it would replay effects the
    // snapshot already holds.
    if (this.firstSeq < 0) this.firstSeq = this.frames = this.snapshotCut >= 0 ? this.snapshotCut : seq;
    return seq === this.frames ? null : `log frame ${seq} where ${this.frames} was due`;
  }

  /**
   * The frame due is checked and decoded (the driver posts it to the replaying threads right after
   * the batch's acknowledgement, in the same turn): it counts. The count is what the
   * acknowledgements say, so the backup never acknowledges a frame it could not replay.
   */
  received(): void {
    this.frames++;
  }

  /** The main thread built the run from the header: frames that waited go through now. */
  attach(): BackupAction<B>[] {
    this.attached = true;
    for (const bytes of this.early.splice(0)) this.out.push({ do: 'frame', bytes });
    return this.take();
  }

  /** A batch of bytes was read: a sign of life, and one acknowledgement for the whole batch. */
  batchRead(now: number): BackupAction<B>[] {
    if (this.reading) this.hb?.heard(now);
    // The acknowledgement says the frames are checked and held, posted to the replaying threads
    // before the driver handles anything else (this node can replay them if it takes over). A
    // node that stopped following sends nothing.
    if (this.welcomed && this.attached && this.phase !== 'deciding' && this.phase !== 'failed' && this.phase !== 'cutover') {
      this.send({ type: 'ack', frames: this.frames, fence: this.fence });
    }
    return this.take();
  }

  /** `paused`: the driver stopped reading (the lag bound); the primary's heartbeats wait in the kernel. */
  tick(now: number, paused: boolean): BackupAction<B>[] {
    if (!this.hb || !this.connected || this.phase !== 'running') return [];
    if (paused) this.hb.heard(now);
    if (this.hb.sendDue(now)) this.send({ type: 'heartbeat' });
    const silent = this.hb.silentFor(now);
    if (silent !== null) this.primaryLost(`no heartbeat for ${silent} ms`);
    return this.take();
  }

  /** The channel is unusable (a corrupt message or frame, a bad header): the primary is lost. */
  lost(why: string): BackupAction<B>[] {
    this.primaryLost(why);
    return this.take();
  }

  claimed(d: { won: boolean; epoch: number; owner: string }): BackupAction<B>[] {
    if (this.phase !== 'deciding') return [];
    if (!d.won) this.fail(notLive(this.s.node, d.epoch, d.owner, `lost the primary (${this.lostWhy})`));
    else {
      this.phase = 'cutover';
      this.epoch = d.epoch;
      this.out.push({ do: 'cutover', epoch: d.epoch, frames: this.frames, why: this.lostWhy });
    }
    return this.take();
  }

  /** The backup replayed the whole log to the recorded digest: tell the primary, so its close is a clean end. */
  done(digest: string): BackupAction<B>[] {
    if (this.phase === 'running' && this.connected) {
      this.send({ type: 'done', digest });
      this.phase = 'ended';
      this.out.push({ do: 'done-sent', after: 'close' });
    } else {
      this.out.push({ do: 'done-sent', after: 'now' });
    }
    return this.take();
  }

  /** An unexpected error in the driver, or the arbiter unreachable: fail-stop. */
  failed(e: Error): BackupAction<B>[] {
    this.fail(e);
    return this.take();
  }

  private get peer(): string {
    return `${this.primary || 'the primary'} at ${this.s.connectTo}`;
  }

  /** The primary is gone (or its channel is unusable): the arbiter decides whether this node goes live. */
  private primaryLost(why: string): void {
    if (this.phase !== 'running') return;
    if (!this.welcomed) {
      // Not the primary yet, only a connection: drop it and dial again (its close does).
      this.retryWhy = why;
      this.out.push({ do: 'close', how: 'destroy' });
      return;
    }
    this.out.push({ do: 'close', how: 'destroy' });
    if (!this.attached) {
      this.fail(peerLost(this.peer, `${why} before the log started`));
      return;
    }
    this.phase = 'deciding';
    this.lostWhy = why;
    this.out.push({ do: 'lost', primary: this.primary, why });
    this.out.push({ do: 'claim', epoch: this.epoch + 1 });
  }

  private fail(e: Error): void {
    this.phase = 'failed';
    this.out.push({ do: 'close', how: 'destroy' });
    this.out.push({ do: 'fail', error: e });
  }

  private send(msg: BackupOut): void {
    this.out.push({ do: 'send', msg });
  }

  private take(): BackupAction<B>[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}
