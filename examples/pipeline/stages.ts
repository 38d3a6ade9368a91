// The pipeline's three stages, as task functions of one pool task module. Each stage runs as one
// long task on its own pool worker:
//   produce   → bounded buffer "pipe.raw" (mutex + notEmpty/notFull conditions, bounded_buffer.ts)
//   transform → lockstep channel "pipe.cooked" (bounded; closed by the last transformer)
//   consume   → an order-sensitive checksum of the items in the order it receives them.
// Producers' items are a pure function of (producer, sequence number), so the set of items, and
// their order-insensitive sum, are the same in every run; their order at the consumer is not.

import type { WorkerThread } from 'lockstep/worker';
import { BoundedBuffer } from './bounded_buffer.js';

/** A tag names an item: producer in the high bits, its sequence number in the low SEQ_BITS. */
export const SEQ_BITS = 20;

export interface Cooked {
  tag: number;
  value: number;
  /** The logical thread of the transformer that handled it. */
  by: number;
}

export interface Seen {
  checksum: number;
  sum: number;
  count: number;
  /** The first items the consumer received, as "producer:sequence". */
  first: string[];
}

/** One round of a 32-bit mixer (Murmur3's finaliser). */
export function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) | 0;
}

/**
 * A transformer's work on one item: `work` rounds of mix. The sum is cut to 32 bits before mix
 * sees it, which changes nothing (mix's first step, x >>> 16 and x ^ …, takes it modulo 2^32
 * anyway) but keeps V8 on int32 arithmetic: written as mix(value + i) inside transform, whose
 * value also goes out in an object, V8 kept it a boxed double and the loop took about twice the
 * CPU of the same loop in the plain worker_threads baseline (issue 11, target 3). The baseline
 * and the sequential version call this very function.
 */
export function cook(value: number, work: number): number {
  for (let i = 0; i < work; i++) value = mix((value + i) | 0);
  return value;
}

export function produce({ producer, items }: { producer: number; items: number }, t: WorkerThread): number {
  const raw = BoundedBuffer.attach(t, 'pipe.raw');
  try {
    for (let seq = 0; seq < items; seq++) {
      const tag = (producer << SEQ_BITS) | seq;
      raw.put(tag, mix(tag));
    }
  } finally {
    raw.producerDone(); // even on failure, or the transformers would wait for ever
  }
  return items;
}

export function transform({ work }: { work: number }, t: WorkerThread): number {
  const raw = BoundedBuffer.attach(t, 'pipe.raw');
  const cooked = t.channel<Cooked>('pipe.cooked');
  const left = t.atomics('pipe.transformersLeft');
  let handled = 0;
  try {
    for (let item = raw.take(); item !== null; item = raw.take()) {
      cooked.send({ tag: item[0], value: cook(item[1], work), by: t.id });
      handled++;
    }
  } finally {
    if (left.sub(0, 1) === 1) cooked.close(); // the last transformer ends the stream
  }
  return handled;
}

export function consume(_: unknown, t: WorkerThread): Seen {
  const cooked = t.channel<Cooked>('pipe.cooked');
  const seen: Seen = { checksum: 0x811c9dc5, sum: 0, count: 0, first: [] };
  const mask = (1 << SEQ_BITS) - 1;
  for (let c = cooked.receive(); c !== undefined; c = cooked.receive()) {
    seen.checksum = mix(Math.imul(seen.checksum ^ c.tag, 0x01000193) ^ c.value);
    seen.sum = (seen.sum + c.value) | 0;
    seen.count++;
    if (seen.first.length < 8) seen.first.push(`${c.tag >>> SEQ_BITS}:${c.tag & mask}`);
  }
  const result = t.shared('pipe.result', Int32Array);
  result[0] = seen.checksum; // only the consumer writes here; main reads after it finished
  result[1] = seen.sum;
  result[2] = seen.count;
  t.output('checksum', { checksum: seen.checksum, count: seen.count });
  return seen;
}
