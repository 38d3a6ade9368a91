// The bank service's replicated state, all in registered shared memory (so a backup that joins by
// state transfer gets it): account balances under one mutex per account, and the table of
// applied requests under its own mutex. The table makes a resent request (a client retrying
// after a failover) idempotent: it is answered again from the table, never applied twice.
//
// Applied table: REQUESTS_MAX entries of ENTRY_SLOTS Int32 slots, open addressing on a 64-bit
// FNV-1a hash of the request id:
//   0,1 key (hash high, low; 0,0 = empty)  2 state (1 running, 2 done)  3 ok  4 from balance
//   5 to balance  6 first output's thread  7 first output's sequence

import type { LockstepThread } from 'lockstep';

export const ENTRY_SLOTS = 8;
const EMPTY = 0;
export const RUNNING = 1;
export const DONE = 2;

export interface Request {
  requestId: string;
  op: 'transfer' | 'balance' | 'quit';
  from?: number;
  to?: number;
  amount?: number;
  account?: number;
}

export interface Answer {
  ok: boolean;
  from?: number;
  to?: number;
  balance?: number;
  error?: string;
}

/** What a pool task emits on the "reply" output; `responseId` is the id of the first answer. */
export interface Reply {
  requestId: string;
  responseId: string | null;
  answer: Answer;
}

/** 64-bit FNV-1a of the request id, as two Int32 halves (never both 0). */
export function requestKey(id: string): [number, number] {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < id.length; i++) h = BigInt.asUintN(64, (h ^ BigInt(id.charCodeAt(i))) * 0x100000001b3n);
  const hi = Number(h >> 32n) | 0;
  const lo = Number(h & 0xffffffffn) | 0;
  return hi === 0 && lo === 0 ? [0, 1] : [hi, lo];
}

export class Ledger {
  constructor(readonly balances: Int32Array, readonly applied: Int32Array, readonly requestsMax: number) {}

  static create(t: LockstepThread, accounts: number, initial: number, requestsMax: number): void {
    t.shared('balances', Int32Array, accounts).fill(initial);
    t.shared('applied', Int32Array, requestsMax * ENTRY_SLOTS);
    t.mutexes('account', accounts);
    t.mutex('appliedLock');
  }

  static attach(t: LockstepThread): Ledger {
    const applied = t.shared('applied', Int32Array);
    return new Ledger(t.shared('balances', Int32Array), applied, applied.length / ENTRY_SLOTS);
  }

  /** The entry's first slot for `key`, or of the empty slot where it goes. Caller holds the table's mutex. */
  find(key: [number, number]): number {
    const a = this.applied;
    let i = ((key[1] >>> 0) % this.requestsMax) * ENTRY_SLOTS;
    for (let probes = 0; probes < this.requestsMax; probes++) {
      const hi = a[i]!;
      const lo = a[i + 1]!;
      if ((hi === key[0] && lo === key[1]) || (hi === EMPTY && lo === EMPTY)) return i;
      i = (i + ENTRY_SLOTS) % a.length;
    }
    throw new Error(`the applied-requests table is full (${this.requestsMax} requests); raise BANK_REQUESTS_MAX`);
  }

  total(): number {
    let sum = 0;
    for (const b of this.balances) sum += b;
    return sum;
  }

  /** Every applied request, for the summary a test checks against what its clients were told. */
  entries(): { key: string; ok: boolean; from: number; to: number; output: string }[] {
    const a = this.applied;
    const out = [];
    for (let i = 0; i < a.length; i += ENTRY_SLOTS) {
      if (a[i + 2] !== DONE) continue;
      out.push({ key: `${(a[i]! >>> 0).toString(16)}:${(a[i + 1]! >>> 0).toString(16)}`, ok: a[i + 3] === 1, from: a[i + 4]!, to: a[i + 5]!, output: `${a[i + 6]}:${a[i + 7]}` });
    }
    return out;
  }
}
