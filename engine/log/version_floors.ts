// Per object, the version after the last operation a reader has received: the cutover floors of a
// live backup (a thread that goes live must let every received operation on an object replay
// first). Log format 3 keeps every ordered event's version in the log (two words per event, as
// in a ring), so that a frame holds at most one chunk per thread: the drain no longer has to cut
// a chunk at every hand-off of a lock to keep versions implied by shipping order, which made 38–56%
// of the log in the lock sweep and one FlatBuffers table per hand-off. Within a frame a thread's
// events are in program order but threads are not interleaved, so the floor of an object is the
// largest version received plus one (wrapping int32 counters, compared as such), not the last.
// Pure: no I/O.

import { isOrdered, kindOf, objectOf } from '../event.js';

export class VersionFloors {
  /** Per object id, one past the largest version seen (grows to the largest id seen). */
  private next = new Int32Array(1024);

  /** A log that starts mid-run (state transfer): per object, the version its next event has. */
  startAt(versions: Int32Array): void {
    if (versions.length > this.next.length) this.grow(versions.length - 1);
    this.next.set(versions);
  }

  /** Per object, one past the largest version received so far (the cutover floors). */
  versionsInto(out: Int32Array): void {
    out.set(this.next.subarray(0, Math.min(out.length, this.next.length)));
  }

  /** Notes the versions of a chunk's events (two words per event); false if the words end inside an event. */
  note(events: Int32Array): boolean {
    if ((events.length & 1) !== 0) return false;
    for (let p = 0; p < events.length; p += 2) {
      const h = events[p]!;
      if (!isOrdered(kindOf(h))) continue;
      const object = objectOf(h);
      if (object >= this.next.length) this.grow(object);
      const after = (events[p + 1]! + 1) | 0;
      if (((after - this.next[object]!) | 0) > 0) this.next[object] = after;
    }
    return true;
  }

  private grow(object: number): void {
    let size = this.next.length;
    while (size <= object) size *= 2;
    const bigger = new Int32Array(size);
    bigger.set(this.next);
    this.next = bigger;
  }
}
