// A replicated run's parts the session keeps, and a primary's claim of its epoch.

import { notLive } from '../engine/errors.js';
import type { HeaderData } from '../engine/log/codec.js';
import type { Replication } from '../replication/config.js';
import type { Replica } from '../replication/replica.js';
import type { Snapshot } from '../replication/snapshot.js';
import { loadedParts } from './lazy_parts.js';

/** The exit status of a replicated node that stops itself (fail-stop); the CLI maps it from the result file. */
export const FAIL_STOP_EXIT_CODE = 4;

/** A replicated run's parts the session keeps. */
export interface LiveRun {
  repl: Replication;
  replica: Replica;
  header: HeaderData;
  /** Per object, the cutover floor (backup) — and the first version of a new primary's log. */
  floors: SharedArrayBuffer;
  /** Per object, the next version at a state-transfer cut (written by the drain). */
  cutVersions: SharedArrayBuffer;
  snapshot: Snapshot | null;
}

/** A primary goes live only if it wins the next epoch from the arbiter. */
export async function claimEpoch(repl: Replication): Promise<number> {
  const arbiter = loadedParts().arbiterFor(repl);
  let d;
  try {
    d = await arbiter.claim((await arbiter.read()).epoch + 1);
  } finally {
    arbiter.close();
  }
  if (!d.won) throw notLive(repl.node, d.epoch, d.owner, 'started as primary');
  return d.epoch;
}
