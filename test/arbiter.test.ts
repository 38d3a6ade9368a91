// The arbiter: test-and-set of (epoch, owner) over TCP, persisted before it replies, refusing
// peers without the secret. Split brain is prevented only if no epoch is ever granted twice.

import type { ChildProcess } from 'node:child_process';
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Arbiter, requestEpoch, readEpoch } from '../replication/arbiter.js';
import { testAndSet } from '../replication/core/arbiter.js';
import type { LockstepError } from '../runtime/index.js';

const secret = 'test-secret';

async function arbiter(stateFile: string, lines: string[] = []): Promise<Arbiter> {
  return Arbiter.start({ stateFile, secret, log: (l) => lines.push(l) }).then((a) => {
    started.push(a);
    return a;
  });
}

/** Arbiters and processes the tests start: afterEach ends any that a failed test left running. */
const started: { close(): Promise<void> }[] = [];
const children: ChildProcess[] = [];

describe('arbiter', function () {
  afterEach(async function () {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(started.splice(0).map((a) => a.close().catch(() => {})));
  });

  it('grants each epoch once: the next epoch to the first asker, a retry to its owner, nothing else', function () {
    let s = { epoch: 0, owner: '' };
    const ask = (epoch: number, node: string) => {
      const r = testAndSet(s, epoch, node);
      s = r.next;
      return r.decision.won;
    };
    assert.equal(ask(1, 'a'), true);
    assert.equal(ask(1, 'b'), false, 'epoch 1 is taken');
    assert.equal(ask(1, 'a'), true, 'a retry by the owner');
    assert.equal(ask(3, 'b'), false, 'epochs cannot be skipped');
    assert.equal(ask(2, 'b'), true);
    assert.equal(ask(2, 'a'), false);
    assert.deepEqual(s, { epoch: 2, owner: 'b' });
  });

  it('of many nodes racing for the same epoch over TCP exactly one wins', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-arbiter-'));
    const a = await arbiter(join(dir, 'state.json'));
    try {
      const c = { ...a.address, secret };
      for (let epoch = 1; epoch <= 5; epoch++) {
        const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => requestEpoch(c, epoch, `node-${i}`)));
        assert.equal(replies.filter((r) => r.won).length, 1, `epoch ${epoch}`);
        const winner = replies.find((r) => r.won)!.owner;
        for (const r of replies) assert.equal(r.owner, winner, 'losers learn who won');
      }
    } finally {
      await a.close();
    }
  });

  it('remembers across a restart (state persisted before the reply)', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-arbiter-'));
    const stateFile = join(dir, 'state.json');
    let a = await arbiter(stateFile);
    assert.equal((await requestEpoch({ ...a.address, secret }, 1, 'primary')).won, true);
    assert.equal((await requestEpoch({ ...a.address, secret }, 2, 'backup')).won, true);
    await a.close();
    assert.deepEqual(JSON.parse(readFileSync(stateFile, 'utf8')), { epoch: 2, owner: 'backup' });
    a = await arbiter(stateFile);
    try {
      const c = { ...a.address, secret };
      assert.deepEqual(await readEpoch(c), { ok: true, won: false, epoch: 2, owner: 'backup' });
      assert.equal((await requestEpoch(c, 2, 'primary')).won, false, 'epoch 2 is not granted again after the restart');
    } finally {
      await a.close();
    }
  });

  it('refuses and logs a peer without the secret', async function () {
    const lines: string[] = [];
    const a = await arbiter(join(mkdtempSync(join(tmpdir(), 'lockstep-arbiter-')), 'state.json'), lines);
    try {
      await assert.rejects(requestEpoch({ ...a.address, secret: 'wrong' }, 1, 'intruder'),
        (e: LockstepError) => e.code === 'ERR_ARBITER_UNREACHABLE' && /authentication failed/.test(e.message));
      assert.ok(lines.some((l) => /refused .*wrong or missing secret.*intruder/.test(l)), lines.join('\n'));
      assert.equal(a.current.epoch, 0);
    } finally {
      await a.close();
    }
  });

  it('an unreachable arbiter is a typed error (the node must stop)', async function () {
    const a = await arbiter(join(mkdtempSync(join(tmpdir(), 'lockstep-arbiter-')), 'state.json'));
    const { port } = a.address;
    await a.close();
    await assert.rejects(requestEpoch({ host: '127.0.0.1', port, secret, timeoutMs: 500 }, 1, 'x'),
      (e: LockstepError) => e.code === 'ERR_ARBITER_UNREACHABLE' && /must not go live/.test(e.message));
  });

  it('refuses to start on a damaged state file rather than guess an epoch', async function () {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'lockstep-arbiter-')), 'state.json');
    writeFileSync(stateFile, '{"epoch": "seven"');
    await assert.rejects(arbiter(stateFile), (e: LockstepError) => e.code === 'ERR_ARBITER_STATE');
  });

  it('runs as `lockstep arbiter` and stops cleanly on SIGTERM; without a secret it is a usage error', async function () {
    const { spawn, spawnSync } = await import('node:child_process');
    const cli = new URL('../cli/main.js', import.meta.url).pathname;
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-arbiter-'));
    const env = { ...process.env, LOCKSTEP_SECRET: '' };
    const noSecret = spawnSync(process.execPath, [cli, 'arbiter', '--state', join(dir, 's.json')], { env, encoding: 'utf8' });
    assert.equal(noSecret.status, 2);
    assert.match(noSecret.stderr, /^lockstep arbiter: the arbiter needs the cluster secret/);
    const child = spawn(process.execPath, [cli, 'arbiter', '--state', join(dir, 's.json'), '--port', '0'], {
      env: { ...process.env, LOCKSTEP_SECRET: secret },
    });
    children.push(child);
    const port = await new Promise<number>((resolve) => {
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on [\d.]+:(\d+)/.exec(err);
        if (m) resolve(Number(m[1]));
      });
    });
    assert.equal((await requestEpoch({ host: '127.0.0.1', port, secret }, 1, 'primary')).won, true);
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')), { epoch: 1, owner: 'primary' });
  });
});
