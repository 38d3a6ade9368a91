// Barrier misuse: two threads each write a partial result, meet at a barrier, and the thread the
// barrier names (wait() returns true: the last to arrive) adds the partials up. The other thread
// goes straight on to clear its partial for the next round, with no second barrier between the
// reading and the clearing. The last to arrive runs on at once while the other is still waking
// up, so the sum is almost always read in time.

import { attach } from 'lockstep/worker';
import { isMainThread, roleOf, runBug } from './bug.js';

const THREADS = 2;

if (isMainThread) {
  await runBug({
    threads: THREADS,
    entry: import.meta.url,
    setup: (s) => {
      s.barrier('phase', THREADS);
      s.atomics('partial', THREADS);
      s.atomics('sum', 1);
    },
    check: (s) => {
      const sum = s.atomics('sum').load(0);
      return { symptom: sum === 30 ? null : `the sum is ${sum}, not 30: a partial was cleared before it was added`, state: { sum } };
    },
  });
} else {
  const t = attach();
  const me = roleOf(t.data);
  const partial = t.atomics('partial');
  partial.store(me, (me + 1) * 10);
  if (t.barrier('phase').wait()) {
    let sum = 0;
    for (let i = 0; i < THREADS; i++) sum += partial.load(i);
    t.atomics('sum').store(0, sum);
  } else {
    partial.store(me, 0); // BUG: the serial thread may not have read it yet (a second wait() belongs here)
  }
}
