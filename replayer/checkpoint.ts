// Checkpoints in replay: the cuts the recording took (recorder/checkpoint.ts) are taken again at
// the same places and their block digests compared, so a replay whose memory ends up different
// names the regions and byte ranges that differ and, per thread, the events after which memory
// first differed (between the last checkpoint that matched and the first that did not).
//
// Every thread but the main one meets a checkpoint-mark event in its stream where it stopped while
// recording: it announces its arrival (T_CKPT = the checkpoint's number) and waits until the main
// thread has compared (C_CKPT_DONE). The main thread meets the checkpoint event: it waits until
// every thread the event lists has arrived, hashes, compares, releases them and goes on. It waits
// without blocking its event loop when it meets the event in its pump (a pool may need the loop
// to hand a thread the task that reaches its mark), and blocking when program code asks for its
// next event first. A checkpoint that cannot complete within stallMsMax (a replay that went
// another way) is skipped: it only informs the report; the run digest still decides the verdict.
// A live backup does not stop at checkpoints (it consumes them): its threads go live at cutover.

import { Kind, kindOf, objectOf } from '../engine/event.js';
import { SLICE_MS, waitWhile } from '../engine/checkpoint_wait.js';
import { compareBlocks, decodeBlocks, decodeCut, describeDifferences, digestBlocks, entryNames, type CutPlace, type EntryDigest, type RegionDifference } from '../engine/checkpoint.js';
import { C_ABORT, C_CKPT_DONE, C_CKPT_ARRIVED, CKPT_GONE, CKPT_PARKED, CKPT_RUNNING, T_CKPT, T_CKPT_INDEX } from '../engine/arena_layout.js';
import type { Arena } from '../engine/arena.js';
import type { StreamReader } from './stream.js';
import type { CheckpointHooks, Thread } from '../engine/thread.js';

/** Per thread, the events after which memory first differed: indices [from, to) (to null: the end of its log). */
export interface EventInterval {
  thread: number;
  from: number;
  to: number | null;
}

/** The first checkpoint whose digests differed: its number, what differed, and since when. */
export interface CheckpointMismatch {
  number: number;
  regions: RegionDifference[];
  intervals: EventInterval[];
}

export interface CheckpointSummary {
  /** Checkpoints compared (taken again and hashed). */
  compared: number;
  /** Of them, the ones whose digests matched the recording's. */
  matched: number;
  /** The first that did not match, or null. */
  firstMismatch: CheckpointMismatch | null;
}

/** A thread's side in replay: stops at its checkpoint-marks. */
export class CheckpointArrival implements CheckpointHooks {
  private readonly slot: number;

  constructor(private readonly t: Thread, arena: Arena, private readonly judge: CheckpointJudge | null) {
    this.slot = arena.threadSlot(t.id);
  }

  /**
   * The thread's next event is `head` (not what its operation wants): if it is a checkpoint, take
   * part in it, consume it, and return true (the operation then takes its own event).
   */
  meet(head: number, arg: number): boolean {
    const kind = kindOf(head);
    if (kind === Kind.CheckpointMark) {
      const n = this.takeMark(arg);
      if (n !== 0) this.await(n);
      return true;
    }
    if (kind === Kind.Checkpoint && objectOf(head) === 0 && this.judge !== null) {
      this.judge.now();
      return true;
    }
    return false;
  }

  park(): void {}

  /** A thread starting, or a pool worker starting a task: a mark next is its place in a cut; meet it now. */
  unpark(): void {
    this.settle();
    for (let n = this.nextMark(); n !== null; n = this.nextMark()) {
      const arrived = this.takeMark(n);
      if (arrived !== 0) this.await(arrived);
    }
    // Started: no longer a thread that has done nothing yet (allArrived's rule for index 0).
    Atomics.compareExchange(this.t.a, this.slot + T_CKPT, CKPT_PARKED, CKPT_RUNNING);
  }

