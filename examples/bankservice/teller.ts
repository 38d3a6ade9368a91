// The bank service's pool task: takes the next request from the "requests" channel (the main
// thread put it there with session.input), applies it unless the applied table already holds it,
// and emits the answer on the "reply" output. A repeated request id (a client resending after a
// failover) is answered from the table with the first answer's output id, so a client that
// already had the answer drops it as a duplicate.

import type { WorkerThread } from 'lockstep/worker';
import { DONE, Ledger, RUNNING, requestKey, type Answer, type Reply, type Request } from './ledger.js';

export default function teller(_: unknown, t: WorkerThread): void {
  const req = t.channel<Request>('requests').receive();
  if (req === undefined) throw new Error('a teller found the requests channel closed');
  const ledger = Ledger.attach(t);
  const table = t.mutex('appliedLock');
  const key = requestKey(req.requestId);
  table.lock();
  const at = ledger.find(key);
  const a = ledger.applied;
  if (a[at + 2] === DONE) {
    const answer: Answer = { ok: a[at + 3] === 1, from: a[at + 4], to: a[at + 5] };
    table.unlock();
    t.output('reply', { requestId: req.requestId, responseId: `${a[at + 6]}:${a[at + 7]}`, answer } satisfies Reply);
    return;
  }
  if (a[at + 2] === RUNNING) {
    // The first copy is being applied; its answer goes to whoever waits for this request id.
    table.unlock();
    return;
  }
  a[at] = key[0];
  a[at + 1] = key[1];
  a[at + 2] = RUNNING;
  table.unlock();

  const answer = apply(req, ledger, t);
  const id = t.output('reply', { requestId: req.requestId, responseId: null, answer } satisfies Reply);
  const [thread, seq] = id.split(':').map(Number);
  table.lock();
  a.set([key[0], key[1], DONE, answer.ok ? 1 : 0, answer.from ?? answer.balance ?? 0, answer.to ?? 0, thread!, seq!], at);
  table.unlock();
}

function apply(req: Request, ledger: Ledger, t: WorkerThread): Answer {
  const accounts = t.mutexes('account');
  const n = ledger.balances.length;
  if (req.op === 'balance') {
    const i = req.account ?? -1;
    if (!(Number.isInteger(i) && i >= 0 && i < n)) return { ok: false, error: `no account ${i}` };
    accounts[i]!.lock();
    const balance = ledger.balances[i]!;
    accounts[i]!.unlock();
    return { ok: true, balance, from: balance };
  }
  const { from = -1, to = -1, amount = 0 } = req;
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to >= 0 && from < n && to < n && from !== to)) {
    return { ok: false, error: 'from and to must be two different accounts' };
  }
  if (!(Number.isInteger(amount) && amount > 0)) return { ok: false, error: 'amount must be a positive integer' };
  // Locks in account order: no deadlock between opposite transfers.
  const [first, second] = from < to ? [from, to] : [to, from];
  accounts[first]!.lock();
  accounts[second]!.lock();
  const b = ledger.balances;
  const ok = b[from]! >= amount;
  if (ok) {
    b[from]! -= amount;
    b[to]! += amount;
  }
  const answer = { ok, from: b[from]!, to: b[to]! };
  accounts[second]!.unlock();
  accounts[first]!.unlock();
  return answer;
}
