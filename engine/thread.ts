// The per-thread runtime every sync object calls into: the thread's mode, its event ring (record)
// or its recorded stream (replay), its event index, and the driver of the replay turn rule
// (turn.ts decides whether a step may go; this file reads the words, spins, parks and reports).

import { C_ABORT, C_OUTPUT_BELL, C_WAITERS, WAITER_ANY, WAITER_EXACT, WAITER_PAIRS, WAITER_STRIDE, waiterSlot } from './arena_layout.js';
import { assert } from './assert.js';
import { writeSync } from 'node:fs';
import { Kind, ValueKind, describe, head, isOrdered, kindNames, kindOf, objectOf } from './event.js';
import { ERROR_DEADLOCK, aborted, deadlockFromLog, divergence, finished, replayStall, untilReached } from './errors.js';
import type { SeededRandom } from './prng.js';
import type { ChaosPoint, EventRing, EventStream } from './thread_ports.js';
import type { DeadlockWatch } from './deadlock.js';
import { NO_EVENT, Next, Turn, floorTurn, nextEvent, versionTurn } from './turn.js';
import { TSO } from './memory_order.js';

/** A thread's side of a checkpoint cut (recorder/checkpoint.ts while recording, replayer/checkpoint.ts in replay). */
export interface CheckpointHooks {
  /** Record: about to block in a lockstep wait; it changes no memory until unpark(). */
  park(): void;
  /** Record: leaving a park (it stops there if a cut claimed it meanwhile). */
  unpark(): void;
  /** Between two pool tasks: record parks; replay meets a checkpoint-mark that is next. */
  idle(): void;
  /** The thread's run is over. */
  gone(): void;
  /** Replay: the next event is `head`, not what the operation wants; true if it was a checkpoint, taken part in and consumed. */
  meet(head: number, arg: number): boolean;
}

export const enum Mode {
  Off = 0,
  Record = 1,
  Replay = 2,
}

export type ModeName = 'off' | 'record' | 'replay';
export const modeNames: ModeName[] = ['off', 'record', 'replay'];

const SPIN_MAX = 128;
/** LOCKSTEP_TRACE=1: a thread waiting a second or more for a version says so on stderr (debugging stalls). */
const TRACE = process.env.LOCKSTEP_TRACE === '1';
const WAIT_SLICE_MS = 20;

/** What a live backup's thread needs to go live when its stream ends at cutover. */
export interface LiveSetup {
  /** Per object, the version after the last operation the received log holds (thread.awaitFloor). */
  floors: Int32Array;
  /** The thread's event ring in the arena (the backup allocated one for every thread up front). */
  ring: () => EventRing;
  /** Thread-table slot where the thread announces the event index it went live at (T_LIVE_FROM). */
  fromSlot: number;
  /** Its output count (T_OUTPUTS), and where it announces that count at going live (T_LIVE_OUTPUTS). */
  outputsSlot: number;
  liveOutputsSlot: number;
  /** A joining backup's thread starts at its first segment's event index (the state-transfer cut). */
  joined: boolean;
}

export class Thread {
  /** Events this thread has recorded or replayed: the next event's index. */
  index = 0;

  /** Replay stops (fail-stop, with a `debugger` statement first) when this thread reaches this event. */
  untilIndex = -1;
  /** Replay, main thread: called after every event taken, to release async consumers (pool, input). */
  onAdvance: (() => void) | null = null;
  /** Replay: the thread-table slot where this thread reports how far it has got (-1: none). */
  progressSlot = -1;
  /** Main thread: told of a divergence, stall or stop raised on this thread, so the run fails as a whole. */
  onFail: ((e: Error) => void) | null = null;

  /** Replay: whether the program's files are the recorded ones (for divergence reports). */
  program: 'same' | 'changed' | undefined = undefined;
  /**
   * Lockstep's own work on this thread (reading a module to hash it) is running: a patched clock or
   * random source called from inside it (a library that patched fs calls Date.now in closeSync)
   * reads the live value and records nothing, so lockstep never consumes the program's values.
   */
  quiet = false;
  /** The session finished: every further operation is ERR_FINISHED (set once, by finish()). */
  ended = false;
  /** With an explicit seed: where this thread's live random values come from (null: node:crypto, Math.random). */
  seeded: SeededRandom | null = null;

  /** Deadlock detection on lock waits (record by default, off when asked; null in replay). */
  deadlock: DeadlockWatch | null = null;
  /** At every sync point while recording: chaos (recorder/chaos.ts) and checkpoint stops (null: neither, and in replay). */
  chaos: ChaosPoint | null = null;
  /** Checkpoint cuts (null: off). */
  checkpoints: CheckpointHooks | null = null;

