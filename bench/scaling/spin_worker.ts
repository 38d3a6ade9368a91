// Worker fixture of the scaling benchmark (started by session.spawn): one thread's share of one
// configuration's spin loop, timed after a start line all threads reach.

import { attach } from 'lockstep/worker';
import { timed, type Stopwatch } from '../stopwatch.js';
import { spinLoop, type SpinConfig } from './spin.js';

const t = attach();
const d = t.data as { watch: Stopwatch; config: SpinConfig };
const m = t.mutexes('sc.lock');
const data = t.shared('sc.data', Int32Array);
timed(d.watch, 0, t.index, () => spinLoop(m, data, t.id, d.config.opsPerThread, d.config.spin));
