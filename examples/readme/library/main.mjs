// main.mjs — the same program in plain JavaScript (ESM: .mjs, or "type": "module")
import { start } from 'lockstep';

const session = await start();
const accounts = session.shared('accounts', Int32Array, 64);
session.mutexes('account', 64);
const tellers = session.spawn(new URL('./teller.mjs', import.meta.url), { count: 4, data: { transfers: 1000 } });
const exits = await tellers.exited;
const result = await session.finish();
console.log(result.mode, exits.every((e) => e.ok), accounts.reduce((a, b) => a + b, 0), result.digest);
