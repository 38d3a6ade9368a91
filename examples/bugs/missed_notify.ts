// Missed notification: the waiter (started first) checks the flag outside the lock and then waits; the notifier
// sets the flag and notifies without the lock. A notification that lands between the check and
// the wait is lost, and the waiter sleeps until its timeout (here: the symptom).

import { attach } from 'lockstep/worker';
import { isMainThread, roleOf, runBug } from './bug.js';

const TIMEOUT_MS = 300;

if (isMainThread) {
  await runBug({
    threads: 2,
    entry: import.meta.url,
    gapMs: 50,
    setup: (s) => {
      s.atomics('flag', 1);
      s.mutex('m');
      s.condition('ready');
    },
    check: () => ({ symptom: null, state: {} }),
  });
} else {
  const t = attach();
  const flag = t.atomics('flag');
  const m = t.mutex('m');
  const ready = t.condition('ready');
  if (roleOf(t.data) === 0) {
    if (flag.load(0) === 0) { // BUG: checked outside the lock, and not re-checked in a loop
      m.lock();
      const r = ready.wait(m, TIMEOUT_MS);
      m.unlock();
      if (r === 'timed-out') throw new Error('missed the notification: waited out the timeout although the flag was set');
    }
  } else {
    flag.store(0, 1);
    ready.notifyAll(); // BUG: not under the lock
  }
}
