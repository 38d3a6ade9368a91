// The pipeline's work done sequentially on one thread, without lockstep: every producer's items
// in order (producer 0 first), each mixed PIPELINE_WORK rounds, folded into the same
// order-sensitive checksum and order-insensitive sum as the example's consumer. The sum must equal
// the example's in every run; with one producer and one transformer the order is FIFO, so the
// checksum must equal too.

import { envInt } from '../../examples/env.js';
import { SEQ_BITS, cook, mix } from '../../examples/pipeline/stages.js';

const items = envInt('PIPELINE_ITEMS', 20_000, 1, 2 ** SEQ_BITS);
const producers = envInt('PIPELINE_PRODUCERS', 3, 1, 16);
const work = envInt('PIPELINE_WORK', 200, 0);

let checksum = 0x811c9dc5;
let sum = 0;
let count = 0;
for (let producer = 0; producer < producers; producer++) {
  for (let seq = 0; seq < items; seq++) {
    const tag = (producer << SEQ_BITS) | seq;
    const value = cook(mix(tag), work);
    checksum = mix(Math.imul(checksum ^ tag, 0x01000193) ^ value);
    sum = (sum + value) | 0;
    count++;
  }
}
console.log(JSON.stringify({ items: count, checksum: (checksum >>> 0).toString(16).padStart(8, '0'), sum }));
