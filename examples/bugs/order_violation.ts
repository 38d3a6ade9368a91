// Order violation: the main thread starts the loader, goes on with its own set-up for a moment,
// then starts the user. The loader publishes the configuration after a little start-up work
// (each step logged on an atomic "steps" counter); the user assumes it has, since the loader
// started first. Usually true, never guaranteed.

import { attach } from 'lockstep/worker';
import { isMainThread, roleOf, runBug } from './bug.js';

if (isMainThread) {
  await runBug({
    threads: 2,
    entry: import.meta.url,
    gapMs: 150,
    setup: (s) => {
      s.atomics('config', 2);
      s.atomics('steps', 1);
    },
    check: () => ({ symptom: null, state: {} }),
  });
} else {
  const t = attach();
  const config = t.atomics('config');
  const steps = t.atomics('steps');
  if (roleOf(t.data) === 0) {
    steps.add(0, 1); // start-up work
    config.store(1, 4096); // the value…
    config.store(0, 1); // …then "ready"
  } else {
    for (let i = 0; i < 3; i++) steps.add(0, 1); // its own start-up work
    // BUG: no wait for config[0] === 1 (a condition, a barrier, or a channel would order it).
    if (config.load(0) !== 1) throw new Error('the configuration was read before the loader published it');
  }
}
