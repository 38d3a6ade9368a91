// Worker fixture: one thread of the contended ping-pong on the hand-written Drepper mutex, in a
// plain worker_threads Worker with no lockstep at all (the baseline).

import { workerData } from 'node:worker_threads';
import { DrepperMutex } from './drepper_mutex.js';
import { HAND_DATA_SLOT, timedPingPong, type HandData } from './pingpong_loop.js';

const d = workerData as HandData;
const a = new Int32Array(d.shared);
const m = new DrepperMutex(a, 0);
timedPingPong(m, a.subarray(HAND_DATA_SLOT), d.index + 1, d.index, d);