  /** Live backup: how to go live at cutover (null otherwise). */
  liveSetup: LiveSetup | null = null;
  /** After going live at cutover: per object, the version a live thread must wait for (see awaitFloor). */
  floors: Int32Array | null = null;
  private fedOnce = false;
  /** First slot of the arena's waiter table (arena_layout.ts). */
  private readonly waiters: number;

  constructor(
    readonly id: number,
    /** Changes once, from replay to record, when a backup's thread goes live at cutover. */
    public mode: Mode,
    readonly a: Int32Array,
    public ring: EventRing | null,
    readonly stream: EventStream | null,
    readonly stallMsMax: number,
  ) {
    this.waiters = Atomics.load(a, C_WAITERS);
  }

  // ---- record ----

  rec(kind: Kind, object: number, arg: number): void {
    this.ring!.push(head(kind, object), arg);
    this.index++;
  }

  recPayload(kind: Kind, object: number, payload: Uint8Array): void {
    this.ring!.pushPayload(head(kind, object), payload);
    this.index++;
    // The drain sleeps while rings fill; on a primary an output waits in the gate until its frame ships.
    if (kind === Kind.Output && Atomics.load(this.a, C_OUTPUT_BELL) !== 0) this.ring!.wake();
  }

  // ---- replay ----

  /** Takes the next recorded event, which must be `kind` on `object`; returns its arg. */
  expect(kind: Kind, object: number): number {
    const arg = this.take(kind, object);
    if (this.onAdvance) this.onAdvance();
    return arg;
  }

  /**
   * expect() without telling the main thread's consumers: a payload event's bytes must be taken
   * first, because they may let the pump move a live stream on to its next segment.
   */
  private take(kind: Kind, object: number): number {
    const s = this.stream!;
    if (this.index === this.untilIndex) this.stopHere();
    const next = this.hasNext(true) ? s.events[s.pos]! : NO_EVENT;
    const verdict = nextEvent(next, head(kind, object));
    if (verdict !== Next.Take) {
      if (verdict === Next.End) this.endOfLog(attempted(kind, object));
      return this.unexpected(next, s.events[s.pos + 1]!, kind, object);
    }
    const p = s.pos;
    const arg = s.events[p + 1]!;
    s.pos = p + 2;
    this.index++;
    if ((this.index & 255) === 0 || s.pos === s.events.length) this.reportProgress();
    return arg;
  }

  /** take() found another event than `kind` on `object`: a checkpoint on the way (take part, then take again), or a mismatch. */
  private unexpected(h: number, arg: number, kind: Kind, object: number): number {
    if (this.checkpoints !== null && this.checkpoints.meet(h, arg)) return this.take(kind, object);
    this.mismatch(h, arg, attempted(kind, object));
  }

  private reportProgress(): void {
    if (this.progressSlot >= 0) Atomics.store(this.a, this.progressSlot, this.index);
  }

  /**
   * The mode for the next operation; every operation asks before it starts. A live backup's
   * thread takes its next segment here (waiting for the primary if it must), and goes live when
   * its stream is over at cutover.
   */
  current(): Mode {
    if (this.ended) throw finished('a lockstep operation');
    const m = this.mode;
    if (m !== Mode.Replay) return m;
    const s = this.stream!;
    if (s.pos < s.events.length || !s.live) return m;
    return this.more(true) === 'more' ? Mode.Replay : this.goLive();
  }

  /** True if an event is there to read: in the current segment, or (live) in the next one, waited for if `wait`. */
  private hasNext(wait: boolean): boolean {
    const s = this.stream!;
    return s.pos < s.events.length || (s.live && this.more(wait) === 'more');
  }

  /**
   * Live: takes the next non-empty segment, checking that it continues this thread's stream:
   * 'more', 'final' (cutover: nothing more will come) or 'none' (not waiting, nothing yet).
   */
  private more(wait: boolean): 'more' | 'final' | 'none' {
    const s = this.stream!;
    const r = s.refill(this.a, wait);
    if (r !== 'more') return r;
    if (!this.fedOnce && this.liveSetup?.joined) this.index = s.firstIndex;
    this.fedOnce = true;
    assert(s.firstIndex === this.index, `live stream continuity: thread ${this.id} at event ${this.index} got a segment from event ${s.firstIndex}`);
    return s.events.length > 0 ? 'more' : this.more(wait);
  }

  /** Live backup: the stream is final and fully replayed (the main thread's pump asks). */
  get streamOver(): boolean {
    const s = this.stream;
    return s !== null && s.live && s.pos >= s.events.length && this.more(false) === 'final';
  }

