// Lost update through check-then-act across two critical sections: each thread checks the
// balance under the lock, lets go, and withdraws under the lock again. Between the two, another
// thread may withdraw too, and the balance goes negative.

import { attach } from 'lockstep/worker';
import { isMainThread, runBug } from './bug.js';

const THREADS = 2;
const AMOUNT = 60;

if (isMainThread) {
  await runBug({
    threads: THREADS,
    entry: import.meta.url,
    setup: (s) => {
      s.shared('balance', Int32Array, 1)[0] = 100;
      s.mutex('account');
    },
    check: (s) => {
      const balance = s.shared('balance', Int32Array)[0]!;
      return { symptom: balance >= 0 ? null : `the balance went negative: ${balance}`, state: { balance } };
    },
  });
} else {
  const t = attach();
  const balance = t.shared('balance', Int32Array);
  const lock = t.mutex('account');
  const enough = lock.with(() => balance[0]! >= AMOUNT);
  // BUG: the check's answer is stale once the lock is released.
  if (enough) lock.with(() => { balance[0] = balance[0]! - AMOUNT; });
}
