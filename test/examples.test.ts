// The four example programs, run as a user runs them: each a child process in LOCKSTEP_MODE off,
// record and replay, at small sizes. For each: mode off is really nondeterministic where the
// workload is racy (two runs out of at most six differ), and every replay reproduces its
// recording's digest and printed results exactly (rr's compare_test, across processes). The
// jobserver gets its jobs on stdin (and over loopback HTTP), which its replay never reads.

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'lockstep-examples-'));
let logs = 0;

interface Run {
  /** The final JSON line ({ mode, digest, … }). */
  summary: Record<string, unknown>;
  /** Every JSON line before it (the jobserver's outputs). */
  lines: Record<string, unknown>[];
  stderr: string;
  ms: number;
}

interface Options {
  env?: Record<string, string>;
  /** Written to the child's stdin, which is then closed. */
  stdin?: string;
  /** Called once the child runs, with its stdin and a way to wait for a line on stderr. */
  drive?: (stdin: NodeJS.WritableStream, stderrLine: (pattern: RegExp) => Promise<RegExpMatchArray>) => Promise<void>;
}

/** Every program the tests start, so that afterEach can end any a failed test left running. */
const children: ChildProcess[] = [];
function track<T extends ChildProcess>(c: T): T {
  children.push(c);
  return c;
}

/** Runs examples/<name>/main.js in `mode`; fails the test if it exits non-zero. */
function run(name: string, mode: 'off' | 'record' | 'replay', log: string | null, options: Options = {}): Promise<Run> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LOCKSTEP_') && v !== undefined) env[k] = v;
  Object.assign(env, options.env, { LOCKSTEP_MODE: mode }, log ? { LOCKSTEP_LOG: log } : {});
  const started = performance.now();
  const child = track(spawn(process.execPath, [join(EXAMPLES, name, 'main.js')], { env, stdio: ['pipe', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  const watchers: { pattern: RegExp; found: (m: RegExpMatchArray) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    for (const w of watchers.splice(0)) {
      const m = stderr.match(w.pattern);
      if (m) w.found(m);
      else watchers.push(w);
    }
  });
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  const stderrLine = (pattern: RegExp) => new Promise<RegExpMatchArray>((found) => {
    const m = stderr.match(pattern);
    if (m) found(m);
    else watchers.push({ pattern, found });
  });
  child.stdin.on('error', () => {}); // a replay may exit before reading what we wrote
  const driven = options.drive
    ? options.drive(child.stdin, stderrLine)
    : new Promise<void>((done) => child.stdin.end(options.stdin ?? '', done));
  return Promise.all([exited, driven]).then(([code]) => {
    const ms = performance.now() - started;
    assert.equal(code, 0, `${name} in mode ${mode} exited with ${code}:\n${stderr}`);
    const lines = stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.pop();
    assert.ok(summary && summary.mode === mode && typeof summary.digest === 'string', `${name} printed no summary line:\n${stdout}`);
    return { summary, lines, stderr, ms };
  });
}

/** The summary without the fields that differ between a recording and its replay by design. */
function results(r: Run): Record<string, unknown> {
  const { mode: _mode, ...rest } = r.summary;
  return rest;
}

/**
 * The lines printed before the summary (the jobserver's outputs), by output id: the order in which
 * outputs of different threads reach the sink is not part of the contract, their ids and values are.
 */
function outputs(r: Run): Record<string, unknown>[] {
  return r.lines.slice().sort((a, b) => String(a.output).localeCompare(String(b.output), 'en', { numeric: true }));
}

/** Runs `fn` up to `tries` times until two runs give different keys; returns the keys seen. */
async function distinct(tries: number, fn: () => Promise<string>): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < tries && seen.size < 2; i++) seen.add(await fn());
  return seen;
}

/**
 * Records `recordings` runs and replays each (twice for the first), asserting that every replay
 * prints exactly what its recording printed. Prints the figures of the first.
 */
async function recordAndReplay(name: string, options: Options, recordings: number, replayOptions: Options = options): Promise<{ recorded: Run; replayed: Run }[]> {
  const pairs: { recorded: Run; replayed: Run }[] = [];
  for (let i = 0; i < recordings; i++) {
    const log = join(scratch, `${name}-${logs++}.lsl`);
    const recorded = await run(name, 'record', log, options);
    assert.ok((recorded.summary.events as number) > 0, 'the recording holds events');
    for (let k = 0; k < (i === 0 ? 2 : 1); k++) {
      const replayed = await run(name, 'replay', log, replayOptions);
      assert.deepEqual(results(replayed), results(recorded), `replay ${k + 1} of recording ${i + 1} printed something else`);
      assert.deepEqual(outputs(replayed), outputs(recorded), `replay ${k + 1} of recording ${i + 1} emitted other outputs`);
      pairs.push({ recorded, replayed });
    }
  }
  const { recorded, replayed } = pairs[0]!;
  console.log(`      ${name}: ${recorded.summary.events} events, ${recorded.summary.logBytes} log bytes, ` +
    `record ${recorded.ms.toFixed(0)} ms, replay ${replayed.ms.toFixed(0)} ms, off ${offMs.get(name)?.toFixed(0) ?? '?'} ms`);
  return pairs;
}

