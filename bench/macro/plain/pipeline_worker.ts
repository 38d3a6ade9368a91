// A stage of the plain pipeline (pipeline.ts): the example's produce, transform and consume with
// the cooked bounded buffer in place of the lockstep channel.

import { parentPort, workerData } from 'node:worker_threads';
import { SEQ_BITS, cook, mix } from '../../../examples/pipeline/stages.js';
import { serveTasks } from './pool.js';
import { buffers } from './pipeline_layout.js';

const { sab, capacity } = workerData as { sab: SharedArrayBuffer; capacity: number };
const { raw, cooked, result } = buffers(sab, capacity);

serveTasks((p) => {
  const task = p as { stage: 'produce' | 'transform' | 'consume'; producer?: number; items?: number; work?: number };
  if (task.stage === 'produce') {
    try {
      for (let seq = 0; seq < task.items!; seq++) {
        const tag = (task.producer! << SEQ_BITS) | seq;
        raw.put(tag, mix(tag));
      }
    } finally {
      raw.producerDone();
    }
    return task.items;
  }
  if (task.stage === 'transform') {
    let handled = 0;
    try {
      for (let item = raw.take(); item !== null; item = raw.take()) {
        cooked.put(item[0], cook(item[1], task.work!));
        handled++;
      }
    } finally {
      cooked.producerDone(); // the last transformer ends the stream
    }
    return handled;
  }
  const seen = { checksum: 0x811c9dc5, sum: 0, count: 0, first: [] as string[] };
  const mask = (1 << SEQ_BITS) - 1;
  for (let c = cooked.take(); c !== null; c = cooked.take()) {
    const [tag, value] = c;
    seen.checksum = mix(Math.imul(seen.checksum ^ tag, 0x01000193) ^ value);
    seen.sum = (seen.sum + value) | 0;
    seen.count++;
    if (seen.first.length < 8) seen.first.push(`${tag >>> SEQ_BITS}:${tag & mask}`);
  }
  result[0] = seen.checksum;
  result[1] = seen.sum;
  result[2] = seen.count;
  return seen;
}, parentPort!);
