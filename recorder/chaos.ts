// Chaos recording's driver: asks the thread's decision core (engine/chaos.ts) what to do at a
// sync point and does it: spins, sleeps on a private word with Atomics.wait (nothing notifies
// it, so the wait is exactly a sleep and never steals a wake-up from the program), or holds the
// thread back until the other threads have passed some sync points, waiting on C_CHAOS_TICKS.
// A thread whose point woke a held-back thread often holds back in turn until that one has moved
// (ChaosCore.handOff). It keeps the shared words chaos needs: C_CHAOS_TICKS (points passed by
// all threads, notified at each point) and C_CHAOS_LOSER (the last thread that reached a mutex while another held it,
// until it gets through).
//
// Called only while recording and only when chaos is on (thread.chaos !== null): the record
// path pays one null check for it otherwise.

import { ChaosCore, Step, type ChaosOptions } from '../engine/chaos.js';
import { C_CHAOS_LOSER, C_CHAOS_TICKS } from '../engine/arena_layout.js';
import { performance } from 'node:perf_hooks';
import type { ChaosPoint } from '../engine/thread_ports.js';

export class ChaosDriver implements ChaosPoint {
  private readonly core: ChaosCore;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));
  private readonly me: number;
  /** Keeps the spin's result observable so the JIT cannot drop the loop. */
  sink = 0;

  constructor(private readonly a: Int32Array, options: ChaosOptions, thread: number) {
    this.core = new ChaosCore(options, thread);
    this.me = thread + 1;
  }

  /** A sync point; `word` is the lock word the operation is about to take, or -1. */
  point(word: number): void {
    const a = this.a;
    const loser = Atomics.load(a, C_CHAOS_LOSER);
    if (word >= 0 && Atomics.load(a, word) !== 0) {
      if (loser !== this.me) Atomics.store(a, C_CHAOS_LOSER, this.me);
    } else if (loser === this.me) {
      Atomics.compareExchange(a, C_CHAOS_LOSER, this.me, 0);
    }
    const core = this.core;
    const step = core.next(loser !== 0 && loser !== this.me);
    if (step === Step.HoldBack) this.holdBack(core.ticks, core.amount);
    else if (step === Step.Sleep) Atomics.wait(this.sleeper, 0, 0, core.amount);
    else if (step === Step.Spin) this.spin(core.amount);
    Atomics.add(a, C_CHAOS_TICKS, 1);
    if (Atomics.notify(a, C_CHAOS_TICKS) > 0 && core.handOff() === Step.HoldBack) this.holdBack(core.ticks, core.amount);
  }

  /** Waits until the other threads pass `ticks` points, or `ms` elapse (they may all be blocked on this one). */
  private holdBack(ticks: number, ms: number): void {
    const a = this.a;
    const target = (Atomics.load(a, C_CHAOS_TICKS) + ticks) | 0;
    const deadline = performance.now() + ms;
    for (;;) {
      const now = Atomics.load(a, C_CHAOS_TICKS);
      if (((now - target) | 0) >= 0) return;
      const left = deadline - performance.now();
      if (left <= 0) {
        this.core.timedOut();
        return;
      }
      Atomics.wait(a, C_CHAOS_TICKS, now, left);
    }
  }

  private spin(n: number): void {
    let x = this.sink;
    for (let i = 0; i < n; i++) x = (Math.imul(x, 31) + i) | 0;
    this.sink = x;
  }
}
