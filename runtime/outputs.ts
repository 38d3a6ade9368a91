// Output delivery on the main thread: every thread's outputs reach the program's sinks here (a
// worker's by message, the main thread's directly), through the output gate on a replicated node.
// finish() waits until the sinks have seen as many outputs as the threads counted, and the run's
// digest covers each thread's chained output digest.

import type { Arena } from '../engine/arena.js';
import { T_OUTPUTS, T_OUTPUT_DIGEST } from '../engine/arena_layout.js';
import { LockstepError } from '../engine/errors.js';
import { live, type Output } from '../engine/thread_api.js';
import type { Replica } from '../replication/replica.js';

export class Outputs {
  private readonly sinks: ((o: Output) => void)[] = [];
  /** Outputs delivered so far, per thread (a joining backup starts from the snapshot's counts). */
  readonly delivered = new Map<number, number>();

  /** `gate`: a replicated node's replica, which holds each output until the backup has its events. */
  constructor(private readonly arena: Arena, private readonly gate: Replica | null) {}

  /** Attaches an output sink: called once per output of any thread, with its deterministic id. */
  onOutput(sink: (o: Output) => void): void {
    this.sinks.push(sink);
  }

  /** One output a thread emitted: counted, then to the sinks (through the gate when replicated). */
  emit(o: Output): void {
    this.delivered.set(o.thread, (this.delivered.get(o.thread) ?? 0) + 1);
    if (this.gate) this.gate.admit(o);
    else this.sink(o);
  }

  /** Hands an output to every sink (the gate calls this once it releases one). */
  sink(o: Output): void {
    for (const sink of this.sinks) sink(o);
  }

  /** Waits until the sinks have seen every output the threads emitted (they travel by message). */
  async allDelivered(): Promise<void> {
    const started = live.perfNow();
    for (;;) {
      let missing = 0;
      for (let t = 0; t < this.arena.threadCount; t++) {
        missing += Atomics.load(this.arena.a, this.arena.threadSlot(t) + T_OUTPUTS) - (this.delivered.get(t) ?? 0);
      }
      if (missing === 0) return;
      if (live.perfNow() - started > this.arena.limits.stallMsMax) {
        throw new LockstepError('ERR_REPLAY_STALL', `${missing} outputs never reached the main thread's sinks`);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** Every thread's chained output digest, in thread order: outputs are part of the run digest. */
  digests(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let t = 0; t < this.arena.threadCount; t++) {
      const slot = this.arena.threadSlot(t) + T_OUTPUT_DIGEST;
      out.push(new Uint8Array(this.arena.a.slice(slot, slot + 8).buffer));
    }
    return out;
  }
}
