// A seeded simulation of one replicated pair, in the manner of TigerBeetle's VOPR: the production
// cores (replication/core/: the primary's and the backup's channel protocols, the output gate, the
// arbiter's test-and-set and its ask-again rule) driven by a fake clock, a fake network and a
// fake arbiter service, with crashes, partitions, resets, lost and late arbiter replies injected
// at random. One schedule is a pure function of its seed, so any failure reruns from the seed.
//
// After every step the checker looks at what the nodes did and fails the schedule when:
//   - two nodes were ever live in the same epoch, or a node went live in an epoch the arbiter did
//     not grant it;
//   - a primary released an output whose frame the backup had not acknowledged, while the backup
//     could still take over (not alone in an epoch the arbiter still gives it);
//   - a backup cut over without holding every frame holding an output the old primary released
//     (an acknowledged output lost), or without every frame it had acknowledged;
//   - a backup acknowledged, or counted, frames it had not received.
//
// The network is a TCP connection: in order each way, delayed, held during a partition (and then
// delivered, as TCP retransmits), reset (both ends see a close), or closed by one end. Messages to
// the arbiter travel on connections of their own, so they are reordered, lost (no answer: the
// client asks again) and answered late (an abandoned attempt's reply is dropped, as the real
// client's socket is gone). A node that crashes stops at once; the kernel of its machine may close
// its sockets (the peer sees a close) or not (the peer sees silence). A backup that crashed or
// stopped may be followed by a new one that joins the running primary (--join): the primary takes
// a snapshot at a quiescent point and ships the frames after its cut.

import { BackupCore, type BackupAction, type BackupIn } from '../../replication/core/backup.js';
import { OutputGate, type Released } from '../../replication/core/gate.js';
import { PrimaryCore, type CoreFrame, type PrimaryAction, type PrimaryIn, type PrimaryOut } from '../../replication/core/primary.js';
import { askAgain, CLAIM_RETRY_MS, testAndSet, type ArbiterRecord, type Decision } from '../../replication/core/arbiter.js';
import { prng } from '../prng.js';

export interface SimOutput {
  thread: number;
  seq: number;
  /** The frame that holds its event. */
  frame: number;
}

export interface SimFrame extends CoreFrame {
  items: SimOutput[];
}

const HEADER = 'header' as const;
type Bytes = SimFrame | typeof HEADER;

/** Knobs a planted bug turns, to show the checker catches it. */
export interface Mutations {
  /** The gate treats an acknowledgement of frames [0, n) as one of [0, n + 1). */
  gateOneEarly?: boolean;
  /** The backup acknowledges one frame more than it received. */
  ackAhead?: boolean;
  /** A backup that lost the primary goes live without asking the arbiter. */
  cutoverUnclaimed?: boolean;
}

const TICK_MS = 10;
const SETTINGS = { heartbeatMs: 30, timeoutMs: 120, waitBackupMs: 150, connectMs: 600 };
/** The arbiter client's patience for one attempt, and for the whole claim. */
const ATTEMPT_MS = 60;
const CLAIM_DEADLINE_MS = 400;
const THREADS = 3;

type Side = 'P' | 'B';

interface Conn {
  id: number;
  /** Per direction, when the last message is due (TCP keeps order). */
  dueToP: number;
  dueToB: number;
  /** Each end still reads (its socket is not closed). */
  openP: boolean;
  openB: boolean;
  /** Each end's driver has seen its socket's close (once). */
  seenP: boolean;
  seenB: boolean;
}

type Ev =
  | { kind: 'tick'; node: Side; inc: number }
  | { kind: 'program' }
  | { kind: 'toP'; conn: number; msg: PrimaryIn }
  | { kind: 'toB'; conn: number; msg: BackupIn<Bytes> }
  | { kind: 'closedP'; conn: number }
  | { kind: 'closedB'; conn: number }
  | { kind: 'dial'; inc: number }
  | { kind: 'attach'; inc: number }
  | { kind: 'replay'; inc: number }
  /** The primary reaches a quiescent point and takes the snapshot a joining backup asked for. */
  | { kind: 'snapshot' }
  | { kind: 'arbReq'; node: Side; attempt: number; epoch: number; inc: number }
  | { kind: 'arbReply'; node: Side; attempt: number; d: Decision; inc: number }
  | { kind: 'arbTimeout'; node: Side; attempt: number; inc: number }
  | { kind: 'arbRetry'; node: Side; inc: number }
  | { kind: 'fault' };

