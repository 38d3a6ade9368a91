// Worker fixture of the contended micro benchmark on lockstep objects (started by session.spawn,
// two of them): runs every contended operation in turn, each after a start line both reach, and
// times its own part. The same file runs in modes off, record and replay.

import { attach } from 'lockstep/worker';
import { timed } from '../stopwatch.js';
import { attachObjects, contended } from './ops.js';
import { iterations, type ContendedData } from './run_data.js';

const t = attach();
const d = t.data as ContendedData;
const o = attachObjects(t, 'c');
contended.forEach((op, s) => timed(d.watch, s, t.index, () => op.run(o, t.index, t.id, iterations(d.n, op.scale))));
