// An array of atomic Int32 cells. Each cell is its own sync object with its own version, so the
// recorded order is per cell (no global counter). An operation and its version bump happen under
// the cell's own tiny lock, one indivisible step (step.ts); otherwise two threads could apply their
// operations in one order and take versions in the other, and replay would diverge. Replay takes
// the lock too, although the version already grants the cell: its release is what publishes the
// next version's plain store before the waiters are looked at, and its acquisition what makes the
// previous step's value visible. In mode off the cell is a plain Atomics word.
//
// Footprint per cell: AtomicArray.SLOTS_PER_CELL = 3.  0 value, 1 version, 2 guard (futex_lock).

import { lockWord, unlockWord } from '../futex_lock.js';
import { usage } from '../errors.js';
import { Kind } from '../event.js';
import { Mode, type Thread } from '../thread.js';
import { beginStep, endStep, takeStep } from './step.js';

const VALUE = 0;
const VERSION = 1;
const GUARD = 2;

type Op = (old: number, x: number, y: number) => number;

const ops: Record<number, Op> = {
  [Kind.AtomicAdd]: (old, x) => (old + x) | 0,
  [Kind.AtomicSub]: (old, x) => (old - x) | 0,
  [Kind.AtomicAnd]: (old, x) => old & x,
  [Kind.AtomicOr]: (old, x) => old | x,
  [Kind.AtomicXor]: (old, x) => old ^ x,
  [Kind.AtomicExchange]: (_old, x) => x | 0,
  [Kind.AtomicCompareExchange]: (old, x, y) => (old === (x | 0) ? y | 0 : old),
  [Kind.AtomicLoad]: (old) => old,
  [Kind.AtomicStore]: (_old, x) => x | 0,
};

export class AtomicArray {
  static readonly SLOTS_PER_CELL = 3;
  private readonly a: Int32Array;

  constructor(private readonly t: Thread, readonly firstId: number, private readonly s: number, readonly length: number) {
    this.a = t.a;
  }

  /** Applies `kind` to cell `i`; returns the old value (the new one for store, as Atomics.store does). */
  private apply(kind: Kind, i: number, x: number, y: number): number {
    if (!(i >= 0 && i < this.length && Number.isInteger(i))) throw usage(`atomic index ${i} is out of range 0..${this.length - 1}`);
    const a = this.a;
    const c = this.s + i * AtomicArray.SLOTS_PER_CELL;
    const mode = this.t.current();
    if (mode === Mode.Off) return offOp(a, c, kind, x, y);
    const id = this.firstId + i;
    const begun = beginStep(this.t, mode, kind, id, c + VERSION, -1);
    lockWord(a, c + GUARD);
    const old = a[c + VALUE]!;
    // A plain store: every access outside mode off takes the guard, whose release publishes it.
    a[c + VALUE] = ops[kind]!(old, x, y);
    const version = takeStep(a, mode, c + VERSION, begun);
    unlockWord(a, c + GUARD);
    endStep(this.t, mode, kind, id, c + VERSION, version);
    return kind === Kind.AtomicStore ? x | 0 : old;
  }

  add(i: number, x: number): number { return this.apply(Kind.AtomicAdd, i, x, 0); }
  sub(i: number, x: number): number { return this.apply(Kind.AtomicSub, i, x, 0); }
  and(i: number, x: number): number { return this.apply(Kind.AtomicAnd, i, x, 0); }
  or(i: number, x: number): number { return this.apply(Kind.AtomicOr, i, x, 0); }
  xor(i: number, x: number): number { return this.apply(Kind.AtomicXor, i, x, 0); }
  exchange(i: number, x: number): number { return this.apply(Kind.AtomicExchange, i, x, 0); }
  compareExchange(i: number, expected: number, replacement: number): number {
    return this.apply(Kind.AtomicCompareExchange, i, expected, replacement);
  }
  load(i: number): number { return this.apply(Kind.AtomicLoad, i, 0, 0); }
  store(i: number, x: number): number { return this.apply(Kind.AtomicStore, i, x, 0); }

  /** All cell values: one ordered load per cell while recording or replaying (a plain read would race). */
  snapshot(): Int32Array {
    const out = new Int32Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.load(i);
    return out;
  }
}

function offOp(a: Int32Array, c: number, kind: Kind, x: number, y: number): number {
  switch (kind) {
    case Kind.AtomicAdd: return Atomics.add(a, c, x);
    case Kind.AtomicSub: return Atomics.sub(a, c, x);
    case Kind.AtomicAnd: return Atomics.and(a, c, x);
    case Kind.AtomicOr: return Atomics.or(a, c, x);
    case Kind.AtomicXor: return Atomics.xor(a, c, x);
    case Kind.AtomicExchange: return Atomics.exchange(a, c, x);
    case Kind.AtomicCompareExchange: return Atomics.compareExchange(a, c, x, y);
    case Kind.AtomicLoad: return Atomics.load(a, c);
    default: return Atomics.store(a, c, x);
  }
}
