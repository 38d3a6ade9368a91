// The CLI in a terminal and in scripts: the replay status line never glues itself to the
// program's output, `--json` gives record/replay/verify's outcome as one JSON object, and a
// pipe closed early (`lockstep record --help | head -3`) ends the command quietly.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StatusLine } from '../cli/progress.js';
import { CLI, HANDOFF, lockstep, tempDir } from './fixtures/cli/helpers.js';

/** A terminal that records what is written to it, stderr and stdout alike, in order. */
function fakeTerminal(): { stream: NodeJS.WriteStream; log: string[] } {
  const log: string[] = [];
  const stream = { isTTY: true, columns: 80, write: (t: string | Uint8Array) => log.push(typeof t === 'string' ? t : Buffer.from(t).toString()) };
  return { stream: stream as unknown as NodeJS.WriteStream, log };
}

const CLEAR = '\r\x1b[K';

describe('CLI in a terminal', function () {
  describe('status line', function () {
    it('is cleared before program output and redrawn only after it', function () {
      const { stream, log } = fakeTerminal();
      const status = new StatusLine(stream, 'replaying x');
      status.show();
      assert.equal(log.length, 1);
      assert.ok(log[0]!.startsWith(`${CLEAR}replaying x`));
      status.beside(() => log.push('{"mode":"replay"}\n'), true);
      assert.deepEqual(log.slice(1, 3), [CLEAR, '{"mode":"replay"}\n']);
      assert.ok(log[3]!.startsWith(`${CLEAR}replaying x`), 'redrawn after the output');
      assert.equal(log.length, 4);
      status.stop();
    });

    it('is not redrawn over a line the program left open', function () {
      const { stream, log } = fakeTerminal();
      const status = new StatusLine(stream, 'replaying x');
      status.show();
      status.beside(() => log.push('progress: 10%'), false);
      status.show(); // the timer's redraw
      assert.deepEqual(log.slice(1), [CLEAR, 'progress: 10%']);
      status.beside(() => log.push(' done\n'), true);
      status.show();
      assert.equal(log.at(-2), ' done\n');
      assert.ok(log.at(-1)!.startsWith(`${CLEAR}replaying x`));
      status.stop();
    });
  });

  it('exits quietly when its stdout is closed early (| head)', async function () {
    const child = spawn(process.execPath, [CLI, 'record', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the CLI writes a byte: its write gets EPIPE
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    assert.doesNotMatch(stderr, /EPIPE|Error/, stderr);
    assert.equal(code, 0, stderr);
  });

  describe('--json', function () {
    const dir = tempDir();
    const log = join(dir, 'run.lsl');
    after(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    it('record, replay and verify print one JSON object (the program\'s own output goes to stderr)', async function () {
      const rec = await lockstep(['record', '--json', '-o', log, '--seed', '5', '--', HANDOFF]);
      assert.equal(rec.code, 0, rec.stderr);
      const r = JSON.parse(rec.stdout) as { command: string; ok: boolean; log: string; digest: string; events: number; threads: number; seed: string };
      assert.equal(r.command, 'record');
      assert.equal(r.ok, true);
      assert.equal(r.log, log);
      assert.equal(r.seed, '5');
      assert.match(r.digest, /^[0-9a-f]{64}$/);

      const rep = await lockstep(['replay', '--json', log]);
      assert.equal(rep.code, 0, rep.stderr);
      const p = JSON.parse(rep.stdout) as { command: string; ok: boolean; digest: string; events: number; matches: boolean };
      assert.deepEqual([p.command, p.ok, p.digest, p.events, p.matches], ['replay', true, r.digest, r.events, true]);

      const ver = await lockstep(['verify', '--json', log]);
      assert.equal(ver.code, 0, ver.stderr);
      const v = JSON.parse(ver.stdout) as { command: string; ok: boolean; identical: boolean; compared: Record<string, { recording: string; replay: string; same: boolean }> };
      assert.deepEqual([v.command, v.ok, v.identical], ['verify', true, true]);
      assert.equal(v.compared.digest!.replay, r.digest);
      assert.ok(Object.values(v.compared).every((c) => c.same));
    });

    it('a failure is a JSON object too, with the same exit code', async function () {
      const bogus = join(dir, 'bogus.lsl');
      writeFileSync(bogus, 'not a log at all');
      for (const command of ['replay', 'verify']) {
        const r = await lockstep([command, '--json', bogus]);
        assert.equal(r.code, 3, r.stderr);
        const j = JSON.parse(r.stdout) as { command: string; ok: boolean; code: string; exitCode: number; message: string };
        assert.deepEqual([j.command, j.ok, j.code, j.exitCode], [command, false, 'ERR_NOT_A_LOG', 3]);
        assert.match(j.message, /not a lockstep log/);
      }
    });
  });
});
