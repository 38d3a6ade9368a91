// The bank (examples/bank) written with plain worker_threads + Atomics, no lockstep: the same
// tellers (BANK_TELLERS workers), the same batches (BANK_BATCHES per teller, BANK_TRANSFERS
// transfers per teller), the same transfer under the two accounts' mutexes (Drepper's, taken in
// index order) with the same history hash, the completion order written as the example writes
// it. Its result line has the example's fields, so the macro bench checks it the same way.

import { envInt } from '../../../examples/env.js';
import { PlainPool } from './pool.js';

const ACCOUNTS = 64;
const BALANCE_START = 1_000;
const tellers = envInt('BANK_TELLERS', 4, 1, 32);
const transfers = envInt('BANK_TRANSFERS', 20_000);
const batchesPerTeller = envInt('BANK_BATCHES', 4, 1, transfers);
const total = tellers * transfers;
const tasks = tellers * batchesPerTeller;

// Layout: balances[ACCOUNTS], history[ACCOUNTS], locks[ACCOUNTS], finished[tasks].
const sab = new SharedArrayBuffer((3 * ACCOUNTS + tasks) * 4);
const balances = new Int32Array(sab, 0, ACCOUNTS).fill(BALANCE_START);
const finished = new Int32Array(sab, 3 * ACCOUNTS * 4, tasks);
const pool = new PlainPool(new URL('./bank_worker.js', import.meta.url), tellers, { sab, accounts: ACCOUNTS });
let seen = 0;
let moved = 0;
await Promise.all(Array.from({ length: tasks }, (_, i) => {
  const n = Math.floor((total * (i + 1)) / tasks) - Math.floor((total * i) / tasks);
  return pool.run<{ moved: number }>({ batch: i, transfers: n }).then((r) => {
    finished[seen++] = i;
    moved += r.moved;
  });
}));
await pool.close();
const balance = balances.reduce((sum, x) => sum + x, 0);
if (balance !== ACCOUNTS * BALANCE_START) throw new Error(`the bank lost money: ${balance} instead of ${ACCOUNTS * BALANCE_START}`);
console.log(JSON.stringify({ mode: 'plain', total: balance, transfers: total, moved, batches: tasks, firstFinished: finished[0] }));
