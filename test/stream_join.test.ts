// One stream join (engine/log/stream_join.ts) serves the log reader and the live receiver.

import assert from 'node:assert/strict';
import type { ChunkData } from '../engine/log/codec.js';
import { joinStreams } from '../engine/log/stream_join.js';

function chunk(thread: number, firstIndex: number, events: number, data: number[]): ChunkData {
  const e = new Int32Array(events * 2);
  for (let i = 0; i < e.length; i++) e[i] = firstIndex * 2 + i;
  return { thread, firstIndex, events: e, data: new Uint8Array(data), time: 0 };
}

const gap = (thread: number, due: number, got: number): never => {
  throw new Error(`thread ${thread}: ${due} due, ${got} came`);
};

describe('stream join', () => {
  it('joins each thread\'s chunks in order, threads ascending, events and bytes end to end', () => {
    const j = joinStreams([chunk(2, 0, 2, [1]), chunk(0, 0, 1, []), chunk(2, 2, 1, [2, 3]), chunk(0, 1, 3, [9])], gap, 0);
    assert.deepEqual(j.map((s) => s.thread), [0, 2]);
    assert.deepEqual([...j[1]!.events], [0, 1, 2, 3, 4, 5]);
    assert.deepEqual([...j[1]!.data], [1, 2, 3]);
    assert.equal(j[0]!.events.length, 8);
  });

  it('starts where the first chunk does when no start is given (a live frame), and passes one chunk through uncopied', () => {
    const c = chunk(1, 40, 2, [7]);
    const [s] = joinStreams([c], gap);
    assert.equal(s!.firstIndex, 40);
    assert.equal(s!.events, c.events);
    assert.equal(s!.data, c.data);
  });

  it('calls gap for a missing or doubled event, and for a stream that does not start at the given index', () => {
    assert.throws(() => joinStreams([chunk(0, 0, 2, []), chunk(0, 3, 1, [])], gap), /thread 0: 2 due, 3 came/);
    assert.throws(() => joinStreams([chunk(0, 0, 2, []), chunk(0, 1, 1, [])], gap), /thread 0: 2 due, 1 came/);
    assert.throws(() => joinStreams([chunk(3, 5, 1, [])], gap, 0), /thread 3: 0 due, 5 came/);
  });
});
