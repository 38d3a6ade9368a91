// A replicated node's main-thread side: its role (primary, or backup following a primary), its
// epoch, the channel worker (replication/sender.ts or replication/receiver.ts), and the driver of
// the output gate, whose rule is the pure core core/gate.ts: a primary releases an output only
// once the backup acknowledged the frame holding its event (at once when alone); a backup holds
// what it replays until cutover, then re-emits what the old primary may not have released.

import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { live, type Output } from '../engine/thread_api.js';
import { LockstepError, notServing, revive } from '../engine/errors.js';
import type { Replication } from './config.js';
import type { SenderCommand, SenderInit } from './sender.js';
import type { ReceiverAttach, ReceiverDone } from './receiver.js';
import { OutputGate, type Released } from './core/gate.js';

export interface ReplicationStatus {
  node: string;
  role: 'primary' | 'backup';
  epoch: number;
  /** Primary: running without a backup (the gate is open). */
  alone: boolean;
  /** Primary: the attached backup's name, if any. */
  backup: string | null;
  /** Primary: frames shipped / acknowledged; the lag is their difference. */
  shippedFrames: number;
  ackedFrames: number;
  lagFrames: number;
  /** Primary: times the drain held frames back because the backup lagged by more than lagBytesMax. */
  lagWaits: number;
  /** Outputs held by the gate right now. */
  heldOutputs: number;
  /** Added output latency (time in the gate), milliseconds, over the last outputs released. */
  gateMs: { count: number; p50: number; p99: number; max: number };
  /** Backup that took over: how long from the loss of the primary being decided to going live. */
  cutover: { epoch: number; why: string; at: number } | null;
}

const LATENCY_SAMPLES_MAX = 10_000;

export class Replica {
  role: 'primary' | 'backup';
  epoch: number;
  alone = false;
  backupNode: string | null = null;
  cutoverInfo: { epoch: number; why: string; at: number } | null = null;
  private readonly gate: OutputGate<Output>;
  /** Primary: frames shipped when the backup connected; null once it has acknowledged them. */
  private catchUpFrames: number | null = null;
  private readonly latencies: number[] = [];
  private latencyNext = 0;
  private worker: Worker | null = null;
  private receiver: Worker | null = null;
  private endWaiter: (() => void) | null = null;
  private drainedWaiters: (() => void)[] = [];
  /** Set by the session: where released outputs go, and how the run fails. */
  emit: (o: Output) => void = () => {};
  fail: (e: Error) => void = () => {};
  /** Backup: cutover decided (the receiver won the next epoch). */
  onCutover: (epoch: number, why: string) => void = () => {};
  /** Primary: a backup asks to join; the session takes a snapshot at the next quiescent point. */
  onJoin: () => void = () => {};
  /** Backup: the receiver has log for the main thread. */
  onMore: () => void = () => {};

  constructor(readonly repl: Replication, epoch: number) {
    this.role = repl.role;
    this.epoch = epoch;
    this.gate = new OutputGate<Output>(repl.role);
  }

  // ---- primary ----

  /** Starts the log channel's sender (a primary, or a backup that has just taken over). */
  startSender(init: Omit<SenderInit, 'repl' | 'epoch'>): Promise<number> {
    this.role = 'primary';
    this.alone = init.alone;
    if (init.alone) this.releaseAll(this.gate.goAlone(performance.now()));
    const worker = new Worker(new URL('../replication/sender.js', import.meta.url), {
      workerData: { sender: { ...init, repl: this.repl, epoch: this.epoch } satisfies SenderInit },
      transferList: [init.frames],
    });
    this.worker = worker;
    worker.unref();
    return new Promise((listening, failed) => {
      worker.on('message', (m: { type: string; [k: string]: unknown }) => {
        switch (m.type) {
          case 'listening': return listening(m.port as number);
          case 'acked':
            this.noteCaughtUp(m.frames as number);
            return this.acked(m.outputs as number[]);
          case 'backup':
            this.backupNode = m.node as string;
            this.alone = false;
            this.gate.followed();
            this.catchUpFrames = m.frames as number;
            console.error(`lockstep: ${this.repl.node}: backup ${this.backupNode} connected (epoch ${this.epoch}${m.join ? ', joining from a snapshot' : ''}); ` +
              `${this.catchUpFrames} frames of log to catch up on`);
            return this.noteCaughtUp(0);
          case 'alone':
            this.alone = true;
            this.backupNode = null;
            this.epoch = m.epoch as number;
            console.error(`lockstep: ${this.repl.node} runs alone (epoch ${this.epoch}): ${String(m.why)}`);
            return this.releaseAll(this.gate.goAlone(performance.now()));
          case 'join': return this.onJoin();
          case 'fenced': return this.fenced(m.upTo as number);
          case 'ended': return this.endWaiter?.();
          case 'fail': {
            const e = revive(m.error);
            failed(e);
            return this.failStop(e);
          }
          default:
        }
      });
      worker.on('error', (e) => this.failStop(e));
    });
  }

