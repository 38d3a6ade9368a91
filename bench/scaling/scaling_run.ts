// One child process of the scaling benchmark (scaling.bench.ts starts it): every configuration in
// SCALING_CONFIGS (a JSON list of SpinConfig) in mode SCALING_MODE, each in its own session with
// its own log (SCALING_LOGDIR/config-<i>.lsl), so a replay child replays the record child's logs.
// Prints one JSON line: per configuration, the timed loop's ns, events and log bytes.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start } from 'lockstep';
import { elapsedNs, stopwatch } from '../stopwatch.js';
import { WORDS_PER_LOCK, type SpinConfig } from './spin.js';

type ModeName = 'off' | 'record' | 'replay';

export interface ScalingChildOutput {
  mode: ModeName;
  configs: { ns: number; events: number; logBytes: number | null; digest: string }[];
}

const PROGRAM = fileURLToPath(import.meta.url);
/** Time for the drain worker to start before the loop (a one-off cost; see micro_run.ts). */
const DRAIN_START_MS = 100;
const mode = process.env.SCALING_MODE as ModeName;
const configs = JSON.parse(process.env.SCALING_CONFIGS ?? '[]') as SpinConfig[];
const logDir = process.env.SCALING_LOGDIR ?? '';
if (!['off', 'record', 'replay'].includes(mode) || configs.length === 0) throw new Error('scaling_run: bad SCALING_MODE or SCALING_CONFIGS');

const nap = new Int32Array(new SharedArrayBuffer(4));
const out: ScalingChildOutput = { mode, configs: [] };
for (const [i, config] of configs.entries()) {
  const s = await start({
    mode, ...(mode === 'off' ? {} : { log: join(logDir, `config-${i}.lsl`) }),
    program: PROGRAM, args: [], patchGlobals: false, limits: { arenaBytes: 16 << 20 },
  });
  s.mutexes('sc.lock', config.locks);
  s.shared('sc.data', Int32Array, config.locks * WORDS_PER_LOCK);
  Atomics.wait(nap, 0, 0, DRAIN_START_MS); // in every mode, so that all start alike
  const watch = stopwatch(1, config.threads);
  const spawned = s.spawn(new URL('./spin_worker.js', import.meta.url), { count: config.threads, data: { watch, config } });
  for (const e of await spawned.exited) if (!e.ok) throw e.error ?? new Error(`thread ${e.thread} failed`);
  const r = await s.finish();
  out.configs.push({ ns: elapsedNs(watch, 0), events: r.events, logBytes: r.logBytes ?? null, digest: r.digest });
}
process.stdout.write(JSON.stringify(out) + '\n');
