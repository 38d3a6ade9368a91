// A run's failure, fail-stop: the first error any part reports (a thread, the drain, the replay
// pump, the replica, finish()) becomes the run's, the promise every waiter races against rejects
// with it, and the session's stop (given to the constructor) wakes every thread and ends every
// worker. Later errors are the first one's consequences and are dropped.

import { LockstepError, divergence } from '../engine/errors.js';
import { Kind, kindOf } from '../engine/event.js';
import { Mode, type Thread } from '../engine/thread.js';

export class RunFailure {
  /** The run's failure, once it failed. */
  error: Error | null = null;
  /** Rejects with the run's failure; what waits on threads or the log races against it. */
  readonly failed: Promise<never>;
  private reject!: (e: Error) => void;

  constructor(
    private readonly thread: Thread,
    /** What failing does to the rest of the run (the session's): wake, terminate, report. */
    private readonly stop: (e: Error) => void,
  ) {
    this.failed = new Promise<never>((_, reject) => (this.reject = reject));
    this.failed.catch(() => {});
  }

  /** Fails the run with `e`, unless it already failed. */
  fail(e: Error): void {
    if (this.error) return;
    e = explainStall(this.thread, e);
    this.error = e;
    this.reject(e);
    this.stop(e);
  }

  /** Runs `fn`; a lockstep error it throws on the main thread's path fails the whole run. */
  failOn<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof LockstepError) this.fail(e);
      throw e;
    }
  }
}

/**
 * A replay stall while the main thread still owes a recorded spawn is a divergence of the main
 * thread: it went on waiting where the recording started another thread.
 */
function explainStall(thread: Thread, e: Error): Error {
  if (!(e instanceof LockstepError) || e.code !== 'ERR_REPLAY_STALL' || thread.mode !== Mode.Replay) return e;
  const s = thread.stream!;
  if (s.pos < s.events.length && kindOf(s.events[s.pos]!) === Kind.Spawn) {
    return divergence({
      thread: 0,
      index: thread.index,
      expected: thread.describeNext(),
      actual: `no further spawn while the other threads waited for it (${e.message})`,
      program: thread.program,
    });
  }
  return e;
}
