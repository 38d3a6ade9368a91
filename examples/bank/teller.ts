// One teller: `transfers` random transfers. Randomness comes from t.random(), which lockstep
// records and replays.

import { attach } from 'lockstep/worker';

const t = attach();
const { transfers } = t.data as { transfers: number };
const balances = t.shared('balances', Int32Array);
const history = t.shared('history', Int32Array);
const locks = t.mutexes('account');
const n = balances.length;

for (let i = 0; i < transfers; i++) {
  const from = Math.floor(t.random() * n);
  const to = (from + 1 + Math.floor(t.random() * (n - 1))) % n;
  const amount = 1 + Math.floor(t.random() * 100);
  const [first, second] = from < to ? [from, to] : [to, from];
  locks[first]!.lock();
  locks[second]!.lock();
  try {
    if (balances[from]! >= amount) {
      balances[from]! -= amount;
      balances[to]! += amount;
    }
    history[from] = (Math.imul(history[from]!, 31) + t.id * 7919 + amount) | 0;
    history[to] = (Math.imul(history[to]!, 31) + t.id * 7919 + amount) | 0;
  } finally {
    locks[second]!.unlock();
    locks[first]!.unlock();
  }
}
