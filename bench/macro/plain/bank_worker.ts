// A teller of the plain bank (bank.ts): the example's teller task with Math.random and Drepper
// mutexes in place of t.random() and lockstep mutexes.

import { parentPort, workerData } from 'node:worker_threads';
import { transfer } from '../../../examples/bank/transfer.js';
import { DrepperMutex } from '../../drepper_mutex.js';
import { serveTasks } from './pool.js';

const { sab, accounts: n, worker } = workerData as { sab: SharedArrayBuffer; accounts: number; worker: number };
const balances = new Int32Array(sab, 0, n);
const history = new Int32Array(sab, n * 4, n);
const words = new Int32Array(sab, 2 * n * 4, n);
const locks = Array.from({ length: n }, (_, i) => new DrepperMutex(words, i));

serveTasks((p) => {
  const { batch, transfers } = p as { batch: number; transfers: number };
  const stamp = worker * 7919 + batch * 104_729;
  let moved = 0;
  for (let i = 0; i < transfers; i++) {
    const from = Math.floor(Math.random() * n);
    const to = (from + 1 + Math.floor(Math.random() * (n - 1))) % n;
    const amount = 1 + Math.floor(Math.random() * 100);
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
}, parentPort!);
