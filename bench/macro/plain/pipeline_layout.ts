// The plain pipeline's shared memory (pipeline.ts, pipeline_worker.ts): two bounded buffers, the
// raw one (producers → transformers) and the cooked one (transformers → consumer, in place of
// the example's lockstep channel, closed when its last "producer", the last transformer, is
// done), each with a Drepper mutex and two conditions, and the consumer's result words.

import { BoundedBuffer } from '../../../examples/pipeline/bounded_buffer.js';
import { DrepperMutex } from '../../drepper_mutex.js';
import { PlainCondition } from './condition.js';

export interface Buffers {
  raw: BoundedBuffer;
  cooked: BoundedBuffer;
  result: Int32Array;
}

/** Lays out (init: also sets the producer counts) and attaches both buffers in `sab`. */
export function buffers(sab: SharedArrayBuffer, capacity: number, init?: { producers: number; transformers: number }): Buffers {
  const n = BoundedBuffer.slots(capacity);
  const sync = new Int32Array(sab, 0, 6);
  const rawWords = new Int32Array(sab, 6 * 4, n);
  const cookedWords = new Int32Array(sab, (6 + n) * 4, n);
  if (init) {
    rawWords[BoundedBuffer.PRODUCERS_SLOT] = init.producers;
    cookedWords[BoundedBuffer.PRODUCERS_SLOT] = init.transformers;
  }
  return {
    raw: BoundedBuffer.over(rawWords, new DrepperMutex(sync, 0), new PlainCondition(sync, 1), new PlainCondition(sync, 2)),
    cooked: BoundedBuffer.over(cookedWords, new DrepperMutex(sync, 3), new PlainCondition(sync, 4), new PlainCondition(sync, 5)),
    result: new Int32Array(sab, (6 + 2 * n) * 4, 3),
  };
}

export function bytesFor(capacity: number): number {
  return (6 + 2 * BoundedBuffer.slots(capacity) + 3) * 4;
}