interface Scheduled {
  at: number;
  n: number;
  ev: Ev;
}

export interface ScheduleResult {
  seed: number;
  steps: number;
  violation: string | null;
  /** What happened, for the campaign's summary. */
  outcome: string;
  trace: string[];
}

interface Claim {
  epoch: number;
  attempt: number;
  deadline: number;
}

export class World {
  private readonly rnd: () => number;
  private now = 0;
  private readonly queue: Scheduled[] = [];
  private n = 0;
  private readonly trace: string[] = [];
  violation: string | null = null;

  // The arbiter service.
  private arb: ArbiterRecord = { epoch: 1, owner: 'P' };
  private arbDownUntil = 0;
  /** Every grant ever made: epoch → owner. */
  private readonly grants = new Map<number, string>([[1, 'P']]);
  private readonly claims: Partial<Record<Side, Claim>> = {};

  // The network.
  private readonly conns = new Map<number, Conn>();
  private connNext = 1;
  /** The backup's current connection (the receiver's `socket`). */
  private bConn = 0;
  private partitionUntil = 0;

  // The primary.
  private readonly p: PrimaryCore<SimFrame>;
  private readonly pGate = new OutputGate<SimOutput>('primary');
  private pUp = true;
  private pEpoch = 1;
  private pHasBackup = false;
  private readonly outSeq: number[] = new Array(THREADS).fill(0);
  private pending: SimOutput[] = [];
  private frameNext = 0;
  private ended = false;
  /** Outputs the primary released, by frame. */
  private readonly pReleased: SimOutput[] = [];
  /** Every frame the primary shipped, by sequence. */
  private readonly shippedFrames: SimFrame[] = [];

  // The backup: its first incarnation follows from the start; a later one (after the first crashed
  // or stopped) joins the running primary with --join and a state-transfer snapshot.
  private b: BackupCore<Bytes>;
  private bGate = new OutputGate<SimOutput>('backup');
  private bUp = true;
  private bInc = 1;
  private bName = 'B';
  private bJoin = false;
  /** A joined backup's snapshot cut: it holds frames below it through the snapshot. */
  private bCut = 0;
  private bLive = 0;
  /** Frames delivered to the backup's core (after the header), in order. */
  private bDelivered = 0;
  /** The current backup's highest acknowledgement, and any backup's (an ack in flight outlives its sender). */
  private bAckMax = 0;
  private ackEver = 0;
  private replayQueue: SimFrame[] = [];
  private readonly bEmitted: SimOutput[] = [];

  /** Epoch → the nodes that were live in it. */
  private readonly liveIn = new Map<number, Set<string>>([[1, new Set(['P'])]]);
  steps = 0;

  constructor(readonly seed: number, private readonly m: Mutations = {}, private readonly stepsMax = 600) {
    this.rnd = prng(seed);
    this.p = new PrimaryCore<SimFrame>({ node: 'P', ...SETTINGS }, 1, false, 0);
    this.b = new BackupCore<Bytes>({ node: 'B', connectTo: 'P:1', ...SETTINGS }, 0);
    this.runP(this.p.start());
    this.runB(this.b.start());
    this.at(TICK_MS, { kind: 'tick', node: 'P', inc: 0 });
    this.at(TICK_MS + 3, { kind: 'tick', node: 'B', inc: 1 });
    this.at(1, { kind: 'program' });
    this.at(this.int(5, 400), { kind: 'fault' });
  }

  // ---- the run ----