  /** This node must not go on (it lost the arbiter's flag, or its channel failed): nothing more leaves the gate. */
  private failStop(e: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopError = e;
    this.gate.stop();
    for (const f of this.fences.splice(0)) f.reject(e);
    this.fail(e);
  }

  private stopped = false;
  private stopError: Error | null = null;

  // ---- read fences ----

  private fenceNext = 1;
  private fences: { id: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  /**
   * Resolves once this node has proved, after the call, that it still holds its epoch (the output
   * rule for an answer that is not an output: a read). A primary running alone proves it at once;
   * one with a backup when the backup echoes a fence sent after the call (sender.ts). Rejects when
   * the node stops, and on a backup, which is not live and must not answer.
   */
  fence(): Promise<void> {
    if (this.stopped) return Promise.reject(this.stopError ?? notServing(this.repl.node, 'it has stopped'));
    if (this.role === 'backup') return Promise.reject(notServing(this.repl.node, 'it is a backup: only the live node answers'));
    // A node that took over without --listen has no sender: no backup can follow it, it runs alone.
    if (!this.worker) return Promise.resolve();
    const id = this.fenceNext++;
    return new Promise((resolve, reject) => {
      this.fences.push({ id, resolve, reject });
      this.send({ type: 'fence', id });
    });
  }

  private fenced(upTo: number): void {
    const keep = [];
    for (const f of this.fences) {
      if (f.id <= upTo) f.resolve();
      else keep.push(f);
    }
    this.fences = keep;
  }

  send(c: SenderCommand): void {
    this.worker?.postMessage(c);
  }

  /** finish(): waits until the backup holds the whole log (or the node runs alone), then stops the channel. */
  async end(frames: number): Promise<void> {
    if (this.role !== 'primary' || !this.worker) return;
    const ended = new Promise<void>((r) => (this.endWaiter = r));
    this.send({ type: 'end', frames });
    await ended;
    await this.drained();
  }

  /** Resolves when the gate holds no output. */
  drained(): Promise<void> {
    if (this.gate.heldCount === 0) return Promise.resolve();
    return new Promise((r) => this.drainedWaiters.push(r));
  }

  /** Primary: says once when the backup has acknowledged the log that existed when it connected. */
  private noteCaughtUp(acked: number): void {
    if (this.catchUpFrames === null || acked < this.catchUpFrames) return;
    console.error(`lockstep: ${this.repl.node}: backup ${this.backupNode} has caught up: it holds the whole log so far (${acked} frames)`);
    this.catchUpFrames = null;
  }

  private acked(outputs: number[]): void {
    this.releaseAll(this.gate.acked(outputs, performance.now()));
  }

  /** Emits what the gate let go; the backup learns the new marks, and drain() waiters wake. */
  private releaseAll(out: Released<Output>[]): void {
    for (const r of out) {
      this.sample(r.waitedMs);
      this.emit(r.o);
    }
    if (out.length > 0 && this.role === 'primary' && this.backupNode) this.send({ type: 'released', outputs: this.gate.released() });
    if (this.gate.heldCount === 0) for (const w of this.drainedWaiters.splice(0)) w();
  }

  private sample(ms: number): void {
    this.latencies[this.latencyNext] = ms;
    this.latencyNext = (this.latencyNext + 1) % LATENCY_SAMPLES_MAX;
  }

  // ---- both ----

  /** An output reached the main thread: it leaves now, waits in the gate, or is dropped. */
  admit(o: Output): void {
    if (this.stopped) return;
    this.releaseAll(this.gate.admit(o, performance.now()));
  }

  // ---- backup ----

  /** Starts the receiver; resolves with the log header's payload (and a joining backup's snapshot). */
  startReceiver(run: string): Promise<{ header: Uint8Array; snapshot: unknown }> {
    const worker = new Worker(new URL('../replication/receiver.js', import.meta.url), { workerData: { receiver: { repl: this.repl, run } } });
    // Kept referenced: a following backup's main thread may have nothing else keeping it alive.
    this.worker = worker;
    return new Promise((resolve, reject) => {
      let header: Uint8Array | null = null;
      const ready = (snapshot: unknown): void => resolve({ header: header!, snapshot });
      worker.on('message', (m: { type: string; [k: string]: unknown }) => {
        switch (m.type) {
          case 'welcome':
            this.epoch = m.epoch as number;
            console.error(`lockstep: ${this.repl.node}: following the primary at ${this.repl.connect?.host}:${this.repl.connect?.port} (epoch ${this.epoch})`);
            return;
          case 'header':
            header = m.payload as Uint8Array;
            if (!this.repl.join) ready(null);
            return;
          case 'snapshot': return ready(m.snapshot);
          case 'more': return this.onMore();
          case 'released': return this.gate.primaryReleased(m.outputs as number[]);
          // The primary finished normally: the backup replays to the end event and finishes too.
          case 'ended': return;
          case 'cutover': return this.cutover(m.epoch as number, String(m.why));
          case 'fail': {
            const e = revive(m.error);
            reject(e);
            return this.failStop(e);
          }
          default:
        }
      });
      worker.on('error', (e) => {
        reject(e);
        this.failStop(e);
      });
      worker.on('exit', (code) => reject(new LockstepError('ERR_PEER_LOST', `the log receiver exited (code ${code})`)));
    });
  }

  attach(m: Omit<ReceiverAttach, 'type'>): void {
    this.worker!.postMessage({ type: 'attach', ...m } satisfies ReceiverAttach);
  }

  /**
   * A following backup replayed the whole log to the recorded digest: tell the primary before the
   * channel closes, so it takes the close for the clean end it is, not for a lost backup.
   */
  finished(digest: string): Promise<void> {
    const worker = this.worker;
    if (this.role !== 'backup' || !worker) return Promise.resolve();
    return new Promise((resolve) => {
      const onMessage = (m: { type: string }): void => {
        if (m.type !== 'done-sent') return;
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('exit', () => resolve());
      worker.postMessage({ type: 'done', digest } satisfies ReceiverDone);
    });
  }

  /** Cutover's second step (cutover.ts; idempotent): this node is the primary of `epoch`; held outputs the old primary may not have released go out. */
  cutover(epoch: number, why: string): void {
    if (this.cutoverInfo) return;
    this.cutoverInfo = { epoch, why, at: live.dateNow() };
    this.epoch = epoch;
    this.role = 'primary';
    this.alone = true;
    // The receiver stays until the session ends: segments for threads that have not attached
    // yet are still in its hands, and it marks their streams final once it has posted them.
    this.receiver = this.worker;
    this.receiver?.unref();
    this.worker = null;
    this.onCutover(epoch, why);
    this.releaseAll(this.gate.cutover(performance.now()));
  }

  status(shipped: number, acked: number, lagWaits: number): ReplicationStatus {
    const sorted = this.latencies.slice().sort((x, y) => x - y);
    const at = (q: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
    return {
      node: this.repl.node,
      role: this.role,
      epoch: this.epoch,
      alone: this.alone,
      backup: this.backupNode,
      shippedFrames: shipped,
      ackedFrames: acked,
      lagFrames: Math.max(0, shipped - acked),
      lagWaits,
      heldOutputs: this.gate.heldCount,
      gateMs: { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1]! : 0 },
      cutover: this.cutoverInfo,
    };
  }

  stop(): void {
    this.worker?.terminate().catch(() => {});
    this.receiver?.terminate().catch(() => {});
    this.worker = null;
    this.receiver = null;
  }
}
