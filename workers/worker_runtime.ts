// Builds a worker's lockstep runtime from what the main thread sent in workerData: the arena,
// its ring (record) or recorded stream (replay), its logical id. Shared by plain spawned threads
// (bootstrap.ts) and pool workers (pool_worker.ts).

import { Arena } from '../engine/arena.js';
import type { Output } from '../engine/thread_api.js';
import type { Limits } from '../engine/limits.js';
import { Kind } from '../engine/event.js';
import { T_PROGRESS, T_STATE } from '../engine/arena_layout.js';
import { LockstepError } from '../engine/errors.js';
import { Mode, Thread } from '../engine/thread.js';
import type { ChaosOptions } from '../engine/chaos.js';
import type { StreamInit } from '../replayer/stream.js';
import { CONTEXT, WorkerThread } from './worker.js';

export interface WorkerInit {
  arena: SharedArrayBuffer;
  limits: Limits;
  id: number;
  mode: Mode;
  ring: { base: number; words: number } | null;
  stream: StreamInit | null;
  seed: string;
  /** Replay: whether the program's files are the recorded ones (divergence reports say so). */
  program?: 'same' | 'changed';
  /** The run was given an explicit seed: live random values come from a generator seeded per thread. */
  seeded: boolean;
  patch: boolean;
  /** The run's id (names the live stream's broadcast channels). */
  run: string;
  data: unknown;
  index: number;
  until: number;
  /** Chaos recording: the run's chaos seed and strength (null: off, and always in replay). */
  chaos: ChaosOptions | null;
  /** Deadlock detection on (record by default, off when asked). */
  deadlock: boolean;
  /** Checkpoint cuts (recorder/checkpoint.ts, replayer/checkpoint.ts): take part in them. */
  checkpoints: boolean;
  /** Live backup: the cutover floors, and whether this node joined by state transfer. */
  live: { floors: SharedArrayBuffer; joined: boolean } | null;
}

/**
 * Builds the thread's runtime. `deliver` carries the thread's outputs to the main thread's sinks:
 * a message on the thread's own port (bootstrap.ts, pool_worker.ts). Not a broadcast channel: one
 * of those hands every message to every thread that has one open, so each output cost every other
 * thread a delivery (with 4 pool workers the job server in mode off spent 8-12% more CPU).
 */
export async function attachThread(init: WorkerInit, deliver: (o: Output) => void): Promise<WorkerThread> {
  // The ring, the chaos driver, the recorded stream, the checkpoint hooks, the live setup, the
  // patches, the seeded generator and deadlock detection load only when this run needs them: a
  // worker in mode off loads none of the first five (20-40 ms of each worker's start; issue 11
  // target 3), nor the patches, nor the generator unless the run was given a seed, nor the
  // deadlock detector (and its cycle finder) unless asked.
  const cuts = init.checkpoints ? init.mode : null;
  const patching = (init.mode !== Mode.Off || init.live !== null) && init.patch;
  const [ring, chaos, stream, stop, arrival, live, patch, prng, deadlock] = await Promise.all([
    init.ring ? import('../recorder/ring.js') : null,
    init.chaos ? import('../recorder/chaos.js') : null,
    init.stream ? import('../replayer/stream.js') : null,
    cuts === Mode.Record ? import('../recorder/checkpoint.js') : null,
    cuts === Mode.Replay ? import('../replayer/checkpoint.js') : null,
    init.live ? import('./live_setup.js') : null,
    patching ? import('../engine/patch.js') : null,
    init.seeded ? import('../engine/prng.js') : null,
    init.deadlock ? import('../engine/deadlock.js') : null,
  ]);
  const arena = new Arena(init.arena, init.limits);
  // A live stream's channel must exist before the thread is marked attached: the receiver posts
  // to it from then on, and a broadcast channel does not keep messages for instances yet to come.
  const reader = init.stream ? new stream!.StreamReader(init.stream) : null;
  // A logical thread runs once. A second start means something respawned it: its ring and stream
  // positions are gone, so the run cannot go on.
  if (Atomics.compareExchange(arena.a, arena.threadSlot(init.id) + T_STATE, 1, 2) !== 1) {
    throw new LockstepError('ERR_THREAD_FAILED', `logical thread ${init.id} was started a second time (a respawned worker); ` +
      'the run cannot continue. Find why the worker died: an uncaught error outside a task, or a crash.', { thread: init.id });
  }
  const writer = init.ring ? new ring!.RingWriter(arena.a, init.ring.base, init.ring.words, init.id, init.limits.stallMsMax) : null;
  const thread = new Thread(init.id, init.mode, arena.a, writer, reader, init.limits.stallMsMax);
  thread.untilIndex = init.until;
  thread.program = init.program;
  if (init.seeded) thread.seeded = new prng!.SeededRandom(BigInt(init.seed), init.id);
  if (init.chaos) thread.chaos = new chaos!.ChaosDriver(arena.a, init.chaos, init.id);
  if (init.deadlock) thread.deadlock = new deadlock!.DeadlockWatch(thread, arena);
  if (stop) stop.attachStop(thread, arena);
  else if (arrival) arrival.attachArrival(thread, arena, null);
  if (init.live) thread.liveSetup = live!.liveSetup(arena, init.id, init.live.floors, init.live.joined);
  thread.progressSlot = arena.threadSlot(init.id) + T_PROGRESS;
  const context = new WorkerThread(arena, thread, BigInt(init.seed), init.data, init.index, deliver);
  (globalThis as Record<symbol, unknown>)[CONTEXT] = context;
  if (patching) patch!.patchGlobals(thread);
  return context;
}

/**
 * The user's code threw: that is part of the program's behaviour. Record logs the message; replay
 * checks that the same error happens at the same point (or throws a DivergenceError).
 */
export function recordFailure(thread: Thread, e: unknown): void {
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const mode = thread.current();
  if (mode === Mode.Record) {
    thread.recPayload(Kind.Error, 0, new TextEncoder().encode(message));
  } else if (mode === Mode.Replay) {
    const recorded = new TextDecoder().decode(thread.expectPayload(Kind.Error, 0));
    if (recorded !== message) thread.diverge(`the error "${recorded}"`, `the error "${message}"`);
  }
}

/** The thread's last event: record logs its exit code; replay checks it and that nothing is left. */
export function recordExit(thread: Thread, code: number): void {
  const mode = thread.current();
  if (mode === Mode.Record) {
    thread.rec(Kind.Exit, 0, code);
    thread.checkpoints?.gone();
  }
  else if (mode === Mode.Replay) {
    const recorded = thread.expect(Kind.Exit, 0);
    thread.checkpoints?.gone();
    if (recorded !== code) thread.diverge(`exit(code ${recorded})`, `exit(code ${code})`);
    if (!thread.stream!.exhausted) thread.diverge(thread.describeNext(), 'the end of the thread');
  }
}