  run(): ScheduleResult {
    while (this.violation === null && this.steps < this.stepsMax && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.now = next.at;
      this.steps++;
      this.step(next.ev);
      if (this.violation === null) this.check();
    }
    if (this.violation === null) this.finalCheck();
    return { seed: this.seed, steps: this.steps, violation: this.violation, outcome: this.outcome(), trace: this.trace };
  }

  private outcome(): string {
    const p = !this.pUp ? 'P crashed' : this.p.stopped ? 'P stopped' : this.p.alone ? `P alone@${this.pEpoch}` : `P@${this.pEpoch}`;
    const b = !this.bUp ? `${this.bName} crashed` : this.bLive ? `${this.bName} live@${this.bLive}` : `${this.bName} ${this.b.phase}`;
    return `${p}, ${b}`;
  }

  private step(ev: Ev): void {
    switch (ev.kind) {
      case 'tick':
        if (ev.node === 'P' && this.pUp) this.runP(this.p.tick(this.now));
        if (ev.node === 'B' && ev.inc !== this.bInc) return;
        if (ev.node === 'B' && this.bUp) this.runB(this.b.tick(this.now, false));
        this.at(this.now + TICK_MS, ev);
        return;
      case 'program': return this.program();
      case 'toP': {
        const c = this.conns.get(ev.conn);
        if (!this.pUp || !c?.openP) return;
        this.note(`P <- ${ev.msg.type}`);
        this.runP(this.p.message(ev.conn, ev.msg));
        this.p.heard(ev.conn, this.now);
        return;
      }
      case 'toB': {
        const c = this.conns.get(ev.conn);
        if (!this.bUp || !c?.openB || ev.conn !== this.bConn) return;
        this.note(`B <- ${ev.msg.type}${ev.msg.type === 'log' && ev.msg.bytes !== HEADER ? ` ${ev.msg.bytes.seq}` : ''}`);
        if (!this.b.reading) return;
        if (ev.msg.type === 'log' && ev.msg.bytes !== HEADER && this.bHeaderSeen) this.bDelivered++;
        if (ev.msg.type === 'log' && ev.msg.bytes === HEADER) this.bHeaderSeen = true;
        this.runB(this.b.message(ev.msg));
        this.runB(this.b.batchRead(this.now));
        return;
      }
      case 'closedP': {
        const c = this.conns.get(ev.conn);
        if (!this.pUp || !c || c.seenP) return;
        c.openP = false;
        c.seenP = true;
        this.note(`P sees #${ev.conn} close`);
        this.runP(this.p.closed(ev.conn, 'the connection closed'));
        return;
      }
      case 'closedB': {
        const c = this.conns.get(ev.conn);
        if (!this.bUp || !c || c.seenB) return;
        c.openB = false;
        c.seenB = true;
        this.note(`B sees #${ev.conn} close`);
        this.runB(this.b.closed(ev.conn === this.bConn, this.now));
        return;
      }
      case 'dial':
        if (ev.inc === this.bInc) this.dial();
        return;
      case 'attach':
        if (this.bUp && ev.inc === this.bInc) this.runB(this.b.attach());
        return;
      case 'replay': {
        if (ev.inc !== this.bInc) return;
        const f = this.replayQueue.shift();
        if (!f || !this.bUp) return;
        for (const o of f.items) this.bRelease(this.bGate.admit(o, this.now));
        if (this.replayQueue.length > 0) this.at(this.now + this.int(0, 20), { kind: 'replay', inc: this.bInc });
        return;
      }
      case 'snapshot': {
        if (!this.pUp || this.p.stopped) return;
        // The drain cuts the log at this quiescent point: every event so far is in a frame below the
        // cut. The drain posts that frame to the sender on its own port and the main thread the
        // snapshot on another, so the sender may get the snapshot first (seen on a real cluster:
        // the joiner was sent the cut's last frame after its snapshot and replayed it twice).
        const last = this.pending.length > 0 ? this.ship(false) : null;
        const cut = this.frameNext;
        const late = last !== null && this.rnd() < 0.5;
        if (last !== null && !late) this.runP(this.p.frame(last));
        this.note(`P takes a snapshot at frame ${cut}${late ? `, before frame ${last!.seq} reaches its sender` : ''}`);
        this.runP(this.p.snapshot({ cut }, cut));
        if (late) this.runP(this.p.frame(last!));
        return;
      }
      case 'arbReq': {
        if (this.now < this.arbDownUntil) return; // lost: the client's attempt times out
        const who = ev.node === 'P' ? 'P' : this.incName(ev.inc);
        const r = testAndSet(this.arb, ev.epoch, who);
        this.arb = r.next;
        if (r.decision.won) {
          const had = this.grants.get(r.decision.epoch);
          if (had !== undefined && had !== who) this.fail(`arbiter granted epoch ${r.decision.epoch} to ${who} after ${had}`);
          this.grants.set(r.decision.epoch, who);
        }
        this.note(`arbiter: ${who} asks ${ev.epoch}: ${r.decision.won ? 'granted' : 'refused'}`);
        if (this.rnd() < 0.1) return; // the reply is lost
        this.at(this.now + this.int(1, 50), { kind: 'arbReply', node: ev.node, attempt: ev.attempt, d: r.decision, inc: ev.inc });
        return;
      }
      case 'arbReply': {
        const c = this.claims[ev.node];
        if (!c || c.attempt !== ev.attempt || (ev.node === 'B' && ev.inc !== this.bInc)) return; // an abandoned attempt's socket is gone
        delete this.claims[ev.node];
        if (ev.node === 'P' && this.pUp) this.runP(this.p.claimed(ev.d));
        if (ev.node === 'B' && this.bUp) this.runB(this.b.claimed(ev.d));
        return;
      }
      case 'arbTimeout': {
        const c = this.claims[ev.node];
        if (!c || c.attempt !== ev.attempt || (ev.node === 'B' && ev.inc !== this.bInc)) return;
        if (askAgain(false, this.now, c.deadline)) {
          c.attempt++;
          this.at(this.now + CLAIM_RETRY_MS, { kind: 'arbRetry', node: ev.node, inc: ev.inc });
          return;
        }
        delete this.claims[ev.node];
        const e = new Error('the arbiter cannot be reached');
        if (ev.node === 'P' && this.pUp) this.runP(this.p.failed(e));
        if (ev.node === 'B' && this.bUp) this.runB(this.b.failed(e));
        return;
      }
      case 'arbRetry':
        if (ev.node === 'P' || ev.inc === this.bInc) this.attempt(ev.node);
        return;
      case 'fault': return this.fault();
    }
  }

