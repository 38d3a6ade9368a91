// teller.mjs
import { attach } from 'lockstep/worker';

const t = attach();
const accounts = t.shared('accounts', Int32Array);
const locks = t.mutexes('account');
for (let i = 0; i < t.data.transfers; i++) {
  const a = Math.floor(t.random() * 64);
  locks[a].with(() => { accounts[a] += 1; });
}
