// Deadlock detection while recording (and in mode off when asked): a thread whose lock fast path
// failed publishes, in its thread-table record (arena_layout.ts T_WAIT_*), the object it waits for and
// the objects it holds, and waits in slices; once it has waited CHECK_AFTER_SLICES slices it
// reads every thread's record and looks for a cycle through itself in the wait-for graph
// (wait_for.ts). A cycle seen twice in a row with the same records is a deadlock: the cycle's
// lowest thread reports it as ERR_DEADLOCK (naming every thread, the object it waits for and who
// holds it), logs the report as an error event, and throws. Replay meets that event where the
// thread would have blocked and throws the same report (thread.ts), so the log replays to it.
//
// What a thread holds is kept in a plain array on the thread (no shared write per lock); it is
// published only when the thread is about to block. Mutexes, read-write locks (read and write)
// and semaphores take part: a semaphore is "held" by a thread that acquired a permit and has not
// released one itself (a semaphore released by another thread, as a signal, is not tracked).

import { ERROR_DEADLOCK, aborted, deadlockCycle, type DeadlockLink } from './errors.js';
import { Kind } from './event.js';
import { lockWord, spinLockWord, tryLockWord, unlockWord as unlock } from './futex_lock.js';
import { C_ABORT, C_DEADLOCK, HOLDS_PUBLISHED_MAX, T_HOLDS, T_HOLDS_COUNT, T_WAIT_FOR, T_WAIT_HOW, T_WAIT_SEQ } from './arena_layout.js';
import { Mode, type Thread } from './thread.js';
import { cycleThrough, type Blocked } from './wait_for.js';

export const enum WaitHow {
  Mutex = 1,
  Read = 2,
  Write = 3,
  Semaphore = 4,
}

const howNames = ['', 'mutex', 'read-write lock (to read)', 'read-write lock (to write)', 'semaphore'];

/** A blocked thread waits this long at a time before it looks again. */
const SLICE_MS = 20;
/** Slices waited before the first look for a cycle (a deadlock is reported after ~2 looks). */
const CHECK_AFTER_SLICES = 5;

/** What the watch needs of the arena: the thread table and object names (kept abstract for tests). */
export interface WatchArena {
  a: Int32Array;
  threadSlot(thread: number): number;
  readonly threadCount: number;
  /** "mutex \"a\"", "semaphore \"pool[2]\"" … for reports. */
  describeObject(object: number): string;
}

export class DeadlockWatch {
  private readonly holds: number[] = [];
  private readonly slot: number;
  /** The cycle found at the last look, as "thread:seq" words, to confirm it at the next. */
  private suspect = '';

  constructor(private readonly t: Thread, private readonly arena: WatchArena) {
    this.slot = arena.threadSlot(t.id);
  }

  acquired(object: number): void {
    this.holds.push(object);
  }

  released(object: number): void {
    const holds = this.holds;
    // Locks are mostly released in reverse order: the last one taken is at the end.
    if (holds[holds.length - 1] === object) {
      holds.pop();
      return;
    }
    const i = holds.lastIndexOf(object);
    if (i >= 0) holds.splice(i, 1);
  }

  /** Takes a futex_lock word (the mutex's), watching for a deadlock if it must wait. */
  lock(a: Int32Array, i: number, object: number): void {
    // The same short spin as an unwatched lock (futex_lock.ts) before the watched wait: without
    // it every contended acquisition while recording parked at once (a futex wait and wake).
    if (!tryLockWord(a, i) && !spinLockWord(a, i)) {
      this.begin(object, WaitHow.Mutex);
      try {
        // Drepper's mutex3 slow path, with the wait cut into slices so the thread can look around.
        let c = Atomics.exchange(a, i, 2);
        let slices = 0;
        while (c !== 0) {
          if (Atomics.wait(a, i, 2, SLICE_MS) === 'timed-out') this.waited(++slices);
          c = Atomics.exchange(a, i, 2);
        }
      } finally {
        this.end();
      }
    }
    this.acquired(object);
  }

  /** guarded_object.ts's blockUntil, watched: `attempt` under the guard until it succeeds, parking on the seq word between. */
  blockUntil(a: Int32Array, guard: number, seqSlot: number, attempt: () => boolean, onSuccess: () => void, object: number, how: WaitHow): void {
    let slices = 0;
    let blocked = false;
    try {
      for (;;) {
        lockWord(a, guard);
        if (attempt()) {
          onSuccess();
          Atomics.add(a, seqSlot, 1);
          unlock(a, guard);
          Atomics.notify(a, seqSlot);
          break;
        }
        const seq = Atomics.load(a, seqSlot);
        unlock(a, guard);
        if (!blocked) {
          this.begin(object, how);
          blocked = true;
        }
        if (Atomics.wait(a, seqSlot, seq, SLICE_MS) === 'timed-out') this.waited(++slices);
      }
    } finally {
      if (blocked) this.end();
    }
    this.acquired(object);
  }

