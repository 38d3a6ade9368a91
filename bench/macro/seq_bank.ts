// The bank's work done sequentially on one thread, without lockstep or locks: the same number of
// random transfers (BANK_TELLERS × BANK_TRANSFERS) between the same 64 accounts, with the same
// history hash. It is the single-threaded baseline the parallel runs are compared with; its
// balances differ from theirs (the transfers are random), its total must not.

import { envInt } from '../../examples/env.js';
import { transfer } from '../../examples/bank/transfer.js';

const ACCOUNTS = 64;
const BALANCE_START = 1_000;
const total = envInt('BANK_TELLERS', 4, 1, 32) * envInt('BANK_TRANSFERS', 20_000);

const balances = new Int32Array(ACCOUNTS).fill(BALANCE_START);
const history = new Int32Array(ACCOUNTS);
const stamp = 7919;
let moved = 0;
for (let i = 0; i < total; i++) {
  const from = Math.floor(Math.random() * ACCOUNTS);
  const to = (from + 1 + Math.floor(Math.random() * (ACCOUNTS - 1))) % ACCOUNTS;
  const amount = 1 + Math.floor(Math.random() * 100);
  if (transfer(balances, history, from, to, amount, stamp)) moved++;
}
const balance = balances.reduce((sum, x) => sum + x, 0);
if (balance !== ACCOUNTS * BALANCE_START) throw new Error(`the bank lost money: ${balance}`);
console.log(JSON.stringify({ total: balance, transfers: total, moved, history: history.reduce((h, x) => (h ^ x) | 0, 0) }));
