// tasks.ts
import type { WorkerThread } from 'lockstep/worker';

export default function contend(payload: { n: number }, t: WorkerThread) {
  const order = t.shared('order', Int32Array);
  const m = t.mutex('m');
  for (let i = 0; i < payload.n; i++) m.with(() => { order[0]! += 1; });
  t.output('contend', { worker: t.id });
  return t.id;
}

export function race(name: string, t: WorkerThread) {
  t.output('race', { name, worker: t.id });
  return name;
}
