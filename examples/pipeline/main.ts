// A three-stage producer/consumer pipeline on the pool: PIPELINE_PRODUCERS producers put items
// into a bounded buffer guarded by a mutex and notEmpty/notFull condition variables;
// PIPELINE_TRANSFORMERS transformers take them, do PIPELINE_WORK rounds of mixing each, and send
// them on a bounded lockstep channel; one consumer folds what it receives, in the order it
// receives it, into a checksum (stages.ts). With several producers and transformers the order is
// racy: in mode off the checksum changes from run to run while the order-insensitive sum does not;
// a replay reproduces the recorded order, so the same checksum and digest.
//
// Each stage is one long pool task on its own worker: the pool has exactly one worker per stage,
// and all stages are submitted at once, so the pool's least-busy placement gives each its own
// worker (two stages on one worker would wait for each other for ever).
//
// Sizes: PIPELINE_ITEMS per producer (default 20,000), PIPELINE_PRODUCERS (default 3),
// PIPELINE_TRANSFORMERS (default 2), PIPELINE_CAPACITY of each buffer (default 16),
// PIPELINE_WORK mixing rounds per item (default 200).

import { start } from 'lockstep';
import { envInt } from '../env.js';
import { BoundedBuffer } from './bounded_buffer.js';
import { SEQ_BITS, type Cooked, type Seen } from './stages.js';

const items = envInt('PIPELINE_ITEMS', 20_000, 1, 2 ** SEQ_BITS);
const producers = envInt('PIPELINE_PRODUCERS', 3, 1, 16);
const transformers = envInt('PIPELINE_TRANSFORMERS', 2, 1, 16);
const capacity = envInt('PIPELINE_CAPACITY', 16, 1, 4096);
const work = envInt('PIPELINE_WORK', 200, 0);

const session = await start();
BoundedBuffer.create(session, 'pipe.raw', capacity, producers);
session.channel<Cooked>('pipe.cooked', { capacity, bytesMax: 64 });
const left = session.atomics('pipe.transformersLeft', 1);
left.store(0, transformers);
const result = session.shared('pipe.result', Int32Array, 3);

const stages = new URL('./stages.js', import.meta.url);
const pool = session.pool(stages, { workers: producers + transformers + 1 });
const seen = pool.run<Seen>(null, { name: 'consume' });
const handled = Array.from({ length: transformers }, () => pool.run<number>({ work }, { name: 'transform' }));
const produced = Array.from({ length: producers }, (_, producer) => pool.run<number>({ producer, items }, { name: 'produce' }));
await Promise.all(produced);
const byTransformer = await Promise.all(handled);
const consumer = await seen;
if (consumer.count !== producers * items || result[2] !== consumer.count) {
  throw new Error(`the consumer saw ${consumer.count} items, the producers made ${producers * items}`);
}

const run = await session.finish();
console.log(JSON.stringify({
  mode: run.mode,
  digest: run.digest,
  items: consumer.count,
  checksum: (result[0]! >>> 0).toString(16).padStart(8, '0'),
  sum: result[1],
  first: consumer.first,
  byTransformer,
  threads: run.threads,
  events: run.events,
  logBytes: run.logBytes,
}));
