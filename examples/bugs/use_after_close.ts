// Use after close: two producers share a channel with a consumer. The helper producer (started
// first, with one item) is normally long done when the main producer (started a moment later)
// sends its items and closes the channel, as if it were the last. A helper held up sends on a
// closed channel.

import { attach } from 'lockstep/worker';
import { isMainThread, roleOf, runBug } from './bug.js';

const MAIN_ITEMS = 3;
const HELPER_ITEMS = 1;
const CONSUMER = 0;
const HELPER = 1;

if (isMainThread) {
  await runBug({
    threads: 3,
    entry: import.meta.url,
    gapMs: 50,
    setup: (s) => {
      s.channel('items', { capacity: 16, bytesMax: 64 });
    },
    check: () => ({ symptom: null, state: {} }),
  });
} else {
  const t = attach();
  const items = t.channel<number>('items');
  const role = roleOf(t.data);
  if (role === CONSUMER) {
    while (items.receive() !== undefined); // drains until close
  } else {
    const n = role === HELPER ? HELPER_ITEMS : MAIN_ITEMS;
    for (let i = 0; i < n; i++) items.send(i);
    if (role !== HELPER) items.close(); // BUG: nothing says the helper is done
  }
}