const offMs = new Map<string, number>();

async function off(name: string, options: Options): Promise<Run> {
  const r = await run(name, 'off', null, options);
  offMs.set(name, r.ms);
  return r;
}

describe('examples', function () {
  // A failed test may leave its program running (waiting for input that never comes): kill it,
  // or it keeps mocha from exiting.
  afterEach(function () {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  describe('bank', function () {
    const options = { env: { BANK_TRANSFERS: '1000', BANK_BATCHES: '4' } };

    it('keeps its money and is nondeterministic in mode off', async function () {
      const seen = await distinct(6, async () => {
        const r = await off('bank', options);
        assert.equal(r.summary.total, 64 * 1000, 'no money is made or lost');
        assert.equal(r.summary.batches, 16);
        return r.summary.digest as string;
      });
      assert.ok(seen.size >= 2, 'six runs in mode off all gave the same digest');
    });

    it('every replay reproduces its recording (digest, balances, completion order)', async function () {
      await recordAndReplay('bank', options, 2);
    });

    it('a replay of a changed program stops with a divergence in a teller, not a hang', async function () {
      const log = join(scratch, `bank-${logs++}.lsl`);
      await run('bank', 'record', log, options);
      // Half the transfers per batch: a teller starts its next batch where the log goes on drawing.
      const resultFile = join(scratch, 'bank-diverged.json');
      const code = await new Promise<number | null>((done) => {
        const child = track(spawn(process.execPath, [join(EXAMPLES, 'bank', 'main.js')], {
          env: { ...process.env, ...options.env, BANK_TRANSFERS: '500', LOCKSTEP_MODE: 'replay', LOCKSTEP_LOG: log, LOCKSTEP_RESULT_FILE: resultFile },
          stdio: 'ignore',
        }));
        child.on('close', done);
      });
      assert.notEqual(code, 0);
      const outcome = JSON.parse(readFileSync(resultFile, 'utf8')) as { code: string; details: { thread: number; expected: string; actual: string } };
      assert.equal(outcome.code, 'ERR_DIVERGENCE');
      assert.ok(outcome.details.thread >= 1 && outcome.details.thread <= 4, `thread ${outcome.details.thread} is a teller`);
      assert.equal(outcome.details.expected, 'value(random)');
    });
  });

  describe('wordcount', function () {
    const sizes = { WORDCOUNT_BYTES: String(256 << 10), WORDCOUNT_CHUNK: '8192', WORDCOUNT_VOCAB: '1000', WORDCOUNT_STRIPES: '16' };

    it('mode off with one seed: the same top 20 every run, slot placement (the digest) racy', async function () {
      const tops = new Set<string>();
      const seen = await distinct(6, async () => {
        const r = await off('wordcount', { env: { ...sizes, LOCKSTEP_SEED: '11' } });
        assert.equal(r.summary.seed, '11');
        assert.equal((r.summary.top as unknown[]).length, 20);
        assert.ok((r.summary.distinct as number) <= 1000, 'no word is counted in two slots');
        tops.add(JSON.stringify([r.summary.words, r.summary.distinct, r.summary.top]));
        return r.summary.digest as string;
      });
      assert.equal(tops.size, 1, 'the counts do not depend on the interleaving');
      assert.ok(seen.size >= 2, 'six runs in mode off all placed the words in the same slots');
    });

    it('every replay reproduces its recording (seed, corpus, counts, slot placement)', async function () {
      const pairs = await recordAndReplay('wordcount', { env: sizes }, 2);
      assert.notEqual(pairs[0]!.recorded.summary.seed, pairs.at(-1)!.recorded.summary.seed, 'each recording draws its own seed');
    });
  });

  describe('pipeline', function () {
    const options = { env: { PIPELINE_ITEMS: '400', PIPELINE_PRODUCERS: '3', PIPELINE_TRANSFORMERS: '2', PIPELINE_CAPACITY: '4', PIPELINE_WORK: '50' } };

    it('the last stage sees every item, in an order that is racy in mode off', async function () {
      const sums = new Set<number>();
      const seen = await distinct(6, async () => {
        const r = await off('pipeline', options);
        assert.equal(r.summary.items, 1200);
        assert.equal((r.summary.byTransformer as number[]).reduce((a, b) => a + b, 0), 1200);
        sums.add(r.summary.sum as number);
        return r.summary.checksum as string;
      });
      assert.equal(sums.size, 1, 'the order-insensitive sum is the same in every run');
      assert.ok(seen.size >= 2, 'six runs in mode off all delivered the items in the same order');
    });

    it('every replay reproduces its recording (order-sensitive checksum, who handled what)', async function () {
      await recordAndReplay('pipeline', options, 2);
    });
  });

  describe('jobserver', function () {
    /** Jobs that race: increments and sums of shared keys, between jobs of different lengths. */
    function script(jobs: number, withRandom: boolean): string {
      const lines: string[] = [];
      for (let i = 0; i < jobs; i++) {
        switch (i % 6) {
          case 0: lines.push(`incr counter ${i}`); break;
          case 1: lines.push(`spin ${(i % 7) * 20_000}`); break;
          case 2: lines.push('sum'); break;
          case 3: lines.push(`set k${i % 5} ${i}`); break;
          case 4: lines.push(withRandom && i % 4 === 0 ? `roll dice${i % 3} 1000` : `incr k${i % 5} 1`); break;
          default: lines.push(`get k${i % 5}`);
        }
      }
      lines.push('# a comment is not a job', '', 'frobnicate 3', 'get no/such/key');
      return `${lines.join('\n')}\n`;
    }
    const env = { JOBSERVER_WORKERS: '4', JOBSERVER_INFLIGHT: '8' };

    function checkServed(r: Run, jobs: number): void {
      // The script's jobs, the two bad ones, and the implicit quit at the end of stdin.
      assert.equal(r.summary.jobs, jobs + 3);
      assert.equal(r.summary.outputs, jobs + 3);
      assert.deepEqual(r.lines.map((l) => l.id).sort((a, b) => (a as number) - (b as number)), Array.from({ length: jobs + 3 }, (_, i) => i));
      const bad = r.lines.filter((l) => l.error !== undefined).map((l) => l.job);
      assert.deepEqual(bad.sort(), ['frobnicate 3', 'get no/such/key']);
      assert.equal(r.lines.find((l) => l.id === jobs + 2)!.value, 'bye');
    }

    it('serves every stdin job once; results are racy in mode off', async function () {
      const seen = await distinct(6, async () => {
        const r = await off('jobserver', { env, stdin: script(60, false) });
        checkServed(r, 60);
        return r.summary.digest as string;
      });
      assert.ok(seen.size >= 2, 'six runs in mode off all gave the same results and store');
    });

    it('every replay reproduces every output, without reading stdin', async function () {
      const pairs = await recordAndReplay('jobserver', { env, stdin: script(60, true) }, 2,
        { env, stdin: 'set intruder 1\nquit\n' }); // a replay must not read this
      for (const { recorded, replayed } of pairs) {
        checkServed(recorded, 60);
        assert.deepEqual(outputs(replayed), outputs(recorded), 'the same outputs, ids and values');
        assert.ok(!replayed.lines.some((l) => String(l.job).includes('intruder')));
      }
    });

    it('replays with 16 pool workers on a small machine (a main thread waiting for a version keeps its event loop alive)', async function () {
      // Atomics.waitAsync alone does not keep Node 20's event loop alive: with every worker idle or
      // in its own replay wait, the replay ended with an unsettled top-level await (exit 13).
      const many = { JOBSERVER_WORKERS: '16', JOBSERVER_INFLIGHT: '16' };
      // Mostly cheap jobs (as in the benchmark's mix), so workers are often idle between them.
      const mix = Array.from({ length: 3000 }, (_, i) => (i % 4 === 3 ? 'spin 100000' : i % 4 === 2 ? 'sum' : `incr k${i % 64} 1`));
      const stdin = `${mix.join('\n')}\n`;
      const pairs = await recordAndReplay('jobserver', { env: many, stdin }, 1, { env: many, stdin: '' });
      for (const { recorded, replayed } of pairs) {
        assert.equal(recorded.summary.jobs, 3001);
        assert.deepEqual(outputs(replayed), outputs(recorded), 'the same outputs, ids and values');
      }
    });

    it('interleaves jobs from stdin and loopback HTTP; the replay reproduces them with no port open', async function () {
      const http: unknown[][] = [];
      const drive = async (stdin: NodeJS.WritableStream, stderrLine: (p: RegExp) => Promise<RegExpMatchArray>) => {
        const url = (await stderrLine(/listening on (http:\/\/127\.0\.0\.1:\d+\/)/))[1]!;
        stdin.write('set a 1\nspin 50000\n');
        const posts = [0, 1, 2].map(async (c) => {
          const response = await fetch(url, { method: 'POST', body: `incr a ${c + 1}\nsum\nspin ${c * 30_000}\nget a\n` });
          assert.equal(response.status, 200);
          http.push(await response.json() as unknown[]);
        });
        stdin.write('incr a 10\nsum\n');
        await Promise.all(posts);
        stdin.end('get a\nquit\n');
      };
      const log = join(scratch, `jobserver-http-${logs++}.lsl`);
      const recorded = await run('jobserver', 'record', log, { env: { ...env, JOBSERVER_PORT: '0' }, drive });
      assert.equal(recorded.summary.jobs, 2 + 12 + 4);
      assert.deepEqual(http.map((r) => r.length), [4, 4, 4], 'each HTTP client got its four results');
      for (const results of http) {
        for (const r of results as { id: number }[]) {
          assert.deepEqual(recorded.lines.find((l) => l.id === r.id)!.value, (r as { value?: unknown }).value);
        }
      }
      const replayed = await run('jobserver', 'replay', log, { env: { ...env, JOBSERVER_PORT: '0' } });
      assert.doesNotMatch(replayed.stderr, /listening/, 'a replay opens no port');
      assert.deepEqual(results(replayed), results(recorded));
      assert.deepEqual(outputs(replayed), outputs(recorded));
    });
  });
});