  /** Cutover: from here on this thread runs live and records, for a future backup. */
  goLive(): Mode {
    const live = this.liveSetup;
    assert(live !== null, `thread ${this.id} has a live stream but no live setup`);
    this.ring = live.ring();
    // Both before the first event reaches the ring: the drain reads them when it sees that event.
    Atomics.store(this.a, live.liveOutputsSlot, Atomics.load(this.a, live.outputsSlot));
    Atomics.store(this.a, live.fromSlot, this.index);
    this.floors = live.floors;
    this.mode = Mode.Record;
    return Mode.Record;
  }

  /**
   * Live, after cutover: waits until every operation the received log holds on `object` has been
   * replayed (its version word reaches the floor), so a live thread never takes a version that a
   * still-replaying thread is waiting for.
   */
  awaitFloor(object: number, slot: number): void {
    const floor = this.floors![object]!;
    if (floorTurn(floor, Atomics.load(this.a, slot), 0, this.stallMsMax, false) === Turn.Go) return;
    this.park(slot, floor, object, true);
  }

  /** The next recorded event without taking it, or null at the end of the stream (live: of what arrived). */
  peek(): { kind: number; object: number; arg: number } | null {
    const s = this.stream!;
    if (!this.hasNext(false)) return null;
    const h = s.events[s.pos]!;
    return { kind: kindOf(h), object: objectOf(h), arg: s.events[s.pos + 1]! };
  }

  /**
   * peek() for an operation that decides from the next event what it is (a channel poll's
   * outcome, the pool's next task-assign): a checkpoint on the way is taken part in first
   * (replay stops a thread at its checkpoint-mark, the main thread completes a cut), so the
   * answer is the operation's own event. peek() alone would see the checkpoint, and the
   * operation would take the wrong kind for a divergence.
   */
  peekOwn(): { kind: number; object: number; arg: number } | null {
    const s = this.stream!;
    while (this.checkpoints !== null && this.hasNext(false) && this.checkpoints.meet(s.events[s.pos]!, s.events[s.pos + 1]!));
    return this.peek();
  }

  /** Describes the next recorded event, for divergence reports. */
  describeNext(): string {
    const s = this.stream!;
    return this.hasNext(false) ? describe(s.events[s.pos]!, s.events[s.pos + 1]!) : 'the end of this thread\'s log';
  }

  /** Takes the next event, which must be one of two kinds on `object`; returns which one matched. */
  expectEither(ok: Kind, fail: Kind, object: number): { ok: boolean; arg: number } {
    const s = this.stream!;
    const h = this.hasNext(true) ? s.events[s.pos]! : NO_EVENT;
    if (nextEvent(h, head(ok, object)) === Next.Take) return { ok: true, arg: this.expect(ok, object) };
    if (nextEvent(h, head(fail, object)) === Next.Take) return { ok: false, arg: this.expect(fail, object) };
    if (h === NO_EVENT) this.endOfLog(attempted(ok, object));
    if (this.checkpoints !== null && this.checkpoints.meet(h, s.events[s.pos + 1]!)) return this.expectEither(ok, fail, object);
    return this.diverge(this.describeNext(), attempted(ok, object));
  }

  /** Checks that the next event is `kind` on `object` without taking it. */
  peekExpect(kind: Kind, object: number, actual: string): void {
    const s = this.stream!;
    if (this.hasNext(true) && s.events[s.pos] !== head(kind, object) && this.checkpoints !== null && this.checkpoints.meet(s.events[s.pos]!, s.events[s.pos + 1]!)) {
      return this.peekExpect(kind, object, actual);
    }
    if (!this.hasNext(true) || s.events[s.pos] !== head(kind, object)) this.diverge(this.describeNext(), actual);
  }

  expectPayload(kind: Kind, object: number): Uint8Array {
    const length = this.take(kind, object);
    const payload = this.stream!.takePayload(length);
    if (this.onAdvance) this.onAdvance();
    return payload;
  }

  /**
   * Replay: waits for the turn of the step recorded at `version` on `object`, whose version word
   * is `slot` (turn.ts decides; spin briefly, then park).
   */
  awaitVersion(slot: number, version: number, object: number): void {
    const a = this.a;
    // A plain read first (one instruction; an Atomics call is a builtin call): it only decides
    // whether to go, and the step's exclusive section, entered next with an atomic
    // read-modify-write, orders what the step reads after it (step.ts). The spin reads atomically,
    // so that the compiler cannot hoist the read out of the loop.
    if (a[slot] === version) return;
    for (let spin = 0; spin < SPIN_MAX; spin++) {
      const turn = versionTurn(version, Atomics.load(a, slot), 0, this.stallMsMax, false);
      if (turn === Turn.Go) return;
      if (turn === Turn.Passed) break; // park() reports it
    }
    this.park(slot, version, object, false);
  }

