// teller.ts — inside each worker (logical threads 1, 2, … in spawn order)
import { attach } from 'lockstep/worker';

const t = attach();                                   // t.id, t.data, t.seed, t.mode
const accounts = t.shared('accounts', Int32Array);
const locks = t.mutexes('account');
const { transfers } = t.data as { transfers: number };
for (let i = 0; i < transfers; i++) {
  const a = Math.floor(t.random() * 64);              // recorded, replayed
  locks[a]!.with(() => { accounts[a]! += 1; });
}
