// lockstep hunt: the loop (seeds, stopping, signatures) driven without processes, and end to end:
// a hunt on a real bug keeps a failing log that replays to the same failure every time, and a
// --fail-if predicate on the program's JSON result counts as a failure. Runs are bounded (--runs)
// and nothing asserts on time.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { huntLoop, lastJson, signatureOf, type RunVerdict } from '../cli/hunt.js';

const CLI = new URL('../cli/main.js', import.meta.url).pathname;
const bug = (name: string): string => new URL(`../examples/bugs/${name}.js`, import.meta.url).pathname;
const ok: RunVerdict = { failed: false, signature: null, message: null };
const fail = (sig: string): RunVerdict => ({ failed: true, signature: sig, message: sig });

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('lockstep hunt', function () {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lockstep-hunt-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('loop', function () {
    it('gives run i seed first + i and stops at the first failure', async function () {
      const seeds: bigint[] = [];
      const report = await huntLoop({ runs: 50, timeS: null, jobs: 1, firstSeed: 100n, all: false }, async (run, seed) => {
        seeds.push(seed);
        return run === 6 ? fail('E: boom') : ok;
      });
      assert.deepEqual(seeds, [100n, 101n, 102n, 103n, 104n, 105n, 106n]);
      assert.equal(report.runs, 7);
      assert.equal(report.first?.run, 6);
      assert.equal(report.first?.seed, 106n);
    });

    it('with --all, counts failures and distinct signatures over every run', async function () {
      const report = await huntLoop({ runs: 20, timeS: null, jobs: 3, firstSeed: 0n, all: true }, async (run) =>
        run % 5 === 4 ? fail(run % 2 === 0 ? 'E: a' : 'E: b') : ok);
      assert.equal(report.runs, 20);
      assert.equal(report.failures, 4);
      assert.equal(report.signatures.size, 2);
      assert.equal(report.first?.run, 4, 'the earliest failing run, whatever order the jobs finished in');
      assert.equal(report.signatures.get('E: a')?.count, 2);
    });

    it('groups failures whose messages differ only in numbers and paths', function () {
      assert.equal(signatureOf('ERR_PROGRAM', 'assertion failed: 5 hits counted, 6 made'), signatureOf('ERR_PROGRAM', 'assertion failed: 4 hits counted, 6 made'));
      assert.equal(signatureOf('X', 'log /tmp/a/b.lsl at 12'), 'X: log <path> at #');
      assert.deepEqual(lastJson('noise\n{"a":1}\n{"b":2}\nmore\n'), { b: 2 });
    });
  });

  it('keeps a failing log that replays to the same failure every time', async function () {
    const r = cli(['hunt', '--runs', '60', '--jobs', '2', '--keep', dir, '--', bug('check_then_act')]);
    assert.equal(r.status, 1, `no failure found in 60 chaos runs:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /found a failure/);
    assert.match(r.stdout, /runs\s+\d+/);
    assert.match(r.stdout, /signatures\s+1/);
    const replay = /lockstep replay (\S+)/.exec(r.stdout)?.[1];
    assert.ok(replay, r.stdout);
    assert.ok(readdirSync(dir).filter((f) => f.endsWith('.lsl') && !f.startsWith('.')).length >= 1, 'the failing log is kept');
    for (let i = 0; i < 3; i++) {
      const again = cli(['replay', replay]);
      assert.equal(again.status, 4, again.stderr);
      assert.match(again.stderr, /assertion failed: the balance went negative: -20/);
    }
  });

  it('counts a --fail-if predicate on the JSON result as a failure', async function () {
    const program = join(dir, 'prints.mjs');
    writeFileSync(program, 'console.log(JSON.stringify({ state: { n: 3 } }));\n');
    const hit = cli(['hunt', '--runs', '2', '--keep', dir, '--fail-if', 'r.state.n === 3', '--', program]);
    assert.equal(hit.status, 1, hit.stdout + hit.stderr);
    assert.match(hit.stdout, /fail-if/);
    const miss = cli(['hunt', '--runs', '2', '--keep', dir, '--fail-if', 'r.state.n > 3', '--', program]);
    assert.equal(miss.status, 0, miss.stdout + miss.stderr);
    assert.match(miss.stdout, /no failure found/);
    assert.equal(cli(['hunt', '--runs', '0', '--', program]).status, 2, '--runs 0 is a usage error');
  });
});
