// The ordered step: the one way every sync object (mutex, atomic cell, semaphore, barrier,
// read-write lock, channel) records and replays an operation whose order matters. Each object
// has a version word; an ordered operation takes the object's next version while it has the
// object to itself, so the recorded versions are the order in which the object's state changed.
//
// Every ordered operation is the same five moves; only the middle one is the object's own:
//
//            record                                  replay
//   begin    wait for the cutover floor (live),      take the next recorded event, which must be
//            a chaos point, room for one event       this kind on this object, and wait for the
//            in the ring (never wait for the drain   object's version word to reach the event's
//            while holding the object)               version (turn.ts decides; Thread waits)
//   enter    the object's exclusive section: the mutex's lock word, the guard of a guarded object, an
//            atomic cell's guard (record only: in replay the version itself is exclusive)
//   take     read the version, store the next one    store the next version (the object moves on)
//   leave    the object's exclusive section ends (a mutex stays held until unlock)
//   end      log the event with its version          wake whoever waits for the next version
//
// begin and end are here; take too, as a pure function of the mode and the version word. In mode
// off there is no step: the object does its plain operation.
//
// Replay's wake: the next version is stored with a plain store and the waiters are looked for
// only after the object's exclusive section was left, i.e. after an atomic read-modify-write
// (the guard's or the lock word's release). That RMW orders the version store before the
// waiters load, which is the store→load order the waiter protocol needs (Thread.park announces
// itself, then re-reads the version), without a sequentially consistent store per step
// (engine/memory_order.ts says what is relied on, and where).

import { Kind } from '../event.js';
import { Mode, type Thread } from '../thread.js';

/** beginTry's answer in replay when the recording's attempt failed here (not an int32: no version can equal it). */
export const TRY_FAILED = 0x1_0000_0000;

/**
 * Starts an ordered step of `kind` on object `id` whose version word is `vs` (mode record or
 * replay). Record: returns 0. Replay: returns the recorded version, once it is the object's turn.
 * `chaosSlot` is the word chaos mode perturbs around (a mutex's lock word; -1: none).
 */
export function beginStep(t: Thread, mode: Mode, kind: Kind, id: number, vs: number, chaosSlot: number): number {
  if (mode === Mode.Record) {
    if (t.floors !== null) t.awaitFloor(id, vs);
    if (t.chaos !== null) t.chaos.point(chaosSlot);
    // Room for the event before the object is taken: a thread must never wait for the drain
    // while it holds an object other threads are spinning on.
    t.ring!.ensure(2);
    return 0;
  }
  const version = t.expect(kind, id);
  t.awaitVersion(vs, version, id);
  return version;
}

/**
 * beginStep for an attempt that may fail (tryLock, tryAcquire): the outcome itself is recorded.
 * Replay returns TRY_FAILED where the recording's attempt failed (the caller fails at once, having
 * changed nothing), else the recorded version of the success, once it is the object's turn.
 */
export function beginTry(t: Thread, mode: Mode, okKind: Kind, failKind: Kind, id: number, vs: number, chaosSlot: number): number {
  if (mode === Mode.Record) return beginStep(t, mode, okKind, id, vs, chaosSlot);
  const r = t.expectEither(okKind, failKind, id);
  if (!r.ok) return TRY_FAILED;
  t.awaitVersion(vs, r.arg, id);
  return r.arg;
}

/**
 * Inside the exclusive section: the step's version. Record reads the object's version and
 * stores the next; replay stores the next after the recorded one (`begun`, from beginStep).
 * A plain store in both: the section's release publishes it (see the header).
 */
export function takeStep(a: Int32Array, mode: Mode, vs: number, begun: number): number {
  const version = mode === Mode.Record ? a[vs]! : begun;
  a[vs] = (version + 1) | 0;
  return version;
}

/**
 * After the exclusive section was left: record logs the step, replay wakes the threads parked
 * for the object's next version (if any is parked).
 */
export function endStep(t: Thread, mode: Mode, kind: Kind, id: number, vs: number, version: number): void {
  if (mode === Mode.Record) t.rec(kind, id, version);
  else t.wakeVersion(vs, (version + 1) | 0);
}

/** Record: logs a failed attempt (it takes no version). */
export function failedTry(t: Thread, mode: Mode, failKind: Kind, id: number): void {
  if (mode === Mode.Record) t.rec(failKind, id, 0);
}
