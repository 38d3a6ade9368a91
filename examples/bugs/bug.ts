// The shape every program in examples/bugs/ shares: the main thread creates the shared state,
// spawns the bug's threads from the same file, waits for them, seals the run with finish() (so
// the log is complete and replays to the same verdict), and then fails if the bug showed: a
// thread's own assertion, or the main thread's check of the final state. It prints one JSON line
// (the verdict and the state) for `lockstep hunt --fail-if`.
//
// Each bug is one file holding both sides (main thread and worker), so the whole bug reads at once.

import { isMainThread } from 'node:worker_threads';
import { start, type Session, type ThreadExit } from 'lockstep';

export { isMainThread };

export interface BugSpec {
  /** Worker threads to spawn (all from `entry`). */
  threads: number;
  /** The bug's file (import.meta.url): workers run it too. */
  entry: string;
  /** Given to every worker as attach().data, with its `role` (0, 1, … in spawn order) added. */
  data?: Record<string, unknown>;
  /**
   * Milliseconds between spawning one worker and the next (default 0): the "usually first"
   * thread of an order bug is started first, as real programs do when they start a loader and
   * then go on with their own set-up.
   */
  gapMs?: number;
  /** Creates the shared state (main thread, before the spawn). */
  setup(session: Session): void;
  /** Main thread, after every worker exited and before finish(): the bug's symptom, or null. */
  check(session: Session): { symptom: string | null; state: unknown };
}

export async function runBug(spec: BugSpec): Promise<void> {
  const session = await start();
  spec.setup(session);
  const exited: Promise<ThreadExit[]>[] = [];
  for (let role = 0; role < spec.threads; role++) {
    if (role > 0 && spec.gapMs) await new Promise((r) => setTimeout(r, spec.gapMs));
    exited.push(session.spawn(new URL(spec.entry), { data: { ...spec.data, role } }).exited);
  }
  const exits = (await Promise.all(exited)).flat();
  const failed = exits.find((e) => !e.ok);
  const { symptom, state } = spec.check(session);
  await session.finish();
  console.log(JSON.stringify({ ok: symptom === null && !failed, symptom, state }));
  if (failed) throw new Error(`thread ${failed.thread} failed: ${failed.error?.message ?? 'it exited non-zero'}`);
  if (symptom !== null) throw new Error(`assertion failed: ${symptom}`);
}

/** A worker's role: its place in spawn order (0, 1, …). */
export function roleOf(data: unknown): number {
  return (data as { role: number }).role;
}
