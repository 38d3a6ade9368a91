// Atomicity violation: each thread increments a shared counter with a load and a store, two
// atomic operations that the programmer took for one. Another thread's increment between them
// is lost. Under most schedules the threads do not overlap and the count comes out right.

import { attach } from 'lockstep/worker';
import { isMainThread, runBug } from './bug.js';

const THREADS = 2;
const ROUNDS = 3;

if (isMainThread) {
  await runBug({
    threads: THREADS,
    entry: import.meta.url,
    setup: (s) => s.atomics('hits', 1),
    check: (s) => {
      const hits = s.atomics('hits').load(0);
      return { symptom: hits === THREADS * ROUNDS ? null : `${hits} hits counted, ${THREADS * ROUNDS} made`, state: { hits } };
    },
  });
} else {
  const hits = attach().atomics('hits');
  for (let r = 0; r < ROUNDS; r++) {
    const seen = hits.load(0);
    hits.store(0, seen + 1); // BUG: should be hits.add(0, 1)
  }
}