  private bHeaderSeen = false;

  /** The primary's program: an output, or a frame shipped by the drain (with the outputs before it). */
  private program(): void {
    if (!this.pUp || this.p.stopped || this.ended) return;
    const r = this.rnd();
    if (r < 0.5) {
      const thread = this.int(0, THREADS - 1);
      const o: SimOutput = { thread, seq: this.outSeq[thread]!++, frame: this.frameNext };
      this.pending.push(o);
      this.pRelease(this.pGate.admit(o, this.now));
    } else if (r < 0.97 || this.frameNext < 5) {
      this.ship();
    } else {
      // finish(): the last frame is shipped; the primary waits for the backup to hold it all.
      this.ship();
      this.ended = true;
      this.note(`P ends at ${this.frameNext} frames`);
      this.runP(this.p.end(this.frameNext));
      return;
    }
    this.at(this.now + this.int(1, 15), { kind: 'program' });
  }

  /** The drain ships a frame with the outputs recorded since the last one (`post`: and its sender gets it now). */
  private ship(post = true): SimFrame {
    const f: SimFrame = { seq: this.frameNext++, outputs: this.outSeq.slice(), items: this.pending };
    this.pending = [];
    this.shippedFrames[f.seq] = f;
    this.note(`P ships frame ${f.seq}`);
    if (post) this.runP(this.p.frame(f));
    return f;
  }

  private incName(inc: number): string {
    return inc === 1 ? 'B' : `B${inc}`;
  }

