// Condition variable (futex style: a sequence word that notify bumps). A waiter's wake-up is
// observed through its mutex: the re-acquisition is an ordered lock event, and the reason
// (notified or timed out) is a recorded value. Replay therefore never sleeps on the condition
// itself: it releases the mutex and re-takes it at its recorded version, so a recorded timeout
// costs no time and a recorded notification needs no notifier.
//
// Footprint: Condition.SLOTS = 1.  0: sequence word.

import { notHeld, usage } from '../errors.js';
import { Kind } from '../event.js';
import { Mode, type Thread } from '../thread.js';
import type { Mutex } from './mutex.js';

export type WaitResult = 'ok' | 'timed-out';

export class Condition {
  static readonly SLOTS = 1;

  constructor(private readonly t: Thread, readonly id: number, private readonly s: number) {}

  /** Releases `mutex`, waits for a notification (or `timeoutMs`), re-acquires `mutex`. */
  wait(mutex: Mutex, timeoutMs?: number): WaitResult {
    const t = this.t;
    if (!mutex.heldHere) throw notHeld(t.id, `waited on condition ${this.id} without holding mutex ${mutex.id}`);
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) throw usage(`condition.wait timeoutMs must be a non-negative number, got ${timeoutMs}`);
    const mode = t.current();
    if (mode === Mode.Replay) {
      const reason = t.expect(Kind.WaitResult, this.id);
      mutex.unlock();
      mutex.lock();
      return reason === 0 ? 'ok' : 'timed-out';
    }
    const seq = Atomics.load(t.a, this.s);
    mutex.unlock();
    const r = Atomics.wait(t.a, this.s, seq, timeoutMs ?? Infinity);
    const reason = r === 'timed-out' ? 1 : 0;
    if (mode === Mode.Record) t.rec(Kind.WaitResult, this.id, reason);
    mutex.lock();
    return reason === 0 ? 'ok' : 'timed-out';
  }

  notify(count = 1): void {
    Atomics.add(this.t.a, this.s, 1);
    Atomics.notify(this.t.a, this.s, count);
  }

  notifyAll(): void {
    this.notify(Infinity);
  }
}
