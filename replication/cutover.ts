// Cutover, in one place: how a backup that lost its primary becomes the primary. The decision is
// the backup core's (core/backup.ts: a lost primary → claim epoch e+1 → won → cutover); this file
// holds what follows, in the order it happens:
//
// 1. In the receiver worker (publishCutover, below): every complete frame received is already
//    posted to its thread's stream (each frame boundary is a consistent cut: the drain ships in
//    causal order). Each object's floor (the version after the last received operation) is
//    published for the new log, the live epoch is stored, and every thread's stream is marked
//    final; a thread not listening yet is marked when its segments are delivered (receiver.ts).
// 2. On the main thread, the replica (replica.ts cutover()) becomes the primary of epoch e and its
//    gate re-emits every held output the old primary may not have released (core/gate.ts), with
//    the same ids; from then on it drops only what the old primary had released.
// 3. Still on the main thread, the session calls takeOver (below): a new log starts where each
//    thread goes live (the drain continues from the floors), and the log channel listens for a
//    joining backup (or, without --listen, the node runs alone).
// 4. Each thread replays to the end of its final stream and goes live there (replayer/stream.ts,
//    FED_FINAL; the main thread in the session's pump).

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { C_ALONE, C_LIVE } from '../engine/arena_layout.js';
import { encodeHeader, type HeaderData } from '../engine/log/codec.js';
import { frame } from '../engine/log/frame.js';
import type { Limits } from '../engine/limits.js';
import type { VersionFloors } from '../engine/log/version_floors.js';
import type { DrainInit } from '../recorder/drain.js';
import { LogWriter } from '../recorder/log_writer.js';
import type { Replication } from './config.js';
import type { Replica } from './replica.js';

/** Step 1, in the receiver: floors out, the epoch live, every stream final (but those still waiting). */
export function publishCutover(a: Int32Array, epoch: number, floors: VersionFloors, floorsOut: SharedArrayBuffer, threadsMax: number,
  waiting: (thread: number) => boolean, markFinal: (thread: number) => void): void {
  floors.versionsInto(new Int32Array(floorsOut));
  Atomics.store(a, C_LIVE, epoch);
  for (let t = 0; t < threadsMax; t++) if (!waiting(t)) markFinal(t);
}

/** What step 3 needs of the run. */
export interface TakeOverRun {
  arena: SharedArrayBuffer;
  limits: Limits;
  repl: Replication;
  replica: Replica;
  header: HeaderData;
  /** Per object, the cutover floors (step 1): the first version each object has in the new log. */
  floors: SharedArrayBuffer;
  cutVersions: SharedArrayBuffer;
  /** The log this node replayed into, if any (the new log is named after it). */
  logPath: string | null;
}

/**
 * Step 3: the new primary's log and channel. Returns the new log's path and the drain that writes
 * it (started with `startDrain`, which the session owns).
 */
export function takeOver<D>(run: TakeOverRun, epoch: number, startDrain: (init: DrainInit, transfer: MessagePort[]) => D): { logPath: string; drain: D } {
  const a = new Int32Array(run.arena);
  Atomics.store(a, C_LIVE, epoch);
  const logPath = `${run.repl.log ?? run.logPath ?? 'lockstep-backup.log'}.epoch${epoch}`;
  LogWriter.create(logPath, run.header);
  const ship = new MessageChannel();
  const drain = startDrain({
    arena: run.arena, limits: run.limits, logPath,
    ship: { port: ship.port1, lagBytesMax: run.repl.lagBytesMax, cutVersions: run.cutVersions },
    continueFrom: { versions: run.floors },
  }, [ship.port1]);
  if (run.repl.listen) {
    run.replica.startSender({ arena: run.arena, header: frame(encodeHeader(run.header)), frames: ship.port2, alone: true })
      .then((port) => console.error(`lockstep: ${run.repl.node} is the primary (epoch ${epoch}); log channel on ${run.repl.listen!.host}:${port} for a joining backup`), () => {});
  } else {
    ship.port2.on('message', () => {}); // no one can join: frames are only written to the log
    ship.port2.unref();
    Atomics.store(a, C_ALONE, 1);
  }
  return { logPath, drain };
}
