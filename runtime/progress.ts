// A replay's progress for the CLI's bar ($LOCKSTEP_PROGRESS_FILE): events replayed so far, all
// threads together, out of the log's total, written while the main thread's event loop is free
// and once more when the replay ends.

import { writeFileSync } from 'node:fs';
import type { Arena } from '../engine/arena.js';
import { T_PROGRESS } from '../engine/arena_layout.js';
import type { ReplayLog } from '../replayer/log_reader.js';
import { envValue } from './options.js';

/** How often the main thread writes the progress file while replaying (ms). */
const PROGRESS_PERIOD_MS = 200;

export class Progress {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly arena: Arena, private readonly log: ReplayLog | null) {}

  /** Replay: starts writing the progress file, if a harness asked for one. */
  start(): void {
    const file = envValue('LOCKSTEP_PROGRESS_FILE');
    if (!file) return;
    this.timer = setInterval(() => this.write(file), PROGRESS_PERIOD_MS);
    this.timer.unref();
  }

  /** Events replayed so far (all threads, updated every 256 per thread) out of the log's total. */
  now(): { events: number; total: number } {
    let events = 0;
    for (let t = 0; t < this.arena.threadCount; t++) events += Atomics.load(this.arena.a, this.arena.threadSlot(t) + T_PROGRESS);
    return { events, total: this.log?.trailer.eventCount ?? 0 };
  }

  /** The replay ended: the file says so (every event replayed). */
  final(): void {
    const file = envValue('LOCKSTEP_PROGRESS_FILE');
    if (file) this.write(file);
  }

  /** Stops the periodic writes (the run is over). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private write(file: string): void {
    writeFileSync(file, JSON.stringify(this.now()));
  }
}
