// main.ts — the main thread is logical thread 0
import { start } from 'lockstep';

const session = await start();                                     // mode and log from LOCKSTEP_MODE / LOCKSTEP_LOG,
                                                                   // or start({ mode: 'record', log: 'bank.lsl' })
const accounts = session.shared('accounts', Int32Array, 64);       // registered shared memory
session.mutexes('account', 64);                                    // 64 mutexes, ids fixed by creation order
const tellers = session.spawn(new URL('./teller.js', import.meta.url), { count: 4, data: { transfers: 1000 } });
const exits = await tellers.exited;                                // [{ thread, ok, error? }, …]
const result = await session.finish();                             // { mode, digest, threads, events, log, logBytes }
console.log(result.mode, exits.every((e) => e.ok), accounts.reduce((a, b) => a + b, 0), result.digest);