  /** A new backup process joins the running primary (the old one crashed or stopped). */
  private restartBackup(): void {
    for (const c of this.conns.values()) {
      if (c.openB) this.at(this.due(c, 'P'), { kind: 'closedP', conn: c.id });
      c.openB = false;
      c.seenB = true;
    }
    delete this.claims.B;
    this.bInc++;
    this.bName = this.incName(this.bInc);
    this.bJoin = true;
    this.b = new BackupCore<Bytes>({ node: this.bName, connectTo: 'P:1', ...SETTINGS }, this.now);
    this.bGate = new OutputGate<SimOutput>('backup');
    this.bUp = true;
    this.bConn = 0;
    this.bCut = 0;
    this.bDelivered = 0;
    this.bAckMax = 0;
    this.bHeaderSeen = false;
    this.replayQueue = [];
    this.note(`fault: ${this.bName} starts and joins`);
    this.runB(this.b.start());
    this.at(this.now + TICK_MS, { kind: 'tick', node: 'B', inc: this.bInc });
  }

  private fault(): void {
    const r = this.rnd();
    if (r < 0.4 && (!this.bUp || this.b.phase === 'failed') && !this.bLive && this.bInc < 4 && this.pUp && !this.p.stopped) {
      this.restartBackup();
    } else if (r < 0.15 && this.pUp) {
      this.note('fault: P crashes');
      this.crash('P', this.rnd() < 0.5);
    } else if (r < 0.3 && this.bUp) {
      this.note('fault: B crashes');
      this.crash('B', this.rnd() < 0.5);
    } else if (r < 0.55) {
      this.partitionUntil = this.now + this.int(20, 400);
      this.note(`fault: partition until ${this.partitionUntil}`);
    } else if (r < 0.7 && this.bConn) {
      this.note(`fault: #${this.bConn} is reset`);
      const c = this.conns.get(this.bConn)!;
      this.at(this.now + this.int(1, 10), { kind: 'closedP', conn: c.id });
      this.at(this.now + this.int(1, 10), { kind: 'closedB', conn: c.id });
    } else if (r < 0.8) {
      this.arbDownUntil = this.now + this.int(50, 600);
      this.note(`fault: arbiter unreachable until ${this.arbDownUntil}`);
    }
    if (this.rnd() < 0.75) this.at(this.now + this.int(20, 500), { kind: 'fault' });
  }

  private crash(node: Side, socketsClose: boolean): void {
    if (node === 'P') this.pUp = false;
    else this.bUp = false;
    delete this.claims[node];
    if (!socketsClose) return;
    for (const c of this.conns.values()) {
      if (node === 'P' && c.openP) {
        c.openP = false;
        this.at(this.due(c, 'B'), { kind: 'closedB', conn: c.id });
      }
      if (node === 'B' && c.openB) {
        c.openB = false;
        this.at(this.due(c, 'P'), { kind: 'closedP', conn: c.id });
      }
    }
  }

  // ---- the network ----

  /** When a message sent now on `c` towards `to` arrives: after the one before it, and after a partition. */
  private due(c: Conn, to: Side): number {
    let at = Math.max(this.now + this.int(1, 8), to === 'P' ? c.dueToP : c.dueToB);
    if (at < this.partitionUntil) at = this.partitionUntil + this.int(0, 5);
    if (to === 'P') c.dueToP = at;
    else c.dueToB = at;
    return at;
  }

  private dial(): void {
    if (!this.bUp) return;
    const id = this.connNext++;
    const c: Conn = { id, dueToP: 0, dueToB: 0, openP: true, openB: true, seenP: false, seenB: false };
    this.conns.set(id, c);
    if (!this.pUp || this.now < this.partitionUntil) {
      // No one listens (or the SYN is lost): the dial fails without a connection.
      c.openP = false;
      this.at(this.now + this.int(1, 30), { kind: 'closedB', conn: id });
      return;
    }
    this.bConn = id;
    this.b.connect(this.now);
    this.note(`B dials: #${id}`);
    this.runP(this.p.accept(id, this.now));
  }

  // ---- the arbiter's clients ----

