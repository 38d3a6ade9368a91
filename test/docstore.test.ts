// The document store (examples/docstore) end to end: recorded under a concurrent load on two
// pool workers, its replay reaches the same digest and re-emits the same answers (id and value);
// as primary + backup under load, a kill -9 of the primary at a seeded moment loses nothing a
// client was told (every document a PUT answered is in the survivor's store with the answered
// hash), and the single-threaded variant (DOCS_INLINE=1) serves the same answers. Seeds are
// printed and taken from DOCSTORE_SEED.

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../client/index.js';
import { makeDoc } from '../examples/docstore/work.js';
import type { Answer } from '../examples/docstore/store.js';
import { Cluster, status, type NodeProc, type Service } from './cluster.js';
import { prng } from './prng.js';

const SERVICE = new URL('../examples/docstore/main.js', import.meta.url).pathname;
const KEYS = 256;
const RECORDS = 40;

const docstore: Service = {
  path: SERVICE,
  env: (port, summary) => ({ DOCS_PORT: String(port), DOCS_SUMMARY: summary, DOCS_KEYS: String(KEYS), DOCS_WORKERS: '2' }),
};

interface Told {
  requestId: string;
  outputId: string;
  path: string;
  body: Answer;
}

/**
 * Sends `count` requests from `concurrency` callers: PUTs of seeded documents, each on a key of
 * its own (a resent PUT is then idempotent), and GETs of random keys (some not put yet).
 */
async function load(client: Client, seed: number, count: number, concurrency: number, at: (n: number) => void = () => {}): Promise<Told[]> {
  const rng = prng(seed);
  const told: Told[] = [];
  let next = 0;
  const caller = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const get = rng() < 0.3;
      const path = get ? `/get/${Math.floor(rng() * KEYS)}` : `/put/${i % KEYS}`;
      // The client sends its body as JSON: the document's records array is exactly that.
      const r = await client.request<Answer>(path, get ? null : JSON.parse(makeDoc(seed * 1000 + i, RECORDS)));
      told.push({ requestId: r.requestId, outputId: r.outputId, path, body: r.body });
      at(told.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return told;
}

/** Every PUT a client was told succeeded is in the store with the hash it was told (keys are not reused). */
function checkTold(summaryFile: string, told: Told[]): void {
  const stored = new Map((JSON.parse(readFileSync(summaryFile, 'utf8')) as { entries: { key: number; sha: string }[] }).entries.map((e) => [e.key, e.sha]));
  let puts = 0;
  for (const t of told) {
    if (!t.path.startsWith('/put/')) continue;
    puts++;
    assert.equal(t.body.ok, true, `${t.requestId} ${t.path}: ${t.body.error}`);
    assert.equal(stored.get(t.body.key!), t.body.sha, `${t.requestId} ${t.path} was answered (${t.outputId}) with a hash the survivor's store does not hold`);
  }
  assert.ok(puts > 0);
}

interface Run {
  child: ChildProcess;
  url: Promise<string>;
  exited: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
}

function run(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [SERVICE], { env: { ...process.env, LOCKSTEP_REPLICATION: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      err += c;
      const m = /listening on (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`the docstore exited (${code}) before listening: ${err}`)));
  });
  url.catch(() => {});
  return { child, url, exited, stdout: () => out, stderr: () => err };
}

const result = (r: Run): { mode: string; digest: string; served: number } => JSON.parse(r.stdout().trim().split('\n').filter((l) => l.startsWith('{')).pop()!);
const outputs = (file: string): Map<string, unknown> => new Map(readFileSync(file, 'utf8').trim().split('\n').map((l) => {
  const o = JSON.parse(l) as { id: string; value: unknown };
  return [o.id, o.value];
}));