  /**
   * A pool worker between tasks: a mark next is its place in a cut. It arrives there now but
   * waits for the cut only when it starts its next task (unpark) or exits (gone): idle, it
   * changes no memory, and it must not block here, where its task's result has not left yet (the
   * main thread may need it before it reaches the cut).
   */
  idle(): void {
    for (let n = this.nextMark(); n !== null; n = this.nextMark()) {
      const arrived = this.takeMark(n);
      if (arrived !== 0) this.owed = arrived;
    }
  }

  /** The number of the cut whose checkpoint-mark is the thread's next event, or null. */
  private nextMark(): number | null {
    const s = this.t.stream!;
    return s.pos < s.events.length && kindOf(s.events[s.pos]!) === Kind.CheckpointMark ? s.events[s.pos + 1]! : null;
  }

  /**
   * Takes the checkpoint-mark at the head of the thread's stream (of cut `n`) and announces the
   * thread's arrival at it; returns `n`, for the caller to wait for that cut now (meet) or later
   * (idle), or 0 when there is nothing to wait for (a live backup consumes marks).
   */
  private takeMark(n: number): number {
    const s = this.t.stream!;
    const index = this.t.index;
    s.pos += 2;
    this.t.index++;
    if (s.live) return 0;
    this.announce(n, index);
    return n;
  }

  /** The cut this thread arrived at without waiting (idle), or 0. */
  private owed = 0;

  /** Waits for the cut an idle arrival owes. */
  private settle(): void {
    if (this.owed === 0) return;
    const n = this.owed;
    this.owed = 0;
    this.await(n);
  }

  /** The thread has exited: a cut that found it gone while recording waits for this. */
  gone(): void {
    this.settle();
    Atomics.store(this.t.a, this.slot + T_CKPT, CKPT_GONE);
    Atomics.notify(this.t.a, C_CKPT_ARRIVED);
  }

  private announce(n: number, index: number): void {
    const a = this.t.a;
    a[this.slot + T_CKPT_INDEX] = index;
    Atomics.store(a, this.slot + T_CKPT, n);
    Atomics.add(a, C_CKPT_ARRIVED, 1);
    Atomics.notify(a, C_CKPT_ARRIVED);
  }

  /** Stays stopped until the main thread has compared cut `n` (or skipped it), bounded by stallMsMax. */
  private await(n: number): void {
    const a = this.t.a;
    waitWhile(a, C_CKPT_DONE, (done) => ((done - n) | 0) < 0, this.t.id, SLICE_MS, this.t.stallMsMax);
    Atomics.store(a, this.slot + T_CKPT, CKPT_RUNNING);
  }
}

/** The main thread's side in replay: completes each checkpoint and keeps the verdicts. */
export class CheckpointJudge {
  private compared = 0;
  private matched = 0;
  private firstMismatch: CheckpointMismatch | null = null;
  /** Per thread, its index at the last checkpoint that matched (0: the start). */
  private readonly lastMatch = new Map<number, number>();
  /** The checkpoint being waited for from the pump, or 0. */
  private pending = 0;

  constructor(private readonly arena: Arena, private readonly main: Thread) {}

  /**
   * The pump found a checkpoint next: completes it without blocking the event loop, then calls
   * `then`. Returns true if it was consumed at once instead (a live backup's, or an unreadable one).
   */
  soon(then: () => void): boolean {
    const next = this.peekCut();
    if (next === null || this.main.stream!.live) {
      this.skip();
      return true;
    }
    this.thens.push(then);
    if (this.pending === next.number) return false;
    const n = next.number;
    this.pending = n;
    // Polls about every millisecond (the main thread's clocks are the recorded ones in replay).
    let polls = 0;
    const poll = (): void => {
      if (this.pending !== n) {
        this.release(); // completed meanwhile from program code (now())
        return;
      }
      if (!this.allArrived(next) && polls++ < this.main.stallMsMax && Atomics.load(this.arena.a, C_ABORT) === 0) {
        setTimeout(poll, 1);
        return;
      }
      this.complete();
      this.release();
    };
    // After the current task and its microtasks: the recording took the cut between two tasks.
    setImmediate(poll);
    return false;
  }

