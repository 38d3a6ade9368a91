// The shape shared by every sync object richer than a mutex (semaphore, barrier, read-write lock,
// channel): a guard word (a futex_lock mutex) protecting the object's state, a version word, and
// a sequence word that blocked threads park on. An ordered operation and its version bump happen
// under the guard, as one indivisible step, so the recorded order is the order the state changed.
//
// Slots common to all guarded objects, at the object's first slot:
//   0 guard (futex_lock encoding), 1 version, 2 seq (bumped and notified on every state change)

import { lockWord, unlockWord } from '../futex_lock.js';
import { Kind, kindNames } from '../event.js';
import { Mode, type Thread } from '../thread.js';
import type { WaitHow } from '../deadlock.js';
import { TRY_FAILED, beginStep, beginTry, endStep, failedTry, takeStep } from './step.js';

export const G_GUARD = 0;
export const G_VERSION = 1;
export const G_SEQ = 2;
export const GUARDED_SLOTS = 3;

/**
 * Runs `attempt` under the guard until it returns true, parking on the seq word in between.
 * `attempt` must only change state when it returns true.
 */
function blockUntil(a: Int32Array, s: number, attempt: () => boolean, onSuccess: () => void): void {
  for (;;) {
    lockWord(a, s + G_GUARD);
    if (attempt()) {
      onSuccess();
      Atomics.add(a, s + G_SEQ, 1);
      unlockWord(a, s + G_GUARD);
      Atomics.notify(a, s + G_SEQ);
      return;
    }
    const seq = Atomics.load(a, s + G_SEQ);
    unlockWord(a, s + G_GUARD);
    Atomics.wait(a, s + G_SEQ, seq);
  }
}

const nothing = (): void => {};

/**
 * A blocking ordered operation (acquire, arrive, send, receive…) in any mode: the ordered step
 * (step.ts) whose exclusive section is the guard, entered once `attempt` succeeds. `how` (not 0)
 * makes it an acquisition that deadlock detection watches (engine/deadlock.ts).
 */
export function ordered(t: Thread, kind: Kind, id: number, s: number, attempt: () => boolean, how: WaitHow | 0 = 0, vs = s + G_VERSION): void {
  const a = t.a;
  const mode = t.current();
  if (mode === Mode.Off) {
    if (how !== 0 && t.deadlock !== null) t.deadlock.blockUntil(a, s + G_GUARD, s + G_SEQ, attempt, nothing, id, how);
    else blockUntil(a, s, attempt, nothing);
    return;
  }
  const begun = beginStep(t, mode, kind, id, vs, -1);
  let version = 0;
  const take = (): void => {
    version = takeStep(a, mode, vs, begun);
  };
  if (how !== 0 && t.deadlock !== null) t.deadlock.blockUntil(a, s + G_GUARD, s + G_SEQ, attempt, take, id, how);
  else blockUntil(a, s, attempt, take);
  endStep(t, mode, kind, id, vs, version);
}

/** A non-blocking ordered operation (tryAcquire, poll…): the outcome itself is recorded. A success is an acquisition deadlock detection tracks. */
export function orderedTry(t: Thread, id: number, s: number, attempt: () => boolean, okKind = Kind.TryOk, failKind = Kind.TryFail): boolean {
  const a = t.a;
  const mode = t.current();
  const vs = s + G_VERSION;
  if (mode === Mode.Replay) {
    // The recording's success: at its version the attempt succeeds again (the guard is taken until it does).
    const begun = beginTry(t, mode, okKind, failKind, id, vs, -1);
    if (begun === TRY_FAILED) return false;
    blockUntil(a, s, attempt, () => takeStep(a, mode, vs, begun));
    endStep(t, mode, okKind, id, vs, begun);
    return true;
  }
  const begun = mode === Mode.Record ? beginTry(t, mode, okKind, failKind, id, vs, -1) : 0;
  lockWord(a, s + G_GUARD);
  const ok = attempt();
  const version = ok && mode === Mode.Record ? takeStep(a, mode, vs, begun) : 0;
  if (ok) Atomics.add(a, s + G_SEQ, 1);
  unlockWord(a, s + G_GUARD);
  if (ok) Atomics.notify(a, s + G_SEQ);
  if (mode === Mode.Record) {
    if (ok) endStep(t, mode, okKind, id, vs, version);
    else failedTry(t, mode, failKind, id);
  }
  if (ok && t.deadlock !== null) t.deadlock.acquired(id);
  return ok;
}

/**
 * A non-blocking operation with several outcomes (channel poll: got a value, found the channel
 * closed, found it empty). `attempt` runs under the guard and returns the outcome's event kind.
 * An outcome in `orderedKinds` changed or observed ordered state, so it is an ordered step and
 * replay runs it at its version (`vs`, the version word), where the state must give the same
 * outcome again (else a divergence); `unorderedKind` observed nothing a later step depends on, and
 * replay takes it from the log. `attempt` must only change state when it returns an ordered kind.
 * Replay waits while the state gives `unorderedKind` at the step's version: what the recorded
 * outcome saw may be written under another version word (a channel's receive side polls for what
 * its send side puts in, channel.ts), by a step that has not been replayed yet.
 */
export function orderedOutcome(t: Thread, id: number, s: number, attempt: () => Kind, orderedKinds: readonly Kind[], unorderedKind: Kind, vs = s + G_VERSION): Kind {
  const a = t.a;
  const mode = t.current();
  if (mode === Mode.Replay) {
    const next = t.peekOwn();
    if (next !== null && next.object === id && next.kind === unorderedKind) {
      t.expect(unorderedKind, id);
      return unorderedKind;
    }
    // Not one of ours (or the end of the log): beginStep's expect() of the first kind reports it.
    const kind = next !== null && next.object === id && orderedKinds.includes(next.kind) ? next.kind as Kind : orderedKinds[0]!;
    const begun = beginStep(t, mode, kind, id, vs, -1);
    let got = kind;
    blockUntil(a, s, () => (got = attempt()) !== unorderedKind, () => {
      if (got === kind) takeStep(a, mode, vs, begun);
    });
    if (got !== kind) t.diverge(`${kindNames[kind]}(object ${id}, version ${begun >>> 0})`, `${kindNames[got]}(object ${id})`);
    endStep(t, mode, kind, id, vs, begun);
    return kind;
  }
  // Record: the step begins before the outcome is known; an unordered outcome takes no version.
  if (mode === Mode.Record) beginStep(t, mode, unorderedKind, id, vs, -1);
  lockWord(a, s + G_GUARD);
  const kind = attempt();
  const isOrderedKind = kind !== unorderedKind;
  const version = isOrderedKind && mode === Mode.Record ? takeStep(a, mode, vs, 0) : 0;
  if (isOrderedKind) Atomics.add(a, s + G_SEQ, 1);
  unlockWord(a, s + G_GUARD);
  if (isOrderedKind) Atomics.notify(a, s + G_SEQ);
  if (mode === Mode.Record) endStep(t, mode, kind, id, vs, version);
  return kind;
}

/** An unordered state change (release, unlock, notify): it is deterministic given the ordered ones. */
export function update(a: Int32Array, s: number, change: () => void): void {
  lockWord(a, s + G_GUARD);
  change();
  Atomics.add(a, s + G_SEQ, 1);
  unlockWord(a, s + G_GUARD);
  Atomics.notify(a, s + G_SEQ);
}