  private claim(node: Side, epoch: number): void {
    this.claims[node] = { epoch, attempt: 1, deadline: this.now + CLAIM_DEADLINE_MS };
    this.attempt(node);
  }

  private attempt(node: Side): void {
    const c = this.claims[node];
    if (!c) return;
    this.at(this.now + this.int(1, 50), { kind: 'arbReq', node, attempt: c.attempt, epoch: c.epoch, inc: node === 'B' ? this.bInc : 0 });
    this.at(this.now + ATTEMPT_MS, { kind: 'arbTimeout', node, attempt: c.attempt, inc: node === 'B' ? this.bInc : 0 });
  }

  // ---- drivers: the cores' actions carried out ----

  private runP(actions: PrimaryAction<SimFrame>[]): void {
    for (const x of actions) {
      if (!this.pUp) return;
      switch (x.do) {
        case 'send': {
          const c = this.conns.get(x.peer);
          if (!c || !c.openP) break;
          const msg = this.toBackup(x.msg);
          this.at(this.due(c, 'B'), { kind: 'toB', conn: c.id, msg });
          break;
        }
        case 'close': {
          const c = this.conns.get(x.peer);
          if (!c || !c.openP) break;
          c.openP = false;
          this.at(this.due(c, 'B'), { kind: 'closedB', conn: c.id });
          this.at(this.now + 1, { kind: 'closedP', conn: c.id });
          break;
        }
        case 'acked': {
          if (x.outputs) {
            const outputs = this.m.gateOneEarly ? this.framesOutputs(x.frames + 1) ?? x.outputs : x.outputs;
            this.pRelease(this.pGate.acked(outputs, this.now));
          }
          break;
        }
        case 'alone':
          this.pEpoch = x.epoch;
          this.pHasBackup = false;
          this.pRelease(this.pGate.goAlone(this.now));
          break;
        case 'followed': this.pGate.followed(); break;
        case 'backup':
          this.pHasBackup = true;
          this.pGate.followed();
          break;
        case 'claim': this.claim('P', x.epoch); break;
        case 'join': this.at(this.now + this.int(1, 30), { kind: 'snapshot' }); break;
        case 'hold': this.goLive('P', x.epoch); break;
        case 'stop':
          this.note(`P stops: ${(x.error as Error).message.slice(0, 80)}`);
          this.pGate.stop();
          break;
        default:
      }
    }
  }

  /** Per thread, output marks of the frame before `frames` (what a planted bug would wrongly free). */
  private framesOutputs(frames: number): number[] | null {
    return this.shippedFrames[frames - 1]?.outputs ?? null;
  }

  private toBackup(m: PrimaryOut<SimFrame>): BackupIn<Bytes> {
    switch (m.type) {
      case 'challenge': return { type: 'challenge', ok: true };
      case 'welcome': return { type: 'welcome', ok: true, malformed: false, epoch: m.epoch, node: 'P' };
      case 'refused': return { type: 'refused', why: m.why };
      case 'header': return { type: 'log', bytes: HEADER };
      case 'log': return { type: 'log', bytes: m.frame };
      case 'heartbeat': return { type: 'heartbeat', fence: m.fence ?? null };
      case 'released': return { type: 'released', outputs: m.outputs };
      case 'snapshot': return { type: 'snapshot', snapshot: m.snapshot, cut: (m.snapshot as { cut: number }).cut };
      case 'end': return { type: 'end', frames: m.frames };
    }
  }

