// Barrier misuse: two threads each write a partial result, meet at a barrier, and the thread the
// barrier names (wait() returns true: the last to arrive) adds the partials up. The other thread
// prepares the next round (a millisecond of work), clears its partial and says it is ready, with
// no second barrier between the adding up and the clearing. The adding up takes microseconds, so
// it is almost always done in time.

import { attach } from 'lockstep/worker';
import { isMainThread, roleOf, runBug } from './bug.js';

const THREADS = 2;
/** About a millisecond of work. */
const PREPARE_STEPS = 1_000_000;

if (isMainThread) {
  await runBug({
    threads: THREADS,
    entry: import.meta.url,
    setup: (s) => {
      s.barrier('phase', THREADS);
      s.atomics('partial', THREADS);
      s.atomics('sum', 1);
      s.atomics('ready', 1);
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
    let x = 0;
    for (let i = 0; i < PREPARE_STEPS; i++) x = (Math.imul(x, 31) + i) | 0; // the next round's set-up
    if (x === 1) console.log('');
    partial.store(me, 0); // BUG: the adding up may not have happened yet (a second wait() belongs here)
    t.atomics('ready').add(0, 1);
  }
}
