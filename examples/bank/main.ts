// The bank: 4 tellers make random transfers between 64 accounts, each transfer under the two
// accounts' mutexes (taken in index order, so no deadlock). Every transfer also folds the
// teller's id into both accounts' order-sensitive history hash, so two runs agree only if the
// locks were taken in the same order. Runs unchanged in LOCKSTEP_MODE=off, record and replay.

import { start } from 'lockstep';

export const ACCOUNTS = 64;
export const TELLERS = 4;

const transfers = Number(process.env.BANK_TRANSFERS ?? 20_000);
const session = await start();
const balances = session.shared('balances', Int32Array, ACCOUNTS);
session.shared('history', Int32Array, ACCOUNTS);
session.mutexes('account', ACCOUNTS);
balances.fill(1_000);

const tellers = session.spawn(new URL('./teller.js', import.meta.url), { count: TELLERS, data: { transfers } });
const exits = await tellers.exited;
for (const e of exits) if (!e.ok) throw e.error;
const total = balances.reduce((sum, x) => sum + x, 0);
const result = await session.finish();
console.log(JSON.stringify({ mode: result.mode, digest: result.digest, total, threads: result.threads, events: result.events, logBytes: result.logBytes }));