  private runB(actions: BackupAction<Bytes>[]): void {
    for (const x of actions) {
      if (!this.bUp) return;
      switch (x.do) {
        case 'dial': this.at(this.now + x.afterMs, { kind: 'dial', inc: this.bInc }); break;
        case 'send': {
          const c = this.conns.get(this.bConn);
          if (!c || !c.openB) break;
          let msg: PrimaryIn;
          if (x.msg.type === 'hello') msg = { type: 'hello', node: this.bName, join: this.bJoin, macOk: true };
          else if (x.msg.type === 'ack') {
            const frames = this.m.ackAhead ? x.msg.frames + 1 : x.msg.frames;
            this.bAckMax = Math.max(this.bAckMax, frames);
            this.ackEver = Math.max(this.ackEver, frames);
            msg = { type: 'ack', frames, fence: x.msg.fence };
          } else if (x.msg.type === 'done') msg = { type: 'done', digest: x.msg.digest };
          else msg = { type: 'other', code: 7 };
          this.at(this.due(c, 'P'), { kind: 'toP', conn: c.id, msg });
          break;
        }
        case 'close': {
          const c = this.conns.get(this.bConn);
          if (!c || !c.openB) break;
          c.openB = false;
          this.at(this.due(c, 'P'), { kind: 'closedP', conn: c.id });
          // The driver sees its own socket's close event too.
          this.at(this.now + 1, { kind: 'closedB', conn: c.id });
          break;
        }
        case 'header':
          // The main thread builds the run from the header (and a joiner's snapshot), then attaches.
          if (!this.bJoin) this.at(this.now + this.int(1, 40), { kind: 'attach', inc: this.bInc });
          break;
        case 'snapshot':
          this.bCut = (x.snapshot as { cut: number }).cut;
          this.at(this.now + this.int(1, 40), { kind: 'attach', inc: this.bInc });
          break;
        case 'frame': {
          if (x.bytes === HEADER) {
            this.runB(this.b.lost('a second header'));
            break;
          }
          // A joiner holds the frames below its cut through the snapshot: one sent again is applied twice.
          if (this.bJoin && x.bytes.seq < this.bCut) this.fail(`${this.bName} joined at frame ${this.bCut} and was sent frame ${x.bytes.seq}`);
          const gap = this.b.sequence(x.bytes.seq);
          if (gap !== null) {
            this.runB(this.b.lost(gap));
            break;
          }
          this.replayQueue.push(x.bytes);
          if (this.replayQueue.length === 1) this.at(this.now + this.int(0, 20), { kind: 'replay', inc: this.bInc });
          this.b.received();
          break;
        }
        case 'released': this.bGate.primaryReleased(x.outputs); break;
        case 'lost':
          if (this.m.cutoverUnclaimed) {
            this.runB(this.b.claimed({ won: true, epoch: this.b.epoch + 1, owner: this.bName }));
            return;
          }
          break;
        case 'claim': this.claim('B', x.epoch); break;
        case 'cutover':
          this.goLive(this.bName, x.epoch);
          this.bLive = x.epoch;
          this.checkCutover();
          this.bRelease(this.bGate.cutover(this.now));
          break;
        case 'fail':
          this.note(`B fails: ${x.error.message.slice(0, 80)}`);
          this.bGate.stop();
          break;
        default:
      }
    }
  }

  private pRelease(out: Released<SimOutput>[]): void {
    if (out.length === 0) return;
    for (const r of out) {
      this.checkRelease(r.o);
      this.pReleased.push(r.o);
    }
    if (this.pHasBackup) this.runP(this.p.released(this.pGate.released()));
  }

  private bRelease(out: Released<SimOutput>[]): void {
    for (const r of out) {
      if (!this.bLive) this.fail(`backup released output ${r.o.thread}:${r.o.seq} before it went live`);
      this.bEmitted.push(r.o);
    }
  }

  // ---- invariants ----

  private goLive(node: string, epoch: number): void {
    if (this.grants.get(epoch) !== node) this.fail(`${node} went live in epoch ${epoch}, which the arbiter granted to ${this.grants.get(epoch) ?? 'nobody'}`);
    const s = this.liveIn.get(epoch) ?? new Set<string>();
    s.add(node);
    this.liveIn.set(epoch, s);
    if (s.size > 1) this.fail(`two nodes live in epoch ${epoch}`);
    this.note(`${node} live in epoch ${epoch}`);
  }

