// The service benchmark (issue 11, target 4): the document store (examples/docstore), a CPU-bound
// service, driven over HTTP on loopback by its closed-loop load generator (load.ts, in this
// process), in these variants, each a fresh process, interleaved round by round, medians:
//
//   off N         mode off, N pool workers (no log)
//   record N      recording to a file, N pool workers
//   replay N      the replay of that round's `record N` log (no clients: it reads the log); its
//                 wall time beside the recording's (start to exit, both)
//   live N        primary + backup (+ arbiter), N pool workers, load on the primary; the backup's
//                 digest is checked against the primary's
//   rsm           the single-threaded replicated state machine: the same service with
//                 DOCS_INLINE=1 (the main thread does the work, no pool, no locks: its log holds
//                 only inputs and outputs), recording
//   live rsm      the same with a backup: what replicating the single-threaded service costs
//
// Throughput is requests per second of the load phase (the process's start and finish are not
// in it). CPU per request over the load phase (cpu.ts, from /proc): the load generator (this
// process), the service's main thread, its other threads (pool workers, drain, helpers) and, live,
// the backup's process; their sum bounds the throughput the machine's cores allow. Targets: record at 2 threads ≥ 1.8× record at 1; live ≥ 0.9× record at the same
// threads; replay wall ≤ record wall; and record/live at the top thread count against rsm/live
// rsm (the row that shows why lockstep replays a multi-threaded program).
//
//   npm run bench:service                    this part alone (bench/results/service.{json,md})
//   BENCH_SERVICE_THREADS=1,2                thread counts (pool workers)
//   BENCH_SERVICE_REQUESTS=600               requests per run (quick: 200)
//   BENCH_SERVICE_REPS=3                     rounds (quick: 1)
//   BENCH_SERVICE_VARIANTS=off,record,replay,live,rsm,live-rsm
//   BENCH_SERVICE_RECORDS=100                records per document (about 15 KiB of JSON)

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { drive, type LoadResult } from '../../examples/docstore/load.js';
import { Cluster, type Service } from '../../test/cluster.js';
import { cpuSpent, processCpu, selfCpuMs } from './cpu.js';
import { knob, knobInts, knobList } from '../knobs.js';
import { load1 } from '../machine.js';
import { median } from '../stats.js';

const VARIANTS = ['off', 'record', 'replay', 'live', 'rsm', 'live-rsm'] as const;
type Variant = (typeof VARIANTS)[number];

export interface ServiceRun {
  variant: Variant;
  threads: number;
  rep: number;
  /** Requests per second of the load phase (not for replay). */
  perSecond: number | null;
  latencyMs: LoadResult['latencyMs'] | null;
  /** The process from spawn to exit (the primary's, for live). */
  wallMs: number;
  digest: string;
  logBytes: number | null;
  /** live: the backup's digest equals the primary's. */
  backupAgrees?: boolean;
  load1: number;
  /** CPU ms a request over the load phase (null where /proc is missing; replay has none). */
  cpu?: RequestCpu | null;
}

export interface RequestCpu {
  loadgen: number;
  main: number;
  other: number;
  /** live: the backup's whole process. */
  backup: number | null;
  total: number;
}

export interface ServiceCell {
  threads: number;
  perSecond: Partial<Record<Variant, number>>;
  wallMs: Partial<Record<Variant, number>>;
  /** record N ÷ record 1 (throughput). */
  speedupVsOneThread: number | null;
  /** live ÷ record (throughput). */
  liveOverRecord: number | null;
  /** replay wall ÷ record wall. */
  replayOverRecord: number | null;
  /** record ÷ rsm, live ÷ live rsm (throughput). */
  recordOverRsm: number | null;
  liveOverLiveRsm: number | null;
  /** record ÷ off (throughput; below 1 is recording's cost). */
  recordOverOff: number | null;
  /** Medians of CPU ms a request, by variant. */
  cpu: Partial<Record<Variant, RequestCpu>>;
}

export interface ServiceResult {
  settings: Record<string, unknown>;
  runs: ServiceRun[];
  cells: ServiceCell[];
}

const SERVICE = (root: string): string => join(root, 'dist/examples/docstore/main.js');
const clientsFor = (threads: number): number => Math.max(8, 4 * threads);

