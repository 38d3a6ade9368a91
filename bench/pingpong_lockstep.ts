// Worker fixture: one thread of the contended ping-pong on a lockstep Mutex, started by
// session.spawn(); the same file runs in modes off, record and replay.

import { attach } from 'lockstep/worker';
import { timedPingPong, type PingPongData } from './pingpong_loop.js';

const t = attach();
const d = t.data as PingPongData;
const data = t.shared('pingpong.data', Int32Array);
const m = t.mutex('pingpong.lock');
timedPingPong(m, data, t.id, t.index, d);