  /**
   * A cut is being completed from soon(): the pump's stall watch is off meanwhile, since this
   * wait is bounded here (stallMsMax polls) and a cut that cannot complete is skipped, not a
   * divergence.
   */
  get inProgress(): boolean {
    return this.pending !== 0;
  }

  /** Who waits for the cut being completed from soon() (the pump; finish()). Called early is harmless: each looks again. */
  private readonly thens: (() => void)[] = [];

  private release(): void {
    for (const then of this.thens.splice(0)) then();
  }

  /** The main thread's next event is a periodic cut (finish() completes those with soon(), not blocking). */
  get cutNext(): boolean {
    return this.peekCut() !== null;
  }

  /** Program code wants the main thread's next event and a checkpoint is in the way: complete it now, blocking. */
  now(): void {
    const next = this.peekCut();
    if (next === null || this.main.stream!.live) {
      this.skip();
      return;
    }
    // In 1 ms slices: the main thread is blocked here, and each arrival notifies C_CKPT_ARRIVED.
    waitWhile(this.arena.a, C_CKPT_ARRIVED, () => !this.allArrived(next), 0, 1, this.main.stallMsMax);
    this.complete();
  }

  /** The replay's verdicts so far. */
  summary(): CheckpointSummary {
    return { compared: this.compared, matched: this.matched, firstMismatch: this.firstMismatch };
  }

  /** Per thread, the events since the last matching checkpoint, up to the end of its log. */
  sinceLastMatch(): EventInterval[] {
    const out: EventInterval[] = [];
    for (let t = 0; t < this.arena.threadCount; t++) out.push({ thread: t, from: this.lastMatch.get(t) ?? 0, to: null });
    return out;
  }

  /** The end-of-run blocks (a checkpoint(end) event's payload) against memory now. */
  endDifferences(recorded: Uint8Array): RegionDifference[] | null {
    const d = decodeBlocks(recorded);
    return d ? compareBlocks(d.set, digestBlocks(this.arena), entryNames(this.arena)) : null;
  }

  /** The main thread's next event, if it is a periodic checkpoint, decoded (without taking it). */
  private peekCut(): { number: number; places: CutPlace[]; set: EntryDigest[] } | null {
    const s = this.main.stream as StreamReader; // the replayer's own stream (engine/ knows it as an EventStream)
    if (s.pos >= s.events.length) return null;
    const h = s.events[s.pos]!;
    if (kindOf(h) !== Kind.Checkpoint || objectOf(h) !== 0) return null;
    return decodeCut(s.data.subarray(s.dataPos, s.dataPos + s.events[s.pos + 1]!));
  }

  private allArrived(cut: { number: number; places: CutPlace[] }): boolean {
    const a = this.arena.a;
    return cut.places.every((p) => {
      const slot = this.arena.threadSlot(p.thread);
      const state = Atomics.load(a, slot + T_CKPT);
      // A thread that had not started when the cut was recorded (index 0) and has not started
      // here either changed no memory: its first act will be to meet its mark (bootstrap, pool worker).
      if (p.index === 0 && state === CKPT_PARKED) return true;
      if (p.gone) return state === CKPT_GONE;
      if (state < cut.number) return false;
      // At a mark of this cut or a later one, and still at this cut's place: nothing but marks
      // since it (a thread recording marks the last of the cuts that held it at one place, and an
      // idle pool worker takes the marks that follow one another without stopping). Each of those
      // marks is one event and one cut further on, so its index may be past the place by at most
      // as many events as its cut is past this one. A thread that stopped waiting for this cut
      // (stallMsMax) and ran on to a later mark is not at this place: comparing then would report
      // a false mismatch.
      const index = Atomics.load(a, slot + T_CKPT_INDEX);
      return index >= p.index && index - p.index <= ((state - cut.number) | 0);
    });
  }

