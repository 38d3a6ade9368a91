// Where and when one request is sent next: the pure core of the client's failover. It reads no
// clock; the caller passes `now` (ms, any monotonic origin) and carries out the step.
//
// Order: round robin over the nodes starting from `first` (the node that last answered 200), a pause
// of retryDelayMs after each full round, until deadlineMs has passed since the request started. No
// attempt may outlive the deadline, so each one's timeout is clipped to the time left.

import { assert } from '../engine/assert.js';

export interface RetryPolicy {
  nodeCount: number;
  attemptTimeoutMs: number;
  retryDelayMs: number;
  deadlineMs: number;
}

export type Step =
  | { kind: 'send'; node: number; timeoutMs: number }
  | { kind: 'wait'; ms: number }
  | { kind: 'expired' };

export class Retry {
  /** Sends made so far, including one in flight. */
  private sent = 0;
  private paused = false;

  constructor(private readonly policy: RetryPolicy, private readonly first: number, private readonly startedMs: number) {
    assert(policy.nodeCount >= 1, 'retry: no nodes');
    assert(first >= 0 && first < policy.nodeCount, `retry: first node ${first} out of range`);
  }

  get attempts(): number {
    return this.sent;
  }

  next(nowMs: number): Step {
    const leftMs = this.startedMs + this.policy.deadlineMs - nowMs;
    if (leftMs <= 0) return { kind: 'expired' };
    const roundDone = this.sent > 0 && this.sent % this.policy.nodeCount === 0;
    if (roundDone && !this.paused && this.policy.retryDelayMs > 0) {
      this.paused = true;
      return { kind: 'wait', ms: Math.min(this.policy.retryDelayMs, leftMs) };
    }
    this.paused = false;
    const node = (this.first + this.sent) % this.policy.nodeCount;
    this.sent++;
    return { kind: 'send', node, timeoutMs: Math.min(this.policy.attemptTimeoutMs, leftMs) };
  }
}