  /**
   * Parks on a version word until the turn rule says go: for `target` as a step's version, or as
   * a cutover floor (`floor`). Waits in slices, so an abort or a stall is noticed.
   */
  private park(slot: number, target: number, object: number, floor: boolean): void {
    const a = this.a;
    const line = waiterSlot(this.waiters, slot);
    // A pair (slot, target) in the line, so that only the publisher of `target` wakes this thread;
    // with none free, the line's any-count, which every publisher on the line wakes.
    const pair = claimPair(a, line, slot);
    if (pair >= 0) a[pair + 1] = target; // published by the count's read-modify-write below
    const count = pair >= 0 ? line + WAITER_EXACT : line + WAITER_ANY;
    let waitedMs = 0;
    let stopping = false;
    try {
      for (;;) {
        // Announce the wait before reading the version once more: a publisher that stores the
        // version and then (after a read-modify-write) sees no waiter is then sure this read sees
        // its store.
        Atomics.add(a, count, 1);
        const current = Atomics.load(a, slot);
        const turn = floor
          ? floorTurn(target, current, waitedMs, this.stallMsMax, stopping)
          : versionTurn(target, current, waitedMs, this.stallMsMax, stopping);
        const woke = turn === Turn.Wait ? Atomics.wait(a, slot, current, WAIT_SLICE_MS) : 'ok';
        Atomics.sub(a, count, 1);
        switch (turn) {
          case Turn.Go:
            return;
          case Turn.Wait:
            if (woke === 'timed-out') {
              waitedMs += WAIT_SLICE_MS;
              if (TRACE && waitedMs % 1000 === 0) this.traceWait(slot, waitedMs);
              stopping = Atomics.load(a, C_ABORT) !== 0;
            }
            break;
          case Turn.Passed:
            this.diverge(`its turn on object ${object} at version ${target >>> 0}`,
              `object ${object} already past it, at version ${current >>> 0} (another thread took version ${target >>> 0})`);
          case Turn.Aborted:
            throw aborted(this.id);
          case Turn.Stalled: {
            const what = floor
              ? `object ${object} to reach the cutover floor ${target >>> 0} (it is at ${current >>> 0})`
              : `object ${object} to reach version ${target >>> 0} (it is at ${current >>> 0})`;
            throw this.failing(replayStall(this.id, what, waitedMs));
          }
        }
      }
    } finally {
      if (pair >= 0) Atomics.store(a, pair, 0);
    }
  }

  private traceWait(slot: number, waitedMs: number): void {
    writeSync(2, `lockstep trace: thread ${this.id} (mode ${modeNames[this.mode]}) at event ${this.index} has waited ${waitedMs} ms; version word ${slot} is ${Atomics.load(this.a, slot)}\n`);
  }

  /**
   * Wakes the threads parked for version `version` of the version word at `slot` (and any that
   * want every publish on its waiter line): notify costs ~50 ns and a futex wake, the look at the
   * line a few plain loads. Called after the version's store and a read-modify-write (step.ts).
   */
  wakeVersion(slot: number, version: number): void {
    const a = this.a;
    const line = waiterSlot(this.waiters, slot);
    // Plain reads on x86: the section's release just before is a full fence (memory_order.ts).
    const exact = TSO ? a[line + WAITER_EXACT]! : Atomics.load(a, line + WAITER_EXACT);
    const any = TSO ? a[line + WAITER_ANY]! : Atomics.load(a, line + WAITER_ANY);
    if (any !== 0 || (exact !== 0 && waitsFor(a, line, slot, version))) Atomics.notify(a, slot);
  }

  /**
   * Replay, the main thread's asynchronous wait (runtime/replay_pump.ts): announces a waiter for
   * version `version` of the word at `slot` as park() does (a pair when one is free, so that only
   * that version's publisher wakes it, else the line's any-count). The caller re-reads the word
   * after this, then waits, then calls unannounce() with what this returned.
   */
  announce(slot: number, version: number): number {
    const a = this.a;
    const line = waiterSlot(this.waiters, slot);
    const pair = claimPair(a, line, slot);
    if (pair >= 0) a[pair + 1] = version; // published by the count's read-modify-write below
    Atomics.add(a, pair >= 0 ? line + WAITER_EXACT : line + WAITER_ANY, 1);
    return pair;
  }

