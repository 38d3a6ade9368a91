// The replay turn rule (engine/turn.ts), driven without threads: its table, then seeded simulated
// replays of random recordings, where a scheduler picks any thread at any moment and the rule
// alone decides who goes. Every replay must finish, in the recorded order per object; a log whose
// versions were tampered with must be caught (Passed), never replayed in another order.

import { strict as assert } from 'node:assert';
import { NO_EVENT, Next, Turn, floorTurn, nextEvent, versionTurn } from '../engine/turn.js';
import { Kind, head } from '../engine/event.js';
import { prng } from './prng.js';

const STALL_MS = 1000;

describe('replay turn rule (pure core)', function () {
  it('takes the next event only when it is the operation asked for', function () {
    const lock = head(Kind.Lock, 3);
    assert.equal(nextEvent(lock, lock), Next.Take);
    assert.equal(nextEvent(head(Kind.Lock, 4), lock), Next.Diverged);
    assert.equal(nextEvent(head(Kind.SemAcquire, 3), lock), Next.Diverged);
    assert.equal(nextEvent(NO_EVENT, lock), Next.End);
  });

  it('goes at its version, waits before it, reports past it, stalls and aborts only while waiting', function () {
    assert.equal(versionTurn(5, 5, 0, STALL_MS, false), Turn.Go);
    assert.equal(versionTurn(5, 4, 0, STALL_MS, false), Turn.Wait);
    assert.equal(versionTurn(5, 6, 0, STALL_MS, false), Turn.Passed);
    assert.equal(versionTurn(5, 4, STALL_MS, STALL_MS, false), Turn.Stalled);
    assert.equal(versionTurn(5, 4, 0, STALL_MS, true), Turn.Aborted);
    // Go and Passed are facts about the word: no wait, stall or abort changes them.
    assert.equal(versionTurn(5, 5, STALL_MS, STALL_MS, true), Turn.Go);
    assert.equal(versionTurn(5, 7, STALL_MS, STALL_MS, true), Turn.Passed);
  });

  it('counts versions modulo 2^32 (a long run wraps its version words)', function () {
    const max = 0x7fffffff;
    const min = -0x80000000;
    assert.equal(versionTurn(min, max, 0, STALL_MS, false), Turn.Wait, 'the word is one step before the wrap');
    assert.equal(versionTurn(max, min, 0, STALL_MS, false), Turn.Passed, 'the word wrapped past the step');
    assert.equal(versionTurn(-1, -2, 0, STALL_MS, false), Turn.Wait);
    assert.equal(versionTurn(0, -1, 0, STALL_MS, false), Turn.Wait);
    assert.equal(floorTurn(min, max, 0, STALL_MS, false), Turn.Wait);
    assert.equal(floorTurn(max, min, 0, STALL_MS, false), Turn.Go);
  });

  it('lets a live thread go at or past its cutover floor', function () {
    assert.equal(floorTurn(5, 5, 0, STALL_MS, false), Turn.Go);
    assert.equal(floorTurn(5, 9, 0, STALL_MS, false), Turn.Go);
    assert.equal(floorTurn(5, 4, 0, STALL_MS, false), Turn.Wait);
    assert.equal(floorTurn(5, 4, STALL_MS, STALL_MS, false), Turn.Stalled);
    assert.equal(floorTurn(5, 4, 0, STALL_MS, true), Turn.Aborted);
  });

  const base = Number(process.env.TURN_SEED ?? Math.floor(Math.random() * 2 ** 31));

  /** A random sequential recording: per thread, its steps as [object, version]. */
  function record(r: () => number): { threads: [number, number][][]; objects: number; order: number[][] } {
    const threads = 1 + Math.floor(r() * 6);
    const objects = 1 + Math.floor(r() * 4);
    // Start versions anywhere, near the wrap too: a joined backup starts mid-run.
    const start = Int32Array.from({ length: objects }, () => (r() < 0.3 ? 0x7fffffff - Math.floor(r() * 20) : Math.floor(r() * 1000)));
    const versions = Int32Array.from(start);
    const steps: [number, number][][] = Array.from({ length: threads }, () => []);
    const order: number[][] = Array.from({ length: objects }, () => []);
    for (let k = 0; k < 200; k++) {
      const t = Math.floor(r() * threads);
      const o = Math.floor(r() * objects);
      steps[t]!.push([o, versions[o]!]);
      order[o]!.push(t);
      versions[o] = (versions[o]! + 1) | 0;
    }
    return { threads: steps, objects, order: order.map((ts, o) => [start[o]!, ...ts]) };
  }

  /**
   * Replays `steps` with the rule deciding and a seeded scheduler picking threads; returns the
   * threads in the order they took each object, or the first Passed / a deadlock.
   */
  function replay(r: () => number, steps: [number, number][][], objects: number, start: number[]): { took: number[][] } | { passed: string } | { stuck: string } {
    const words = Int32Array.from(start);
    const pos = new Array<number>(steps.length).fill(0);
    const took: number[][] = Array.from({ length: objects }, () => []);
    for (;;) {
      const live = steps.map((_, t) => t).filter((t) => pos[t]! < steps[t]!.length);
      if (live.length === 0) return { took };
      // Every live thread asks; the scheduler runs one that may go (a waiting one parks).
      const ready: number[] = [];
      for (const t of live) {
        const [o, v] = steps[t]![pos[t]!]!;
        const turn = versionTurn(v, words[o]!, 0, STALL_MS, false);
        if (turn === Turn.Passed) return { passed: `thread ${t} found object ${o} at ${words[o]} past its version ${v}` };
        if (turn === Turn.Go) ready.push(t);
        else assert.equal(turn, Turn.Wait);
      }
      if (ready.length === 0) return { stuck: `threads ${live.join(', ')} all wait` };
      const t = ready[Math.floor(r() * ready.length)]!;
      const [o] = steps[t]![pos[t]!]!;
      took[o]!.push(t);
      words[o] = (words[o]! + 1) | 0;
      pos[t]!++;
    }
  }

  it(`replays every recording to the end in its recorded order, whatever the schedule (seeds ${base}…${base + 299})`, function () {
    for (let run = 0; run < 300; run++) {
      const seed = base + run;
      const r = prng(seed);
      const rec = record(r);
      const out = replay(r, rec.threads, rec.objects, rec.order.map((o) => o[0]!));
      assert.ok('took' in out, `seed ${seed}: ${JSON.stringify(out)}`);
      assert.deepEqual(out.took, rec.order.map((o) => o.slice(1)), `seed ${seed}: an object was taken out of its recorded order`);
    }
  });

  it(`catches a log whose versions were tampered with: never another order (seeds ${base}…${base + 299})`, function () {
    let caught = 0;
    for (let run = 0; run < 300; run++) {
      const seed = base + run;
      const r = prng(seed);
      const rec = record(r);
      const all = rec.threads.flatMap((s, t) => s.map((_, i) => [t, i] as const));
      // One step's version replaced by another version of the same object (a duplicate).
      const [t, i] = all[Math.floor(r() * all.length)]!;
      const [o, v] = rec.threads[t]![i]!;
      const others = rec.threads.flatMap((s) => s.filter(([p, w]) => p === o && w !== v).map(([, w]) => w));
      if (others.length === 0) continue;
      rec.threads[t]![i] = [o, others[Math.floor(r() * others.length)]!];
      const out = replay(r, rec.threads, rec.objects, rec.order.map((x) => x[0]!));
      // A duplicated version: two steps want it, so one of them finds it passed, or every thread
      // waits for the version nobody holds any more (the stall the driver then reports).
      assert.ok(!('took' in out), `seed ${seed}: a tampered log replayed to the end`);
      caught++;
    }
    assert.ok(caught > 250, `only ${caught} of 300 recordings could be tampered with`);
  });
});
