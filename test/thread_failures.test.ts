// Issue 10, item 2: a thread that fails to load or throws fails the run by default (finish()
// rejects with ERR_THREAD_FAILED naming the cause; the CLI exits 4), replay reproduces the same
// failure, `exited` carries a real serialised error, and threadFailures: 'handle' opts out.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, LockstepError, type StartOptions, type ThreadExit } from '../runtime/index.js';
import { tempLog } from './harness.js';
import { ROOT, lines, lockstep, tempDir } from './fixtures/cli/helpers.js';

const PROGRAM = fileURLToPath(import.meta.url);
const WORKER = new URL('./fixtures/failing_worker.js', import.meta.url);
const MISSING_WORKER = join(ROOT, 'dist/test/fixtures/cli/missing_worker.js');

async function run(options: StartOptions, failIn = 2, entry: URL = WORKER): Promise<{ exits: ThreadExit[] | LockstepError; finish: unknown }> {
  const session = await start({ program: PROGRAM, args: [], ...options, limits: { stallMsMax: 10_000 } });
  session.atomics('cells', 1);
  const { exited } = session.spawn(entry, { count: 3, data: { failIn } });
  const exits = await exited.catch((e: LockstepError) => e);
  const finish = await session.finish().catch((e: unknown) => e);
  return { exits, finish };
}

function assertThreadFailed(e: unknown, thread: number, code: string): void {
  assert.ok(e instanceof LockstepError && e.code === "ERR_THREAD_FAILED", `expected ERR_THREAD_FAILED, got ${String((e as Error)?.stack ?? JSON.stringify(e))} ${JSON.stringify((e as LockstepError).details)}`);
  assert.equal(e.code, 'ERR_THREAD_FAILED');
  assert.equal(e.details.thread, thread);
  assert.equal((e.details.cause as { code?: string }).code, code);
  assert.match(e.message, new RegExp(`thread ${thread} failed: .*\\[${code}\\]`));
}

describe('failed threads (issue 10 item 2)', function () {
  it('a thread that throws fails the run in every mode; replay reproduces the failure', async function () {
    const log = tempLog('thread-throws');
    const recorded = await run({ mode: 'record', log });
    assertThreadFailed(recorded.finish, 2, 'E_ON_PURPOSE');
    assertThreadFailed(recorded.exits, 2, 'E_ON_PURPOSE');
    const replayed = await run({ mode: 'replay', log });
    assertThreadFailed(replayed.finish, 2, 'E_ON_PURPOSE');
    const off = await run({ mode: 'off' });
    assertThreadFailed(off.finish, 2, 'E_ON_PURPOSE');
  });

  it('a worker module that does not load fails the run with ERR_MODULE_NOT_FOUND as the cause', async function () {
    const r = await run({ mode: 'off' }, 0, new URL('./fixtures/no_such_worker.js', import.meta.url));
    assertThreadFailed(r.finish, (r.finish as LockstepError).details?.thread as number, 'ERR_MODULE_NOT_FOUND');
  });

  it("threadFailures: 'handle' leaves it to the program; exited carries message, code and stack", async function () {
    const log = tempLog('thread-handled');
    const r = await run({ mode: 'record', log, threadFailures: 'handle' });
    assert.ok(!(r.finish instanceof Error), String(r.finish));
    const exits = r.exits as ThreadExit[];
    assert.deepEqual(exits.map((x) => x.ok), [true, false, true]);
    const json = JSON.parse(JSON.stringify(exits[1]!.error)) as { message: string; code: string; stack: string };
    assert.equal(json.message, 'thread 2 broke on purpose');
    assert.equal(json.code, 'E_ON_PURPOSE');
    assert.match(json.stack, /failing_worker/);
    // The handled failure is part of the recording: replay reproduces it and the digest.
    const replayed = await run({ mode: 'replay', log, threadFailures: 'handle' });
    assert.ok(!(replayed.finish instanceof Error), String(replayed.finish));
    assert.equal((replayed.finish as { digest: string }).digest, (r.finish as { digest: string }).digest);
  });

  it('lockstep record and verify exit 4 for a program whose worker fails to load', async function () {
    const dir = tempDir();
    const log = join(dir, 'missing.lsl');
    const r = await lockstep(['record', '-o', log, MISSING_WORKER]);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /thread \d failed: .*ERR_MODULE_NOT_FOUND/);
    const v = await lockstep(['verify', log]);
    assert.equal(v.code, 4, v.stderr);
    assert.match(v.stderr, /ERR_MODULE_NOT_FOUND/);
  });
});