  private begin(object: number, how: WaitHow): void {
    const a = this.arena.a;
    const s = this.slot;
    Atomics.add(a, s + T_WAIT_SEQ, 1); // odd: being written
    const n = this.holds.length;
    a[s + T_HOLDS_COUNT] = n;
    for (let k = 0; k < n && k < HOLDS_PUBLISHED_MAX; k++) a[s + T_HOLDS + k] = this.holds[k]!;
    a[s + T_WAIT_HOW] = how;
    a[s + T_WAIT_FOR] = object;
    Atomics.add(a, s + T_WAIT_SEQ, 1); // even: stable
    // Blocked, it changes no memory until it leaves: a checkpoint cut may count it as stopped here.
    if (this.t.checkpoints !== null) this.t.checkpoints.park();
  }

  private end(): void {
    if (this.t.checkpoints !== null) this.t.checkpoints.unpark();
    const a = this.arena.a;
    Atomics.add(a, this.slot + T_WAIT_SEQ, 1);
    a[this.slot + T_WAIT_FOR] = 0;
    Atomics.add(a, this.slot + T_WAIT_SEQ, 1);
    this.suspect = '';
  }

  /** Called after each slice waited in vain. */
  private waited(slices: number): void {
    const a = this.arena.a;
    if (Atomics.load(a, C_ABORT) !== 0) throw aborted(this.t.id);
    // Another thread reported the cycle: a worker waits for the run to stop (C_ABORT, set when the
    // main thread takes the report), so the report, not this thread's abort, is the run's failure.
    // A blocked main thread cannot take the report (its event loop is stuck here), so it stops.
    const reporter = Atomics.load(a, C_DEADLOCK);
    if (reporter !== 0 && reporter !== this.t.id + 1) {
      if (this.t.id === 0) throw aborted(this.t.id);
      return;
    }
    if (slices >= CHECK_AFTER_SLICES) this.look();
  }

  /** Reads every blocked thread's record; reports a cycle through this thread seen at two looks running. */
  private look(): void {
    const blocked = this.blockedThreads();
    const cycle = cycleThrough(this.t.id, blocked.map((b) => b.record));
    if (cycle === null) {
      this.suspect = '';
      return;
    }
    // The lowest thread of the cycle reports it, so one cycle makes one report.
    if (Math.min(...cycle.map((b) => b.thread)) !== this.t.id) return;
    const key = cycle.map((c) => `${c.thread}:${blocked.find((b) => b.record.thread === c.thread)!.seq}`).join(',');
    if (key !== this.suspect) {
      this.suspect = key;
      return;
    }
    if (Atomics.compareExchange(this.arena.a, C_DEADLOCK, 0, this.t.id + 1) !== 0) return; // another cycle's report came first
    this.report(cycle, new Map(blocked.map((b) => [b.record.thread, b.how])));
  }

  private blockedThreads(): { record: Blocked; seq: number; how: number }[] {
    const a = this.arena.a;
    const out: { record: Blocked; seq: number; how: number }[] = [];
    for (let t = 0; t < this.arena.threadCount; t++) {
      const s = this.arena.threadSlot(t);
      const seq = Atomics.load(a, s + T_WAIT_SEQ);
      if ((seq & 1) !== 0) continue; // being rewritten: it is moving, so not deadlocked now
      const waitsFor = a[s + T_WAIT_FOR]!;
      if (waitsFor === 0) continue;
      const n = Math.min(a[s + T_HOLDS_COUNT]!, HOLDS_PUBLISHED_MAX);
      const holds: number[] = [];
      for (let k = 0; k < n; k++) holds.push(a[s + T_HOLDS + k]!);
      const how = a[s + T_WAIT_HOW]!;
      if (Atomics.load(a, s + T_WAIT_SEQ) !== seq) continue;
      out.push({ record: { thread: t, waitsFor, holds }, seq, how });
    }
    return out;
  }

  /** Builds the report, logs it (record), and throws it. */
  private report(cycle: Blocked[], hows: Map<number, number>): never {
    const links: DeadlockLink[] = cycle.map((b, k) => ({
      thread: b.thread,
      waitsFor: b.waitsFor,
      object: `${howNames[hows.get(b.thread) ?? 0] ?? 'object'} ${this.arena.describeObject(b.waitsFor)}`,
      heldBy: cycle[(k + 1) % cycle.length]!.thread,
    }));
    const e = deadlockCycle(links);
    if (this.t.current() === Mode.Record) {
      this.t.recPayload(Kind.Error, ERROR_DEADLOCK, new TextEncoder().encode(JSON.stringify({ links })));
    }
    throw e;
  }
}