  /** Hashes, compares, takes the checkpoint event and releases the stopped threads. */
  private complete(): void {
    const cut = this.peekCut()!;
    const a = this.arena.a;
    const live = this.main.stream!.live;
    const arrived = this.allArrived(cut);
    if (!live && arrived) {
      const regions = compareBlocks(cut.set, digestBlocks(this.arena), entryNames(this.arena));
      const here = [{ thread: 0, index: this.main.index }, ...cut.places];
      this.compared++;
      if (regions.length === 0) {
        this.matched++;
        for (const p of here) this.lastMatch.set(p.thread, p.index);
      } else if (this.firstMismatch === null) {
        this.firstMismatch = {
          number: cut.number,
          regions,
          intervals: here.map((p) => ({ thread: p.thread, from: this.lastMatch.get(p.thread) ?? 0, to: p.index })),
        };
      }
    }
    this.skip();
    Atomics.store(a, C_CKPT_DONE, cut.number);
    Atomics.notify(a, C_CKPT_DONE);
  }

  /** Takes the checkpoint event off the main thread's stream. */
  private skip(): void {
    const s = this.main.stream!;
    const length = s.events[s.pos + 1]!;
    s.pos += 2;
    this.main.index++;
    s.takePayload(length);
    this.pending = 0;
  }
}

/** Replay: makes `t` stop at its checkpoint-marks (the main thread: complete the checkpoints, with `judge`). */
export function attachArrival(t: Thread, arena: Arena, judge: CheckpointJudge | null): void {
  t.checkpoints = new CheckpointArrival(t, arena, judge);
}

/** What ERR_DIGEST_MISMATCH carries (its details) and says (text). */
export interface DigestReport {
  text: string;
  /** What differs at the end of the run (null: the log has no end blocks). */
  regions: RegionDifference[] | null;
  /** The first checkpoint whose memory differed (null: none did, or none was taken). */
  checkpoint: number | null;
  /** Per thread, the events after which memory diverged: [from, to), to null for the end of its log. */
  intervals: EventInterval[];
  checkpoints: { compared: number; matched: number };
}

/** The report of a replay whose run digest differs, from its judge and the recorded end blocks. */
export function digestReport(judge: CheckpointJudge, endBlocks: Uint8Array | null): DigestReport {
  const regions = endBlocks ? judge.endDifferences(endBlocks) : null;
  const { compared, matched, firstMismatch } = judge.summary();
  const intervals = firstMismatch ? firstMismatch.intervals : judge.sinceLastMatch();
  const parts: string[] = [];
  if (regions === null) parts.push('the log has no block digests to say where memory differs');
  else if (regions.length === 0) parts.push('every registered region matches at the end, so the outputs differ');
  else parts.push(`at the end, memory differs in ${describeDifferences(regions)}`);
  // A thread that stayed where it was (parked, or gone) between the two cuts took no part.
  const events = intervals.filter((i) => i.to === null || i.to > i.from)
    .map((i) => `thread ${i.thread} events ${i.from}–${i.to === null ? 'its end' : i.to - 1}`).join(', ');
  if (firstMismatch) {
    parts.push(`it first differed at checkpoint ${firstMismatch.number} (in ${describeDifferences(firstMismatch.regions)}), ` +
      `${matched > 0 ? `after ${matched} that matched` : 'the first one compared'}: the race is among ${events}`);
  } else if (compared > 0) {
    parts.push(`all ${compared} checkpoints compared matched: the race is after the last one, among ${events}`);
  } else {
    parts.push(`no checkpoint was compared (lockstep record --checkpoint-ms sets how often they are taken): the race is among ${events}`);
  }
  return { text: parts.join('; '), regions, checkpoint: firstMismatch?.number ?? null, intervals, checkpoints: { compared, matched } };
}
