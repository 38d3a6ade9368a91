// Lock-order inversion: one thread takes "a" then "b", the other "b" then "a". When both hold
// their first lock at once, each waits for the other forever: lockstep's deadlock detection
// reports the cycle (ERR_DEADLOCK) instead of a hang.

import { attach } from 'lockstep/worker';
import { isMainThread, roleOf, runBug } from './bug.js';

if (isMainThread) {
  await runBug({
    threads: 2,
    entry: import.meta.url,
    setup: (s) => {
      s.mutex('a');
      s.mutex('b');
      s.shared('moved', Int32Array, 1);
    },
    check: () => ({ symptom: null, state: {} }),
  });
} else {
  const t = attach();
  const [first, second] = roleOf(t.data) === 0 ? [t.mutex('a'), t.mutex('b')] : [t.mutex('b'), t.mutex('a')]; // BUG: two orders
  const moved = t.shared('moved', Int32Array);
  first.with(() => second.with(() => { moved[0] = moved[0]! + 1; }));
}
