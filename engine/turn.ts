// The replay turn rule, as a pure function: whether a replaying thread may take its next ordered
// step now. Thread (engine/thread.ts) and the main thread's asynchronous wait (its replay of a
// channel send) are the drivers: they read the version word and the clock, park, and act on the
// decision. Nothing here reads shared memory, waits or throws, so a test can drive the rule
// through any interleaving (test/turn.test.ts).
//
// The rule (DESIGN.md, "Replay"): every ordered step on an object took the object's next version
// while recording, so version v's step must run when, and only when, the object's version word
// reads v. Versions count up by one per step and wrap at 2^32, so "before" and "past" are taken
// modulo 2^32 within half the range.

/** What the next recorded event says about the operation the program is about to do. */
export const enum Next {
  /** It is this operation: take it. */
  Take = 0,
  /** It is another operation: the program diverged from the recording. */
  Diverged = 1,
  /** The thread's log has no further event. */
  End = 2,
}

/** A replaying thread's decision for its next ordered step. */
export const enum Turn {
  /** The object's version word reads the step's version: go. */
  Go = 0,
  /** An earlier version's step has not run yet: wait for the word to change. */
  Wait = 1,
  /** The word is past the step's version: another thread took it, so this run is not the recorded one. */
  Passed = 2,
  /** Waited `stallMsMax` or more: the thread that must go first never came. */
  Stalled = 3,
  /** The run is stopping (another thread failed): stop waiting. */
  Aborted = 4,
}

/** The head of "no next event" (no head is negative: kinds are below 128, see event.ts). */
export const NO_EVENT = -1;

/**
 * The next recorded event's head (or NO_EVENT) against the head of the operation the program is
 * about to do.
 */
export function nextEvent(next: number, wanted: number): Next {
  if (next === wanted) return Next.Take;
  return next === NO_EVENT ? Next.End : Next.Diverged;
}

/**
 * The turn of a step recorded at version `recorded`, with the object's version word at `current`,
 * after `waitedMs` of waiting in all (`stallMsMax` at most) and with the run aborting or not.
 */
export function versionTurn(recorded: number, current: number, waitedMs: number, stallMsMax: number, aborted: boolean): Turn {
  const ahead = (current - recorded) | 0;
  if (ahead === 0) return Turn.Go;
  if (ahead > 0) return Turn.Passed;
  return waiting(waitedMs, stallMsMax, aborted);
}

/**
 * A live backup's thread after cutover: it goes once the object's version word has reached
 * `floor`, the version after the last step the received log holds on it (the replaying threads
 * are done with the object), and may find it already past.
 */
export function floorTurn(floor: number, current: number, waitedMs: number, stallMsMax: number, aborted: boolean): Turn {
  if (((current - floor) | 0) >= 0) return Turn.Go;
  return waiting(waitedMs, stallMsMax, aborted);
}

function waiting(waitedMs: number, stallMsMax: number, aborted: boolean): Turn {
  if (aborted) return Turn.Aborted;
  return waitedMs >= stallMsMax ? Turn.Stalled : Turn.Wait;
}