interface Proc {
  pid: number | undefined;
  url: Promise<string>;
  done: Promise<{ code: number | null; wallMs: number; stdout: string; stderr: string }>;
}

function spawnService(root: string, env: Record<string, string>): Proc {
  const t0 = performance.now();
  const child = spawn(process.execPath, [SERVICE(root)], { env: { ...process.env, LOCKSTEP_REPLICATION: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const done = new Promise<{ code: number | null; wallMs: number; stdout: string; stderr: string }>((r) => child.on('exit', (code) => r({ code, wallMs: performance.now() - t0, stdout: out, stderr: err })));
  const url = new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      err = (err + c).slice(-16_000);
      const m = /docstore: listening on (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    void done.then((d) => reject(new Error(`the docstore exited (${d.code}) before listening:\n${d.stderr}`)));
  });
  url.catch(() => {});
  return { pid: child.pid, url, done };
}

async function quit(url: string): Promise<void> {
  const r = await fetch(`${url}/quit`, { method: 'POST', headers: { 'x-lockstep-request-id': `bench-quit-${process.pid}-${performance.now()}` } });
  await r.arrayBuffer();
}

const resultOf = (stdout: string): { digest: string; mode: string } => {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`the docstore printed no result:\n${stdout.slice(-2000)}`);
  return JSON.parse(line) as { digest: string; mode: string };
};

export async function runService(root: string, scratch: string, say: (s: string) => void): Promise<ServiceResult> {
  const threadCounts = knobInts('BENCH_SERVICE_THREADS', [1, 2]);
  const requests = knob('BENCH_SERVICE_REQUESTS', 600, 200);
  const reps = knob('BENCH_SERVICE_REPS', 3, 1);
  const records = knob('BENCH_SERVICE_RECORDS', 100);
  /** Runs the load against `url` and measures the CPU it took: this process, the service's, the backup's. */
  const measured = async (drive: () => Promise<LoadResult>, service: number | undefined, backup?: number): Promise<{ r: LoadResult; cpu: RequestCpu | null }> => {
    const s0 = processCpu(service);
    const b0 = backup === undefined ? null : processCpu(backup);
    const self0 = selfCpuMs();
    const r = await drive();
    const loadgen = selfCpuMs() - self0;
    const s = cpuSpent(s0, processCpu(service));
    const b = backup === undefined ? null : cpuSpent(b0, processCpu(backup));
    if (!s || (backup !== undefined && !b)) return { r, cpu: null };
    const per = (ms: number): number => ms / requests;
    const backupMs = b ? b.mainMs + b.otherMs : null;
    return {
      r,
      cpu: {
        loadgen: per(loadgen), main: per(s.mainMs), other: per(s.otherMs), backup: backupMs === null ? null : per(backupMs),
        total: per(loadgen + s.mainMs + s.otherMs + (backupMs ?? 0)),
      },
    };
  };
  const variants = knobList('BENCH_SERVICE_VARIANTS', VARIANTS);
  const dir = mkdtempSync(join(scratch, 'lockstep-service-'));
  const runs: ServiceRun[] = [];
  // Keys repeat past 1024 requests (a PUT then replaces a document); the store's memory stays 16 MiB.
  const keys = 1024;
  const base = { DOCS_KEYS: String(keys), DOCS_SLOT_BYTES: String(Math.max(16_384, records * 64)) };
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const threads of threadCounts) {
        const clients = clientsFor(threads);
        const env = { ...base, DOCS_WORKERS: String(threads), DOCS_INFLIGHT: String(clients) };
        const load = (url: string): Promise<LoadResult> => drive({ url, requests, clients, seed: 1 + rep, records, keys });
        const once = async (variant: Variant, extra: Record<string, string>, log: string | null): Promise<ServiceRun> => {
          const p = spawnService(root, { ...env, ...extra });
          const url = await p.url;
          const { r, cpu } = await measured(() => load(url), p.pid);
          await quit(url);
          const d = await p.done;
          if (d.code !== 0) throw new Error(`docstore ${variant} ${threads} exited with ${d.code}:\n${d.stderr}`);
          return { variant, threads, rep, perSecond: r.perSecond, latencyMs: r.latencyMs, wallMs: d.wallMs, digest: resultOf(d.stdout).digest, logBytes: log ? statSync(log).size : null, load1: load1(), cpu };
        };
        const live = async (variant: Variant, extra: Record<string, string>): Promise<ServiceRun> => {
          const cluster = await Cluster.start();
          try {
            const service: Service = { path: SERVICE(root), env: (port) => ({ ...env, ...extra, DOCS_PORT: String(port) }) };
            const t0 = performance.now();
            const a = await cluster.node('a', 'primary', { service });
            await cluster.waitFor(a, /log channel on/, 60_000);
            const b = await cluster.node('b', 'backup', { connect: a, service });
            await cluster.waitFor(a, /listening on/, 60_000);
            const { r, cpu } = await measured(() => load(a.url), a.child.pid, b.child.pid);
            await quit(a.url);
            await Promise.all([a.exited, b.exited]);
            const ra = resultOf(a.stdout());
            const rb = resultOf(b.stdout());
            return {
              variant, threads, rep, perSecond: r.perSecond, latencyMs: r.latencyMs, wallMs: performance.now() - t0, digest: ra.digest,
              logBytes: statSync(join(cluster.dir, 'a.log')).size, backupAgrees: rb.digest === ra.digest, load1: load1(), cpu,
            };
          } finally {
            await cluster.close();
          }
        };
        const log = join(dir, `record-${threads}-${rep}.lsl`);
        const step = async (variant: Variant): Promise<void> => {
          let run: ServiceRun;
          if (variant === 'off') run = await once('off', { LOCKSTEP_MODE: 'off' }, null);
          else if (variant === 'record') run = await once('record', { LOCKSTEP_MODE: 'record', LOCKSTEP_LOG: log }, log);
          else if (variant === 'replay') {
            const p = spawnService(root, { ...env, LOCKSTEP_MODE: 'replay', LOCKSTEP_LOG: log });
            const d = await p.done;
            if (d.code !== 0) throw new Error(`docstore replay ${threads} exited with ${d.code}:\n${d.stderr}`);
            const recorded = runs.find((x) => x.variant === 'record' && x.threads === threads && x.rep === rep);
            const digest = resultOf(d.stdout).digest;
            if (recorded && recorded.digest !== digest) throw new Error(`docstore replay ${threads}: digest ${digest} is not the recording's ${recorded.digest}`);
            run = { variant, threads, rep, perSecond: null, latencyMs: null, wallMs: d.wallMs, digest, logBytes: null, load1: load1() };
          } else if (variant === 'live') run = await live('live', {});
          else if (threads !== threadCounts[0]) return; // rsm is one thread: run once per round
          else if (variant === 'rsm') {
            const rsmLog = join(dir, `rsm-${rep}.lsl`);
            run = await once('rsm', { LOCKSTEP_MODE: 'record', LOCKSTEP_LOG: rsmLog, DOCS_INLINE: '1' }, rsmLog);
          } else run = await live('live-rsm', { DOCS_INLINE: '1' });
          runs.push(run);
          say(`  ${variant} ${variant.includes('rsm') ? 1 : threads}: ${run.perSecond ? `${run.perSecond.toFixed(0)} requests/s, ` : ''}${run.wallMs.toFixed(0)} ms wall${run.backupAgrees === false ? ', BACKUP DIGEST DIFFERS' : ''} (load ${run.load1.toFixed(1)})`);
        };
        // replay needs this round's record; the rest interleave.
        const order = variants.filter((v) => v !== 'replay');
        for (const v of order) {
          await step(v);
          if (v === 'record' && variants.includes('replay')) await step('replay');
        }
        if (!variants.includes('record') && variants.includes('replay')) say('  (replay needs record: skipped)');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { settings: { threads: threadCounts, requests, reps, records, clientsPerThread: 'max(8, 4 × threads)', variants }, runs, cells: serviceCells(runs, threadCounts) };
}

export function serviceCells(runs: ServiceRun[], threadCounts: number[]): ServiceCell[] {
  const med = (variant: Variant, threads: number | null, f: (r: ServiceRun) => number | null): number | undefined => {
    const xs = runs.filter((r) => r.variant === variant && (threads === null || r.threads === threads)).map(f).filter((x): x is number => x !== null);
    return xs.length ? median(xs) : undefined;
  };
  const ratio = (x: number | undefined, y: number | undefined): number | null => (x !== undefined && y !== undefined ? x / y : null);
  const rsm = med('rsm', null, (r) => r.perSecond);
  const liveRsm = med('live-rsm', null, (r) => r.perSecond);
  const recordOne = med('record', threadCounts[0]!, (r) => r.perSecond);
  return threadCounts.map((threads) => {
    const perSecond: ServiceCell['perSecond'] = {};
    const wallMs: ServiceCell['wallMs'] = {};
    const cpu: ServiceCell['cpu'] = {};
    for (const v of VARIANTS) {
      const n = v.includes('rsm') ? null : threads;
      const ps = med(v, n, (r) => r.perSecond);
      const w = med(v, n, (r) => r.wallMs);
      if (ps !== undefined) perSecond[v] = ps;
      if (w !== undefined) wallMs[v] = w;
      const total = med(v, n, (r) => r.cpu?.total ?? null);
      if (total !== undefined) {
        const backup = med(v, n, (r) => r.cpu?.backup ?? null);
        cpu[v] = {
          loadgen: med(v, n, (r) => r.cpu?.loadgen ?? null)!, main: med(v, n, (r) => r.cpu?.main ?? null)!,
          other: med(v, n, (r) => r.cpu?.other ?? null)!, backup: backup ?? null, total,
        };
      }
    }
    return {
      threads,
      perSecond,
      wallMs,
      speedupVsOneThread: threadCounts[0] === 1 ? ratio(perSecond.record, recordOne) : null,
      liveOverRecord: ratio(perSecond.live, perSecond.record),
      replayOverRecord: ratio(wallMs.replay, wallMs.record),
      recordOverRsm: ratio(perSecond.record, rsm),
      liveOverLiveRsm: ratio(perSecond.live, liveRsm),
      recordOverOff: ratio(perSecond.record, perSecond.off),
      cpu,
    };
  });
}

const f = (x: number | null | undefined, digits = 2): string => (x === null || x === undefined ? '—' : x.toFixed(digits));
const times = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${x.toFixed(2)}×`);

/** Requests a second the machine's cores allow at `msPerRequest` of CPU a request. */
const ceiling = (cores: number, msPerRequest: number): number => (cores * 1000) / msPerRequest;

export function serviceMarkdown(r: ServiceResult, machineLine: string, cores = availableParallelism()): string {
  const s = r.settings as { requests: number; reps: number; records: number };
  const lines = [
    '# Service benchmark: the document store (examples/docstore)',
    '',
    `${machineLine}. ${s.requests} requests a run (3 PUTs of a ${s.records}-record document, about ${Math.round(s.records * 0.155)} KiB, to 1 GET), closed loop, max(8, 4 × threads) clients on loopback; median of ${s.reps} interleaved rounds. rsm: the same service on one thread with no pool and no locks (its log holds only inputs and outputs). Throughput in requests/s; replay and record walls are whole processes.`,
    '',
    '| threads | off | record | live (primary + backup) | rsm (record) | live rsm | record ÷ 1 thread | live ÷ record | replay wall ÷ record wall | record ÷ rsm | live ÷ live rsm | record ÷ off |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const c of r.cells) {
    lines.push(`| ${c.threads} | ${f(c.perSecond.off, 0)} | ${f(c.perSecond.record, 0)} | ${f(c.perSecond.live, 0)} | ${f(c.perSecond.rsm, 0)} | ${f(c.perSecond['live-rsm'], 0)} | ${times(c.speedupVsOneThread)} | ${times(c.liveOverRecord)} | ${times(c.replayOverRecord)} | ${times(c.recordOverRsm)} | ${times(c.liveOverLiveRsm)} | ${times(c.recordOverOff)} |`);
  }
  const two = r.cells.find((c) => c.threads === 2);
  const mark = (ok: boolean | null): string => (ok === null ? 'not measured' : ok ? 'met' : 'MISSED');
  lines.push('', '## Targets (issue 11, target 4)', '');
  lines.push(`- record at 2 threads ≥ 1.8× record at 1: ${mark(two?.speedupVsOneThread == null ? null : two.speedupVsOneThread >= 1.8)} (${times(two?.speedupVsOneThread)})`);
  lines.push(`- live ≥ 0.9× record alone (2 threads): ${mark(two?.liveOverRecord == null ? null : two.liveOverRecord >= 0.9)} (${times(two?.liveOverRecord)})`);
  lines.push(`- replay keeps up (replay wall ≤ record wall), every thread count: ${r.cells.map((c) => `${c.threads}: ${times(c.replayOverRecord)}`).join(', ')}`);
  lines.push(`- faster than the single-threaded replicated state machine: record ÷ rsm ${r.cells.map((c) => `${c.threads}: ${times(c.recordOverRsm)}`).join(', ')}; live ÷ live rsm ${r.cells.map((c) => `${c.threads}: ${times(c.liveOverLiveRsm)}`).join(', ')}`);
  const cpuRows = r.cells.flatMap((c) => VARIANTS.filter((v) => c.cpu[v] && (!v.includes('rsm') || c === r.cells[0])).map((v) => ({ c, v, x: c.cpu[v]! })));
  if (cpuRows.length > 0) {
    lines.push('', '## Where the CPU goes', '',
      `CPU ms a request over the load phase (median; /proc, user + system): the load generator (the benchmark process, on the same ${cores} cores), ` +
      'the service\'s main thread (HTTP, inputs, recording them, answers), its other threads (pool workers doing the requests\' work, the drain, V8 and libuv helpers) ' +
      `and, live, the backup's whole process. Their total bounds the throughput: at most ${cores} × 1000 ÷ total requests/s, with every core busy.`, '',
      '| variant | threads | load generator | service main | service other threads | backup | total | cores allow (req/s) | measured (req/s) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const { c, v, x } of cpuRows) {
      lines.push(`| ${v} | ${v.includes('rsm') ? 1 : c.threads} | ${f(x.loadgen)} | ${f(x.main)} | ${f(x.other)} | ${f(x.backup)} | ${f(x.total)} | ${f(ceiling(cores, x.total), 0)} | ${f(c.perSecond[v], 0)} |`);
    }
    const one = r.cells.find((c) => c.threads === 1);
    const rec2 = two?.cpu.record;
    if (one?.perSecond.record && rec2) {
      lines.push('', `Record at 2 threads can be at most ${times(ceiling(cores, rec2.total) / one.perSecond.record)} the record at 1 measured here, on these ${cores} cores ` +
        `(${f(rec2.total)} ms of CPU a request, of which the pool workers' share is at most ${f(rec2.other)} ms).`);
    }
    const live2 = two?.cpu.live;
    if (rec2 && live2) {
      lines.push(`With every core busy, live at 2 threads runs at most ${times(rec2.total / live2.total)} record alone on these cores ` +
        `(${f(live2.total)} against ${f(rec2.total)} ms of CPU a request): the backup, on the same machine, does the requests' work again (${f(live2.backup)} ms a request).`);
    }
  }
  const disagree = r.runs.filter((x) => x.backupAgrees === false).length;
  lines.push('', `Backups that reached another digest than their primary: ${disagree} of ${r.runs.filter((x) => x.backupAgrees !== undefined).length}.`, '');
  return lines.join('\n');
}

