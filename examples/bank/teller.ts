// One batch of a teller's work, run as a pool task: `transfers` random transfers. Randomness
// comes from t.random(), which lockstep records and replays; the account locks are lockstep
// mutexes, whose acquisition order it records and replays.

import type { WorkerThread } from 'lockstep/worker';
import { transfer } from './transfer.js';

export interface Batch {
  batch: number;
  transfers: number;
}

export interface BatchResult {
  batch: number;
  /** Transfers that moved money (the others found the source account short). */
  moved: number;
}

export default function teller({ batch, transfers }: Batch, t: WorkerThread): BatchResult {
  const balances = t.shared('balances', Int32Array);
  const history = t.shared('history', Int32Array);
  const locks = t.mutexes('account');
  const n = balances.length;
  // Who made the transfer: the teller (worker) and the batch it was working on.
  const stamp = t.id * 7919 + batch * 104_729;
  let moved = 0;
  for (let i = 0; i < transfers; i++) {
    const from = Math.floor(t.random() * n);
    const to = (from + 1 + Math.floor(t.random() * (n - 1))) % n;
    const amount = 1 + Math.floor(t.random() * 100);
    const [first, second] = from < to ? [from, to] : [to, from];
    locks[first]!.lock();
    locks[second]!.lock();
    try {
      if (transfer(balances, history, from, to, amount, stamp)) moved++;
    } finally {
      locks[second]!.unlock();
      locks[first]!.unlock();
    }
  }
  return { batch, moved };
}
