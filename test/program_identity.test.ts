// Issue 10, items 5 and 15: every module file lockstep starts (a spawn's entry, a pool's task
// module) is part of the program's identity: replaying with an edited one is ERR_WRONG_PROGRAM
// (unless allowProgramChange). And a divergence says whether the program's files are the
// recorded ones: if they are, it names the other causes instead of blaming an edit.

import assert from 'node:assert/strict';
import fs, { appendFileSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe as describeEvent } from '../engine/event.js';
import { readLog } from '../replayer/log_reader.js';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { start, LockstepError, type StartOptions } from '../runtime/index.js';
import { tempLog } from './harness.js';
import { packageTempDir } from './fixtures/cli/helpers.js';

const PROGRAM = fileURLToPath(import.meta.url);

async function rejection(p: Promise<unknown>): Promise<LockstepError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LockstepError, String((e as Error)?.stack ?? e));
    return e;
  }
  assert.fail('the replay succeeded');
}

describe('program identity and divergence messages (issue 10 items 5, 15)', function () {
  const dir = packageTempDir();
  const worker = join(dir, 'worker.js');
  const tasks = join(dir, 'tasks.js');
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(function () {
    copyFileSync(fileURLToPath(new URL('./fixtures/counting_worker.js', import.meta.url)), worker);
    copyFileSync(fileURLToPath(new URL('./fixtures/counting_tasks.js', import.meta.url)), tasks);
  });

  async function spawnRunDigest(options: StartOptions, ops = 20): Promise<string> {
    const session = await start({ program: PROGRAM, args: [], ...options, limits: { stallMsMax: 5000 } });
    session.atomics('cells', 1);
    let exits;
    try {
      exits = await session.spawn(pathToFileURL(worker), { count: 2, data: { ops } }).exited;
    } catch (e) {
      await session.finish().catch(() => {});
      throw e;
    }
    for (const x of exits) assert.ok(x.ok, String(x.error));
    return (await session.finish()).digest;
  }

  async function poolRun(options: StartOptions): Promise<string> {
    const session = await start({ program: PROGRAM, args: [], ...options, limits: { stallMsMax: 5000 } });
    session.atomics('cells', 1);
    try {
      const pool = session.pool(pathToFileURL(tasks), { workers: 2 });
      await pool.map([1, 2, 3, 4]);
    } catch (e) {
      await session.finish().catch(() => {});
      throw e;
    }
    return (await session.finish()).digest;
  }

  it('an edited worker entry is ERR_WRONG_PROGRAM at replay, naming the module; allowProgramChange replays it', async function () {
    const log = tempLog('identity-worker');
    const recorded = await spawnRunDigest({ mode: 'record', log });
    assert.equal(await spawnRunDigest({ mode: 'replay', log }), recorded);
    appendFileSync(worker, '\n// an edit that changes no event\n');
    const e = await rejection(spawnRunDigest({ mode: 'replay', log }));
    assert.equal(e.code, 'ERR_WRONG_PROGRAM');
    assert.match(e.message, /module .*worker\.js \(sha256 [0-9a-f]{12}\)/);
    assert.equal(await spawnRunDigest({ mode: 'replay', log, allowProgramChange: true }), recorded);
  });

  it('an edited pool task module is ERR_WRONG_PROGRAM at replay', async function () {
    const log = tempLog('identity-pool');
    const recorded = await poolRun({ mode: 'record', log });
    assert.equal(await poolRun({ mode: 'replay', log }), recorded);
    writeFileSync(tasks, readFileSync(tasks, 'utf8').replace('add(0, 1)', 'add(0, 1 )'));
    const e = await rejection(poolRun({ mode: 'replay', log }));
    assert.equal(e.code, 'ERR_WRONG_PROGRAM');
    assert.match(e.message, /module .*tasks\.js/);
  });

  it('hashing a module records nothing, even where a library patched fs to read the clock (graceful-fs does)', async function () {
    const log = tempLog('identity-quiet');
    const original = fs.closeSync;
    fs.closeSync = (fd: number): void => {
      Date.now(); // what graceful-fs's closeSync does: patched, it would be a recorded value
      original(fd);
    };
    try {
      await spawnRunDigest({ mode: 'record', log });
    } finally {
      fs.closeSync = original;
    }
    const main = readLog(log).streams.find((x) => x.thread === 0)!;
    const kinds: string[] = [];
    for (let p = 0; p < main.events.length; p += 2) kinds.push(describeEvent(main.events[p]!, main.events[p + 1]!));
    // (The end-of-run checkpoint holds the regions' block digests: not an input.)
    assert.deepEqual(kinds.filter((k) => !k.startsWith('checkpoint')).slice(0, 4), ['value(module)', 'spawn(thread 1)', 'spawn(thread 2)', 'end']);
  });

  it('a divergence with the recorded files says so and names the other causes', async function () {
    const log = tempLog('identity-same');
    await spawnRunDigest({ mode: 'record', log }, 20);
    // Same files, another input (the thread data): nothing in the program's files changed.
    const e = await rejection(spawnRunDigest({ mode: 'replay', log }, 21));
    assert.equal(e.code, 'ERR_DIVERGENCE');
    assert.match(e.message, /content hashes match/);
    assert.match(e.message, /data race/);
    assert.match(e.message, /a value lockstep does not intercept/);
    assert.match(e.message, /lockstep bug/);
    assert.doesNotMatch(e.message, /differ from the recorded/);
  });

  it('a divergence after an allowed program change blames the change', async function () {
    const log = tempLog('identity-changed');
    await spawnRunDigest({ mode: 'record', log }, 20);
    writeFileSync(worker, readFileSync(worker, 'utf8').replace('i < ops', 'i <= ops'));
    const e = await rejection(spawnRunDigest({ mode: 'replay', log, allowProgramChange: true }, 20));
    assert.equal(e.code, 'ERR_DIVERGENCE');
    assert.match(e.message, /files differ from the recorded ones/);
    assert.doesNotMatch(e.message, /content hashes match/);
  });
});
