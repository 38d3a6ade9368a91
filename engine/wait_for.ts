// The wait-for graph of deadlock detection, as a pure function over what blocked threads
// published (engine/deadlock.ts reads it from the arena): thread T waits for object X; X is held
// by every blocked thread that published X among its holdings; a cycle through T is a deadlock.
// Only blocked threads publish, so a holder that is still running is not in the graph and no
// cycle can pass through it: the graph has an edge only where a thread cannot move by itself.

/** What one blocked thread published: the object it waits for and the objects it holds. */
export interface Blocked {
  thread: number;
  waitsFor: number;
  holds: readonly number[];
}

/**
 * The cycle through `start` (start first, each thread waiting for an object the next one holds),
 * or null. Breadth-first, so the shortest such cycle is found.
 */
export function cycleThrough(start: number, blocked: readonly Blocked[]): Blocked[] | null {
  const byThread = new Map(blocked.map((b) => [b.thread, b]));
  const first = byThread.get(start);
  if (!first) return null;
  const holdersOf = (object: number): Blocked[] => blocked.filter((b) => b.holds.includes(object));
  const parent = new Map<number, number>();
  const queue: number[] = [start];
  const seen = new Set<number>([start]);
  while (queue.length > 0) {
    const t = queue.shift()!;
    for (const h of holdersOf(byThread.get(t)!.waitsFor)) {
      if (h.thread === start) {
        const path: Blocked[] = [];
        for (let at: number | undefined = t; at !== undefined; at = at === start ? undefined : parent.get(at)) path.unshift(byThread.get(at)!);
        return path;
      }
      if (!seen.has(h.thread)) {
        seen.add(h.thread);
        parent.set(h.thread, t);
        queue.push(h.thread);
      }
    }
  }
  return null;
}