  /** Withdraws what announce(slot, …) announced (`pair`: its answer). */
  unannounce(slot: number, pair: number): void {
    const a = this.a;
    const line = waiterSlot(this.waiters, slot);
    Atomics.sub(a, pair >= 0 ? line + WAITER_EXACT : line + WAITER_ANY, 1);
    if (pair >= 0) Atomics.store(a, pair, 0);
  }

  // ---- values: the same call records or replays ----

  float(kind: ValueKind, live: () => number): number {
    const mode = this.current();
    if (mode === Mode.Off || this.quiet) return live();
    if (mode === Mode.Record) {
      const x = live();
      this.ring!.pushFloat64(head(Kind.Value, kind), x);
      this.index++;
      return x;
    }
    const length = this.take(Kind.Value, kind);
    if (length !== 8) this.diverge(`a ${length}-byte value`, 'an 8-byte value');
    const x = this.stream!.takeFloat64();
    if (this.onAdvance) this.onAdvance();
    return x;
  }

  bytes(kind: ValueKind, live: () => Uint8Array): Uint8Array {
    const mode = this.current();
    if (mode === Mode.Off || this.quiet) return live();
    if (mode === Mode.Record) {
      const b = live();
      this.recPayload(Kind.Value, kind, b);
      return b;
    }
    return this.expectPayload(Kind.Value, kind);
  }

  /**
   * The program goes on where this thread's log ends. In a complete log that is a divergence. In
   * a log cut off by the program's failure, the recording stopped this thread here: it stops too
   * (the replayed failure is what ends the run), and reports a stall only if nothing ends it.
   */
  private endOfLog(actual: string): never {
    if (!this.stream!.cutOff) this.diverge('the end of this thread\'s log', actual);
    let waitedMs = 0;
    while (Atomics.load(this.a, C_ABORT) === 0 && waitedMs < this.stallMsMax) {
      Atomics.wait(this.a, C_ABORT, 0, WAIT_SLICE_MS);
      waitedMs += WAIT_SLICE_MS;
    }
    if (Atomics.load(this.a, C_ABORT) !== 0) throw aborted(this.id);
    throw this.failing(replayStall(this.id, `the rest of a recording that was cut off here by the program's failure (next: ${actual})`, waitedMs));
  }

  /** The --until point: the program's state up to here is exactly the recorded one. */
  private stopHere(): never {
    const s = this.stream!;
    const next = s.pos < s.events.length ? describe(s.events[s.pos]!, s.events[s.pos + 1]!) : 'the end of the log';
    // A debugger attached to this thread (node --inspect) pauses here, before the event runs.
    debugger;
    throw this.failing(untilReached(this.id, this.index, next));
  }

  /**
   * The log has another event than the program's next one: a divergence, unless the recording
   * stopped here on a deadlock its detection reported (engine/deadlock.ts), which replays as the
   * same report.
   */
  private mismatch(h: number, arg: number, actual: string): never {
    if (h === head(Kind.Error, ERROR_DEADLOCK)) {
      const s = this.stream!;
      s.pos += 2;
      this.index++;
      throw this.failing(deadlockFromLog(s.takePayload(arg)));
    }
    this.diverge(describe(h, arg), actual);
  }

  diverge(expected: string, actual: string): never {
    throw this.failing(divergence({ thread: this.id, index: this.index, expected, actual, program: this.program }));
  }

  private failing(e: Error): Error {
    this.onFail?.(e);
    return e;
  }
}

/** What the program tried to do, for divergence reports (it has no version yet). */
function attempted(kind: Kind, object: number): string {
  if (isOrdered(kind) || kind === Kind.TryFail || kind === Kind.PollEmpty || kind === Kind.WaitResult || kind === Kind.Input) {
    return `${kindNames[kind]}(object ${object})`;
  }
  return describe(head(kind, object), 0).replace(/\(code 0\)|\(task 0\)/, '');
}

/** Claims a free (slot, version) pair of a waiter line for version word `slot`: its first slot, or -1 if none is free. */
function claimPair(a: Int32Array, line: number, slot: number): number {
  for (let p = line + WAITER_PAIRS; p < line + WAITER_STRIDE; p += 2) {
    if (a[p] === 0 && Atomics.compareExchange(a, p, 0, slot) === 0) return p;
  }
  return -1;
}

/** True if a pair of the waiter line holds (slot, version): someone parked for that version of that word. */
function waitsFor(a: Int32Array, line: number, slot: number, version: number): boolean {
  for (let p = line + WAITER_PAIRS; p < line + WAITER_STRIDE; p += 2) {
    if (a[p] === slot && a[p + 1] === version) return true;
  }
  return false;
}
