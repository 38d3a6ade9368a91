// The plain worker_threads baseline's pool: what a careful programmer writes without lockstep.
// A fixed set of workers; each task goes to the least busy worker when submitted (lockstep's pool
// places tasks the same way) and a worker runs its tasks one at a time in arrival order. Payloads
// and results travel by postMessage; shared state is a SharedArrayBuffer given to every worker
// at start. Used by the plain_* programs of bench/macro (issue 11, target 3: mode off against
// the same program written with plain worker_threads + Atomics).

import { Worker } from 'node:worker_threads';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  worker: number;
}

export class PlainPool {
  private readonly workers: Worker[];
  private readonly busy: number[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(file: URL, count: number, data: unknown) {
    this.busy = new Array<number>(count).fill(0);
    this.workers = Array.from({ length: count }, (_, i) => {
      const w = new Worker(file, { workerData: { ...(data as object), worker: i + 1 } });
      w.on('message', (m: { id: number; result?: unknown; error?: string }) => {
        const p = this.pending.get(m.id)!;
        this.pending.delete(m.id);
        this.busy[p.worker]!--;
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.result);
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      return w;
    });
  }

  run<R>(payload: unknown): Promise<R> {
    let w = 0;
    for (let i = 1; i < this.busy.length; i++) if (this.busy[i]! < this.busy[w]!) w = i;
    this.busy[w]!++;
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, worker: w });
      this.workers[w]!.postMessage({ id, payload });
    });
  }

  map<R>(payloads: unknown[]): Promise<R[]> {
    return Promise.all(payloads.map((p) => this.run<R>(p)));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** The worker side: answers each task message with `fn(payload)`'s result, or its error. */
export function serveTasks(fn: (payload: unknown) => unknown, port: { on(e: 'message', f: (m: { id: number; payload: unknown }) => void): void; postMessage(m: unknown): void }): void {
  port.on('message', ({ id, payload }) => {
    try {
      port.postMessage({ id, result: fn(payload) });
    } catch (e) {
      port.postMessage({ id, error: (e as Error).message });
    }
  });
}