/** `npm run bench:service`: this part alone; writes bench/results/service.{json,md} (or BENCH_RESULTS_DIR). */
async function main(): Promise<void> {
  const { machine } = await import('../machine.js');
  const { fileURLToPath } = await import('node:url');
  const { dirname, resolve } = await import('node:path');
  const { mkdirSync } = await import('node:fs');
  const os = await import('node:os');
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const out = process.env.BENCH_RESULTS_DIR ? resolve(process.env.BENCH_RESULTS_DIR) : join(root, 'bench/results');
  mkdirSync(out, { recursive: true });
  const m = machine(root);
  const say = (s: string): void => console.log(s);
  say(`service benchmark on ${m.cpu}, ${m.cores} cores, Node ${m.node}, revision ${m.revision}, load ${m.loadAverage.before.toFixed(2)}`);
  const result = await runService(root, os.tmpdir(), say);
  m.loadAverage.after = load1();
  writeFileSync(join(out, 'service.json'), JSON.stringify({ machine: m, ...result }, null, 1) + '\n');
  const md = serviceMarkdown(result, `${m.cpu}, ${m.cores} cores, Node ${m.node}, revision ${m.revision}, load average ${m.loadAverage.before.toFixed(1)} → ${m.loadAverage.after.toFixed(1)}`, m.cores);
  writeFileSync(join(out, 'service.md'), md);
  say('');
  say(md);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) await main();
