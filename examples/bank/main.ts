// The bank, on the pool: the tellers (4 by default) are the pool's workers, and the work is
// submitted as batches of transfers (BANK_BATCHES tasks per teller, more tasks than workers). A batch makes
// random transfers between 64 accounts, each under the two accounts' mutexes (taken in index
// order, so no deadlock), and folds the teller's id and the batch into both accounts'
// order-sensitive history hash: two runs agree only if the locks were taken in the same order.
// The main thread writes the order in which it sees the batches finish into shared memory too,
// so the digest also covers the pool's completion order. Runs unchanged in LOCKSTEP_MODE=off,
// record and replay.
//
// Sizes: BANK_TELLERS pool workers (default 4), BANK_TRANSFERS transfers per teller (default
// 20,000), BANK_BATCHES batches per teller (default 4).

import { start } from 'lockstep';
import { envInt } from '../env.js';
import type { Batch, BatchResult } from './teller.js';

export const ACCOUNTS = 64;
export const TELLERS = envInt('BANK_TELLERS', 4, 1, 32);
const BALANCE_START = 1_000;

const transfers = envInt('BANK_TRANSFERS', 20_000);
const batchesPerTeller = envInt('BANK_BATCHES', 4, 1, transfers);

// Every batch gets its share of the transfers; the shares add up to exactly TELLERS × transfers.
const total = TELLERS * transfers;
const tasks = TELLERS * batchesPerTeller;
const batches: Batch[] = Array.from({ length: tasks }, (_, i) => ({
  batch: i,
  transfers: Math.floor((total * (i + 1)) / tasks) - Math.floor((total * i) / tasks),
}));

const session = await start();
const balances = session.shared('balances', Int32Array, ACCOUNTS);
session.shared('history', Int32Array, ACCOUNTS);
const finished = session.shared('finished', Int32Array, tasks);
session.mutexes('account', ACCOUNTS);
balances.fill(BALANCE_START);

const pool = session.pool(new URL('./teller.js', import.meta.url), { workers: TELLERS });
let seen = 0;
let moved = 0;
for await (const c of pool.completions<BatchResult>(batches)) {
  if (!c.ok) throw c.error;
  finished[seen++] = c.index; // only the main thread writes here: no lock needed
  moved += c.value!.moved;
}
const balance = balances.reduce((sum, x) => sum + x, 0);
if (balance !== ACCOUNTS * BALANCE_START) throw new Error(`the bank lost money: ${balance} instead of ${ACCOUNTS * BALANCE_START}`);
const result = await session.finish();
console.log(JSON.stringify({
  mode: result.mode,
  digest: result.digest,
  total: balance,
  transfers: total,
  moved,
  batches: tasks,
  firstFinished: finished[0],
  threads: result.threads,
  events: result.events,
  logBytes: result.logBytes,
}));
