// The document store's pool task: takes the next request from the "requests" channel (the main
// thread put it there with session.input), applies it to the store (the CPU work outside the
// key's lock, the slot update under it) and emits the answer on the "reply" output.

import type { WorkerThread } from 'lockstep/worker';
import { DocStore, type Reply, type Request } from './store.js';

let store: DocStore | null = null;

export default function serve(_: unknown, t: WorkerThread): void {
  const req = t.channel<Request>('requests').receive();
  if (req === undefined) throw new Error('a docstore worker found the requests channel closed');
  store ??= DocStore.attach(t, true);
  t.output('reply', { requestId: req.requestId, answer: store.apply(req) } satisfies Reply);
}