describe('document store (examples/docstore)', function () {
  this.timeout(120_000);
  const seed = Number(process.env.DOCSTORE_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-docstore-'));
  const runs: Run[] = [];
  let cluster: Cluster | null = null;
  before(() => console.log(`      DOCSTORE_SEED=${seed}`));
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      for (const r of runs) console.log(`--- docstore stderr:\n${r.stderr().slice(-4000)}`);
      for (const n of cluster?.nodes ?? []) console.log(`--- ${n.name} stderr:\n${n.stderr().slice(-4000)}`);
    }
    for (const r of runs.splice(0)) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      await r.exited;
    }
    await cluster?.close();
    cluster = null;
  });

  async function serve(env: Record<string, string>, count: number): Promise<{ run: Run; told: Told[] }> {
    const r = run(env);
    runs.push(r);
    const client = new Client({ nodes: [await r.url] });
    try {
      const told = await load(client, seed, count, 6);
      await client.request('/quit', null);
      assert.equal(await r.exited, 0, r.stderr());
      return { run: r, told };
    } finally {
      client.close();
    }
  }

  it('record → replay: the same digest and the same answers, ids and values', async () => {
    const log = join(dir, 'docs.lsl');
    const recorded = join(dir, 'record.jsonl');
    const replayed = join(dir, 'replay.jsonl');
    const { run: rec, told } = await serve({ LOCKSTEP_MODE: 'record', LOCKSTEP_LOG: log, DOCS_KEYS: String(KEYS), DOCS_OUTPUTS: recorded, DOCS_SUMMARY: join(dir, 'summary.json') }, 120);
    checkTold(join(dir, 'summary.json'), told);
    const rep = run({ LOCKSTEP_MODE: 'replay', LOCKSTEP_LOG: log, DOCS_KEYS: String(KEYS), DOCS_OUTPUTS: replayed });
    runs.push(rep);
    assert.equal(await rep.exited, 0, rep.stderr());
    assert.equal(result(rep).mode, 'replay');
    assert.equal(result(rep).digest, result(rec).digest);
    const a = outputs(recorded);
    const b = outputs(replayed);
    assert.equal(a.size, told.length + 1, 'one output per request, and the quit');
    assert.deepEqual([...b.entries()].sort(), [...a.entries()].sort());
    // What each client was told is the recorded output with that id.
    for (const t of told) assert.deepEqual((a.get(t.outputId) as { answer: Answer }).answer, t.body);
  });

  it('the single-threaded variant (DOCS_INLINE=1) gives the same answers as the pool', async () => {
    const pooled = await serve({ LOCKSTEP_MODE: 'off', DOCS_KEYS: String(KEYS) }, 60);
    const inline = await serve({ LOCKSTEP_MODE: 'record', LOCKSTEP_LOG: join(dir, 'inline.lsl'), DOCS_KEYS: String(KEYS), DOCS_INLINE: '1' }, 60);
    // PUT answers depend only on the document; GETs race with PUTs, so only PUTs are compared.
    const puts = (told: Told[]): [string, Answer][] => told.filter((t) => t.path.startsWith('/put/')).map((t) => [t.path, t.body] as [string, Answer]).sort();
    assert.deepEqual(puts(inline.told), puts(pooled.told));
    assert.ok(result(inline.run).served === 60);
  });

  it(`primary + backup: kill -9 of the primary at a seeded moment loses and contradicts nothing`, async () => {
    cluster = await Cluster.start();
    const a = await cluster.node('a', 'primary', { service: docstore });
    await cluster.waitFor(a, /log channel on/);
    const b = await cluster.node('b', 'backup', { connect: a, service: docstore });
    await cluster.waitFor(a, /listening on/);
    const client = new Client({ nodes: [a.url, b.url], attemptTimeoutMs: 2000, deadlineMs: 60_000 });
    try {
      const count = 100;
      const killAt = 10 + Math.floor(prng(seed)() * 60);
      let killed = false;
      const told = await load(client, seed, count, 4, (n) => {
        if (n !== killAt) return;
        killed = true;
        a.child.kill('SIGKILL');
      });
      assert.ok(killed);
      await cluster.waitFor(b, /listening on/);
      assert.equal((await status(b)).role, 'primary');
      assert.equal(new Set(told.map((t) => t.requestId)).size, count, 'after dedupe each request has exactly one answer');
      await client.request('/quit', null);
      await b.exited;
      assert.equal(b.result()!.mode, 'record', 'the backup went live and finished as the primary');
      checkTold(b.summaryFile, told);
    } finally {
      client.close();
    }
  });

  it('primary + backup without a failure: the backup replays to the primary\'s digest', async () => {
    cluster = await Cluster.start();
    const a: NodeProc = await cluster.node('a', 'primary', { service: docstore });
    await cluster.waitFor(a, /log channel on/);
    const b = await cluster.node('b', 'backup', { connect: a, service: docstore });
    await cluster.waitFor(a, /listening on/);
    const client = new Client({ nodes: [a.url, b.url] });
    try {
      const told = await load(client, seed + 1, 80, 6);
      await client.request('/quit', null);
      await Promise.all([a.exited, b.exited]);
      assert.equal(a.result()!.mode, 'record');
      assert.equal(b.result()!.mode, 'replay');
      assert.equal(b.result()!.digest, a.result()!.digest);
      checkTold(b.summaryFile, told);
    } finally {
      client.close();
    }
  });
});
