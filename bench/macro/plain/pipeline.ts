// The pipeline (examples/pipeline) written with plain worker_threads + Atomics, no lockstep: the
// same stages as long tasks on their own workers (producers, transformers, one consumer), the
// same bounded buffer code (BoundedBuffer.over) under a Drepper mutex and futex conditions, the
// same items, mixing work and order-sensitive checksum. Its result line has the example's fields.

import { envInt } from '../../../examples/env.js';
import { SEQ_BITS } from '../../../examples/pipeline/stages.js';
import { PlainPool } from './pool.js';
import { buffers, bytesFor } from './pipeline_layout.js';

const items = envInt('PIPELINE_ITEMS', 20_000, 1, 2 ** SEQ_BITS);
const producers = envInt('PIPELINE_PRODUCERS', 3, 1, 16);
const transformers = envInt('PIPELINE_TRANSFORMERS', 2, 1, 16);
const capacity = envInt('PIPELINE_CAPACITY', 16, 1, 4096);
const work = envInt('PIPELINE_WORK', 200, 0);

const sab = new SharedArrayBuffer(bytesFor(capacity));
const { result } = buffers(sab, capacity, { producers, transformers });
const pool = new PlainPool(new URL('./pipeline_worker.js', import.meta.url), producers + transformers + 1, { sab, capacity });
const seen = pool.run<{ count: number; first: string[] }>({ stage: 'consume' });
const handled = Array.from({ length: transformers }, () => pool.run<number>({ stage: 'transform', work }));
const produced = Array.from({ length: producers }, (_, producer) => pool.run<number>({ stage: 'produce', producer, items }));
await Promise.all(produced);
const byTransformer = await Promise.all(handled);
const consumer = await seen;
await pool.close();
if (consumer.count !== producers * items || result[2] !== consumer.count) throw new Error(`the consumer saw ${consumer.count} items, the producers made ${producers * items}`);
console.log(JSON.stringify({ mode: 'plain', items: consumer.count, checksum: (result[0]! >>> 0).toString(16).padStart(8, '0'), sum: result[1], first: consumer.first, byTransformer }));
