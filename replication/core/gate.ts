// The output gate, as a pure core: which outputs may leave a replicated node, and when. No clock
// (the driver passes `now`), no sockets, no workers; replica.ts drives it and emits what it returns.
//
// A primary releases an output only once the backup has acknowledged the frame holding the
// output's event (the drain ships in causal order, so that frame's prefix holds its causal past
// too); running alone, it releases at once. Per thread, outputs leave in order: one held back holds
// back the thread's later ones. A backup holds every output it replays and forgets those the
// primary reports released; at cutover it re-emits the rest, with the same ids, and from then on
// drops only what the old primary had released.

/** What the gate needs of an output: whose it is and its place in that thread's outputs. */
export interface GateOutput {
  thread: number;
  seq: number;
}

/** An output the gate let go, and how long it waited inside (the added latency). */
export interface Released<O extends GateOutput> {
  o: O;
  waitedMs: number;
}

export class OutputGate<O extends GateOutput> {
  role: 'primary' | 'backup';
  /** Primary: no backup follows, so nothing needs an acknowledgement (the gate is open). */
  alone = false;
  /** Fail-stop: nothing leaves any more. */
  stopped = false;
  private held: { o: O; at: number }[] = [];
  /** Primary: per thread, outputs the backup holds (free below this). Backup: released by the primary. */
  private safe: number[] = [];
  /** Per thread, outputs this node released (one past the last). */
  private readonly releasedMarks: number[] = [];
  /** A backup that took over: per thread, the outputs the old primary had released (never re-emitted). */
  private oldReleased: number[] | null = null;

  constructor(role: 'primary' | 'backup') {
    this.role = role;
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Per thread, one past the last output this node released (sent to the backup). */
  released(): number[] {
    return this.releasedMarks.slice();
  }

  /** An output reached the main thread: it leaves now (returned), waits, or is dropped. */
  admit(o: O, now: number): Released<O>[] {
    if (this.stopped) return [];
    if (this.role === 'backup') {
      if (o.seq >= (this.safe[o.thread] ?? 0)) this.held.push({ o, at: now });
      return [];
    }
    // A new primary drops what the old one had released.
    if (this.oldReleased && o.seq < (this.oldReleased[o.thread] ?? 0)) return [];
    if (this.held.length === 0 && this.free(o)) return [this.out(o, 0)];
    this.held.push({ o, at: now });
    return this.releaseSafe(now);
  }

  /** Primary: the backup acknowledged frames holding, per thread, outputs below `outputs`. */
  acked(outputs: readonly number[], now: number): Released<O>[] {
    this.safe = outputs.slice();
    return this.releaseSafe(now);
  }

  /** Primary: no backup follows any more (it won the next epoch alone, or none connected). */
  goAlone(now: number): Released<O>[] {
    this.alone = true;
    return this.releaseSafe(now);
  }

  /** Primary: a backup follows again (joined from a snapshot). */
  followed(): void {
    this.alone = false;
  }

  /** Backup: the primary released, per thread, the outputs below `outputs`; they are never re-emitted. */
  primaryReleased(outputs: readonly number[]): void {
    if (this.role !== 'backup') return;
    this.safe = outputs.slice();
    this.held = this.held.filter((h) => h.o.seq >= (this.safe[h.o.thread] ?? 0));
  }

  /** Cutover: this node is now the primary, alone; what the old primary may not have released goes out. */
  cutover(now: number): Released<O>[] {
    if (this.role !== 'backup') return [];
    this.oldReleased = this.safe;
    this.safe = [];
    this.role = 'primary';
    this.alone = true;
    const again = this.held;
    this.held = [];
    const out: Released<O>[] = [];
    for (const h of again) {
      for (const r of this.admit(h.o, now)) out.push({ o: r.o, waitedMs: now - h.at });
    }
    return out;
  }

  /** Fail-stop: everything held is dropped, nothing more leaves. */
  stop(): void {
    this.stopped = true;
    this.held = [];
  }

  private free(o: O): boolean {
    if (this.role === 'backup') return false;
    return this.alone || o.seq < (this.safe[o.thread] ?? 0);
  }

  private releaseSafe(now: number): Released<O>[] {
    if (this.held.length === 0 || this.stopped) return [];
    const out: Released<O>[] = [];
    const keep: { o: O; at: number }[] = [];
    const blocked = new Set<number>();
    for (const h of this.held) {
      if (blocked.has(h.o.thread) || !this.free(h.o)) {
        blocked.add(h.o.thread);
        keep.push(h);
        continue;
      }
      out.push(this.out(h.o, now - h.at));
    }
    this.held = keep;
    return out;
  }

  private out(o: O, waitedMs: number): Released<O> {
    this.releasedMarks[o.thread] = Math.max(this.releasedMarks[o.thread] ?? 0, o.seq + 1);
    return { o, waitedMs };
  }
}
