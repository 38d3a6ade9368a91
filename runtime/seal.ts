// The end of a run, finish()'s work: wait for the pools and the threads, check the main thread
// meets the recorded end (replay), wait for every output to reach the sinks, compute the run's
// digest over the arena and the output chains, then seal the log with it and the end-of-run block
// digests (record) or compare it with the recorded one, a mismatch naming from the checkpoints
// where memory diverged (replay). Whatever happens, the run's parts are closed after.

import { statSync } from 'node:fs';
import type { Arena } from '../engine/arena.js';
import { FINISH_CUT_OFF, FINISH_SEALED } from '../engine/arena_layout.js';
import { digestMismatch, replayStall } from '../engine/errors.js';
import { Kind } from '../engine/event.js';
import { Mode, modeNames, type ModeName, type Thread } from '../engine/thread.js';
import { digestArena } from '../engine/digest.js';
import { digestBlocks, encodeBlocks } from '../engine/checkpoint.js';
import type { CheckpointSummary } from '../replayer/checkpoint.js';
import type { ReplayLog } from '../replayer/log_reader.js';
import type { RunningDrain } from './drain_life.js';
import type { LiveRun } from './live.js';
import type { Outputs } from './outputs.js';
import { loadedParts } from './process_run.js';
import type { Progress } from './progress.js';
import type { RunFailure } from './run_failure.js';
import type { Checkpointing, Threads } from './threads.js';

export interface RunResult {
  mode: ModeName;
  digest: string;
  /** Replay: the digest the recording ended with (equal to `digest`, or finish() throws). */
  recordedDigest?: string;
  threads: number;
  /** Events recorded or replayed, all threads together. */
  events: number;
  log?: string;
  logBytes?: number;
  /** Checkpoints: recorded and given up (record), or compared and matched (replay). */
  checkpoints?: { recorded: number; givenUp: number } | CheckpointSummary;
}

/** What the end of the run reads of the session. */
export interface SealHost {
  readonly arena: Arena;
  readonly thread: Thread;
  readonly log: ReplayLog | null;
  readonly logPath: string | undefined;
  readonly live: LiveRun | null;
  readonly failure: RunFailure;
  readonly threads: Threads;
  readonly outputs: Outputs;
  readonly progress: Progress;
  readonly checkpointing: Checkpointing;
  /** The drain that writes the log (record; a backup's after cutover), null otherwise. */
  readonly drain: RunningDrain | null;
  /** Closes the run's parts (after a sealed run as after a failed one). */
  close(): void;
}

/** Ends the run: its result, or the failure that ended it (the run is failed with it too). */
export async function seal(h: SealHost): Promise<RunResult> {
  try {
    return await sealed(h);
  } catch (e) {
    h.failure.fail(e as Error);
    const drain = h.drain;
    if (drain && !drain.signalled) await drain.stop(FINISH_CUT_OFF, h.failure.failed).catch(() => {});
    throw e;
  } finally {
    h.close();
  }
}

async function sealed(h: SealHost): Promise<RunResult> {
  const { arena, thread, failure, live, checkpointing } = h;
  // Replay: finish() must meet the recorded end now, not after the threads, which may be
  // waiting for something (a spawn, say) this run skipped.
  await Promise.race([h.threads.closePools(), failure.failed]);
  if (failure.error) throw failure.error;
  if (thread.current() === Mode.Replay) {
    if (h.log?.trailer.cutOff && thread.peek() === null) await replayedFailure(arena, failure);
    // The cuts still ahead are completed without blocking the event loop: a thread that failed
    // (a divergence, reported by message) never reaches its mark, and peekExpect would wait for
    // each cut blocking, stallMsMax apiece, before the report could be read.
    const judge = checkpointing.judge;
    while (judge !== null && judge.cutNext && !thread.stream!.live) {
      await Promise.race([new Promise<void>((done) => { if (judge.soon(done)) done(); }), failure.failed]);
      if (failure.error) throw failure.error;
    }
    thread.peekExpect(Kind.Checkpoint, 1, 'finish()'); // the end blocks, then the end event
  }
  await Promise.race([h.threads.allExited(), failure.failed]);
  if (failure.error) throw failure.error;
  await h.outputs.allDelivered();
  checkpointing.taker?.stop();
  const digestBytes = digestArena(arena, h.outputs.digests());
  const digest = Buffer.from(digestBytes).toString('hex');
  const threads = arena.threadCount;
  const mode = modeNames[thread.mode]!;
  if (thread.mode === Mode.Record) {
    thread.recPayload(Kind.Checkpoint, 1, encodeBlocks(digestBlocks(arena)));
    thread.recPayload(Kind.End, 0, digestBytes);
    const report = await h.drain!.stop(FINISH_SEALED, failure.failed);
    if (live) await Promise.race([live.replica.end(report.frames), failure.failed]);
    const taker = checkpointing.taker;
    const checkpoints = taker ? { recorded: taker.taken, givenUp: taker.givenUp } : undefined;
    return { mode, digest, threads, events: report.events, log: h.logPath, logBytes: statSync(h.logPath!).size, checkpoints };
  }
  if (thread.mode === Mode.Replay) {
    const endBlocks = thread.expectPayload(Kind.Checkpoint, 1);
    const recorded = Buffer.from(thread.expectPayload(Kind.End, 0)).toString('hex');
    if (!thread.stream!.exhausted) thread.diverge('more main-thread events', 'finish()');
    const judge = checkpointing.judge;
    if (recorded !== digest) throw digestMismatch(recorded, digest, judge ? loadedParts().digestReport(judge, endBlocks) : null);
    // A following backup that finished first says so, or its primary takes the close for a loss.
    if (live) await live.replica.finished(digest);
    h.progress.final();
    const events = h.log?.trailer.eventCount ?? h.progress.now().events;
    return { mode, digest, recordedDigest: recorded, threads, events, log: h.logPath, logBytes: h.log?.bytes, checkpoints: judge?.summary() };
  }
  return { mode, digest, threads, events: 0 };
}

/**
 * Replay of a log cut off by a failure, and the main thread's part is over: the recording ended
 * with a thread's failure, so the replay ends when that failure happens again (or stalls).
 */
async function replayedFailure(arena: Arena, failure: RunFailure): Promise<never> {
  const ms = arena.limits.stallMsMax;
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(replayStall(0, 'the failure that cut the recording off', ms)), ms);
  });
  try {
    return await Promise.race([failure.failed, stalled]);
  } finally {
    clearTimeout(timer);
  }
}