  /** A primary releases output o: the backup holds its frame, or no backup can take over. */
  private checkRelease(o: SimOutput): void {
    if (this.ackEver > o.frame) return;
    // Alone in an epoch the arbiter still gives it: no other node can go live without a later
    // epoch, which needs this node's backup to win it, and the backup stopped following.
    const safeAlone = this.p.alone && this.arb.epoch >= this.pEpoch && this.arb.owner === 'P';
    // Alone from the start (no backup ever connected): the backup holds nothing to take over with.
    if (safeAlone) return;
    this.fail(`P released output ${o.thread}:${o.seq} of frame ${o.frame} before the backup acknowledged it (acked ${this.ackEver})`);
  }

  /** At cutover the backup holds every frame it acknowledged and every frame with a released output. */
  private checkCutover(): void {
    // A joiner holds the frames below its cut through the snapshot.
    const frames = Math.max(this.b.frames, this.bCut);
    if (this.bAckMax > frames) this.fail(`B cut over with ${frames} frames after acknowledging ${this.bAckMax}`);
    for (const o of this.pReleased) {
      if (o.frame >= frames) this.fail(`acknowledged output ${o.thread}:${o.seq} (frame ${o.frame}) lost at cutover: B holds ${frames} frames`);
    }
  }

  private check(): void {
    // An open gate with a backup following would release what that backup may never hold.
    if (this.pUp && !this.p.stopped && this.p.alone && this.p.following) this.fail('P runs alone (its gate open) while a backup follows it');
    const received = this.bCut + this.bDelivered;
    if (this.b.frames > received && this.bHeaderSeen) this.fail(`${this.bName} counts ${this.b.frames} frames, received ${received}`);
    if (this.bAckMax > received) this.fail(`${this.bName} acknowledged ${this.bAckMax} frames, received ${received}`);
  }

  /** At the end: after replaying what it holds, a live backup has emitted every output the old primary did not release. */
  private finalCheck(): void {
    if (!this.bLive || !this.bUp) return;
    while (this.replayQueue.length > 0) {
      const f = this.replayQueue.shift()!;
      for (const o of f.items) this.bRelease(this.bGate.admit(o, this.now));
    }
    const out = new Set([...this.pReleased, ...this.bEmitted].map((o) => `${o.thread}:${o.seq}`));
    for (let s = 0; s < Math.max(this.b.frames, this.bCut); s++) {
      for (const o of this.shippedFrames[s]?.items ?? []) {
        if (!out.has(`${o.thread}:${o.seq}`)) this.fail(`output ${o.thread}:${o.seq} of frame ${s} was never emitted after cutover`);
      }
    }
  }

  // ---- helpers ----

  private fail(why: string): void {
    if (this.violation === null) this.violation = `${why} (t=${this.now} ms, step ${this.steps})`;
  }

  /** Tracing costs most of a schedule's time: a campaign traces only the schedule it reruns to show. */
  tracing = false;

  private note(line: string): void {
    if (this.tracing && this.trace.length < 5000) this.trace.push(`${String(this.now).padStart(5)} ${line}`);
  }

  private at(at: number, ev: Ev): void {
    const s: Scheduled = { at, n: this.n++, ev };
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1]!.at > at)) i--;
    this.queue.splice(i, 0, s);
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }
}

/** The i-th schedule of a campaign: campaigns from different seeds share no schedules (in all likelihood). */
export function scheduleSeed(seed: number, i: number): number {
  return (Math.imul(seed, 0x9e3779b1) + i) >>> 0;
}

/** Runs `count` schedules of the campaign `seed`; stops at the first violation. */
export function campaign(seed: number, count: number, m: Mutations = {}): { ran: number; failed: ScheduleResult | null; outcomes: Map<string, number> } {
  const outcomes = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const r = new World(scheduleSeed(seed, i), m).run();
    outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
    if (r.violation) return { ran: i + 1, failed: traced(scheduleSeed(seed, i), m), outcomes };
  }
  return { ran: count, failed: null, outcomes };
}

/** Runs one schedule again with its trace kept. */
export function traced(seed: number, m: Mutations = {}): ScheduleResult {
  const w = new World(seed, m);
  w.tracing = true;
  return w.run();
}
