// A race on unregistered state: the threads count into a plain SharedArrayBuffer that lockstep
// does not know (not registered, not behind a lockstep object), with a read, some logged work (an
// atomic), and a write. An increment that lands in another's window is lost. lockstep replays
// the order of the atomics, not of these plain accesses (the program breaks the data-race-free
// contract), so a replay of a failing log may or may not fail again: the fix is to register the
// counter and use an atomic or a lock.

import { attach } from 'lockstep/worker';
import { isMainThread, runBug } from './bug.js';

const THREADS = 2;
const ROUNDS = 3;

if (isMainThread) {
  const plain = new Int32Array(new SharedArrayBuffer(4));
  await runBug({
    threads: THREADS,
    entry: import.meta.url,
    data: { plain: plain.buffer },
    setup: (s) => s.atomics('work', 1),
    check: () => {
      const count = Atomics.load(plain, 0);
      return { symptom: count === THREADS * ROUNDS ? null : `${count} counted, ${THREADS * ROUNDS} made`, state: { count } };
    },
  });
} else {
  const t = attach();
  const plain = new Int32Array((t.data as { plain: SharedArrayBuffer }).plain);
  const work = t.atomics('work');
  for (let r = 0; r < ROUNDS; r++) {
    const seen = plain[0]!; // BUG: unregistered, unsynchronised read-modify-write
    work.add(0, 1);
    plain[0] = seen + 1;
  }
}
