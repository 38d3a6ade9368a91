// The main thread's side of a run: start() makes the arena, opens the log (record) or reads it
// (replay), starts the drain, spawns logical threads, feeds inputs, and finish() seals the run
// with its digest. The same program runs unchanged in modes off, record and replay.

import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serialize, deserialize } from 'node:v8';
import { BroadcastChannel, Worker } from 'node:worker_threads';
import { Arena } from './arena.js';
import { LockstepThread, live, type Output } from './api.js';
import { LockstepError, digestMismatch, divergence, limitExceeded, revive, usage, wrongProgram } from './errors.js';
import { Kind, kindOf } from './event.js';
import { FORMAT_VERSION } from './log/format.js';
import { resolveLimits, type Limits } from './limits.js';
import { patchGlobals } from './patch.js';
import { C_ABORT, C_DOORBELL, C_DRAIN_DONE, C_FINISH, FINISH_CUT_OFF, FINISH_SEALED, T_OUTPUTS, T_OUTPUT_DIGEST, T_PROGRESS, T_RING, T_RING_WORDS } from './symbols.js';
import { Mode, Thread, modeNames, type ModeName } from './thread.js';
import { digestArena } from './digest.js';
import type { Channel } from './sync/channel.js';
import { RING_HEADER_SLOTS, RingWriter } from '../recorder/ring.js';
import { LogWriter } from '../recorder/log_writer.js';
import type { DrainInit, DrainReport } from '../recorder/drain.js';
import { readLog, type Log } from '../replayer/log_reader.js';
import { StreamReader, type StreamInit } from '../replayer/stream.js';
import type { SpawnInit } from '../workers/bootstrap.js';
import { outputChannelName, type WorkerInit } from '../workers/context.js';
import { Pool, type PoolOptions } from '../workers/pool.js';

export interface StartOptions {
  /** 'off' (default), 'record' or 'replay'; else $LOCKSTEP_MODE. */
  mode?: ModeName;
  /** The log file to write or read; else $LOCKSTEP_LOG. */
  log?: string;
  /** The run's seed (record); replay takes it from the log. Default: random. */
  seed?: number | bigint;
  /** The program's entry file, for the log's program identity. Default: process.argv[1]. */
  program?: string;
  /** The program's arguments, kept in the log. Default: process.argv.slice(2). */
  args?: string[];
  /** Patch Math.random, Date, performance.now and crypto in recorded threads (default true). */
  patchGlobals?: boolean;
  /** Replay even if the running program's entry file differs from the recorded one. */
  allowProgramChange?: boolean;
  limits?: Partial<Limits>;
  /** Replay: stop the run (ERR_UNTIL_REACHED) when `thread` reaches event `index`; else $LOCKSTEP_UNTIL ("thread:index"). */
  until?: { thread: number; index: number };
}

export interface SpawnOptions {
  /** How many threads to start from this entry (default 1). */
  count?: number;
  /** Structured-clonable data each thread gets as `attach().data`. */
  data?: unknown;
}

export interface ThreadExit {
  thread: number;
  ok: boolean;
  error?: Error;
}

export interface Spawned {
  ids: number[];
  workers: Worker[];
  /** Settles when every thread of this spawn has exited; rejects if the run failed (divergence…). */
  exited: Promise<ThreadExit[]>;
}

export interface RunResult {
  mode: ModeName;
  digest: string;
  /** Replay: the digest the recording ended with (equal to `digest`, or finish() throws). */
  recordedDigest?: string;
  threads: number;
  /** Events recorded or replayed, all threads together. */
  events: number;
  log?: string;
  logBytes?: number;
}

/** How long a process exiting without finish() waits for the drain to cut the log off. */
const CUT_OFF_WAIT_MS = 5000;

/** The header options that shape the arena; replay must use the recorded ones. */
interface RecordedOptions {
  limits: Limits;
  patchGlobals: boolean;
}

/** A main-thread consumer waiting, in replay, for the recorded event it must take next. */
interface Turn {
  kind: Kind;
  object: number;
  go: () => void;
  stop: (e: Error) => void;
}

export class Session extends LockstepThread {
  private readonly exits: Promise<ThreadExit>[] = [];
  private readonly workers = new Map<number, Worker>();
  private readonly pools: Pool[] = [];
  private failure: Error | null = null;
  private failed!: (e: Error) => void;
  private readonly failedPromise = new Promise<never>((_, reject) => (this.failed = reject));
  private finished = false;
  private readonly sinks: ((o: Output) => void)[] = [];
  private readonly delivered = new Map<number, number>();
  private readonly outputs: BroadcastChannel;
  private readonly turns: Turn[] = [];
  private claimedAt = -1;
  private pumping = false;
  private stallTimer: NodeJS.Timeout | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  /** Identifies this run among others in the same process (names the output channel). */
  readonly runId = Buffer.from(live.randomBytes(8)).toString('hex');

  constructor(
    arena: Arena,
    thread: Thread,
    seed: bigint,
    readonly logPath: string | undefined,
    private readonly drain: { worker: Worker; report: Promise<DrainReport> } | null,
    private readonly log: Log | null,
    private readonly restore: () => void,
    private readonly patch: boolean,
    private readonly until: { thread: number; index: number } | null,
  ) {
    super(arena, thread, seed, true);
    this.failedPromise.catch(() => {});
    drain?.report.catch((e) => this.fail(e));
    if (drain) process.on('exit', this.cutOffAtExit);
    this.deliver = (o) => this.emit(o);
    this.outputs = new BroadcastChannel(outputChannelName(this.runId));
    this.outputs.unref();
    this.outputs.onmessage = (m) => this.emit((m as { data: Output }).data);
    if (thread.mode === Mode.Replay) thread.onAdvance = () => this.pump();
    thread.onFail = (e) => this.fail(e);
    thread.progressSlot = arena.threadSlot(thread.id) + T_PROGRESS;
    const progressFile = process.env.LOCKSTEP_PROGRESS_FILE;
    if (thread.mode === Mode.Replay && progressFile) {
      // For the CLI's progress bar: the main thread's event loop reports while it is free.
      this.progressTimer = setInterval(() => writeFileSync(progressFile, JSON.stringify(this.progress())), 200);
      this.progressTimer.unref();
    }
  }

  /** Replay: events replayed so far (all threads, updated every 256 per thread) out of the log's total. */
  progress(): { events: number; total: number } {
    let events = 0;
    for (let t = 0; t < this.arena.threadCount; t++) events += Atomics.load(this.arena.a, this.arena.threadSlot(t) + T_PROGRESS);
    return { events, total: this.log?.trailer.eventCount ?? 0 };
  }

  /** Attaches an output sink: called once per output of any thread, with its deterministic id. */
  onOutput(sink: (o: Output) => void): void {
    this.sinks.push(sink);
  }

  /** A pool of `workers` logical threads running task functions from `entry` (piscina underneath). */
  pool(entry: string | URL, options: PoolOptions = {}): Pool {
    const pool = this.failOn(() => new Pool(this.pools.length, toHref(entry), options, {
      thread: this.thread,
      addWorker: (index) => this.workerInit(this.addThread(), options.data, index),
      fail: (e) => this.fail(e),
      pump: () => this.pump(),
    }));
    this.pools.push(pool);
    return pool;
  }

  /** A lockstep error thrown on the main thread's path fails the whole run (fail-stop). */
  private failOn<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof LockstepError) this.fail(e);
      throw e;
    }
  }

  private emit(o: Output): void {
    this.delivered.set(o.thread, (this.delivered.get(o.thread) ?? 0) + 1);
    for (const sink of this.sinks) sink(o);
  }

  /** Starts `count` logical threads running `entry` (a worker module: path or file URL). */
  spawn(entry: string | URL, options: SpawnOptions = {}): Spawned {
    const count = options.count ?? 1;
    if (!Number.isInteger(count) || count <= 0) throw usage('spawn count must be a positive integer');
    const href = toHref(entry);
    const ids: number[] = [];
    const workers: Worker[] = [];
    const exits: Promise<ThreadExit>[] = [];
    for (let k = 0; k < count; k++) {
      const id = this.failOn(() => this.addThread());
      const init: SpawnInit = { ...this.workerInit(id, options.data, k), entry: href };
      const worker = new Worker(new URL('../workers/bootstrap.js', import.meta.url), { workerData: { lockstep: init } });
      ids.push(id);
      workers.push(worker);
      this.workers.set(id, worker);
      exits.push(this.watch(id, worker));
    }
    this.exits.push(...exits);
    const exited = Promise.race([Promise.all(exits), this.failedPromise]);
    exited.catch(() => {});
    return { ids, workers, exited };
  }

  /**
   * Reads one external input with `read` and sends it into `channel`. Record logs the value at
   * this point of the main thread; replay takes it from the log and never calls `read`.
   */
  async input<T>(channel: Channel<T>, read: () => T | Promise<T>): Promise<T> {
    const t = this.thread;
    let value: T;
    if (t.mode === Mode.Replay) {
      await this.turn(Kind.Input, channel.id);
      value = deserialize(t.expectPayload(Kind.Input, channel.id)) as T;
    } else {
      value = await read();
      if (t.mode === Mode.Record) {
        const bytes = serialize(value);
        const max = this.arena.limits.payloadBytesMax;
        if (bytes.length > max) throw limitExceeded('payloadBytesMax', bytes.length, max, 'one input');
        t.recPayload(Kind.Input, channel.id, bytes);
      }
    }
    channel.send(value);
    return value;
  }

  /** Waits for every thread, computes the digest, and seals the log (record) or checks it (replay). */
  async finish(): Promise<RunResult> {
    if (this.finished) throw usage('finish() was already called');
    this.finished = true;
    try {
      const result = await this.seal();
      writeResultFile({ ok: true, ...result });
      return result;
    } catch (e) {
      writeResultFile(failureOf(e));
      throw e;
    }
  }

  private async seal(): Promise<RunResult> {
    try {
      // Replay: finish() must meet the recorded end now, not after the threads, which may be
      // waiting for something (a spawn, say) this run skipped.
      await Promise.race([Promise.all(this.pools.map((p) => p.close())), this.failedPromise]);
      if (this.thread.mode === Mode.Replay) this.thread.peekExpect(Kind.End, 0, 'finish()');
      await Promise.race([Promise.all(this.exits), this.failedPromise]);
      if (this.failure) throw this.failure;
      await this.outputsDelivered();
      const digestBytes = digestArena(this.arena, this.outputDigests());
      const digest = Buffer.from(digestBytes).toString('hex');
      const threads = this.arena.threadCount;
      const mode = modeNames[this.thread.mode]!;
      if (this.thread.mode === Mode.Record) {
        this.thread.recPayload(Kind.End, 0, digestBytes);
        const report = await this.stopDrain(FINISH_SEALED);
        return { mode, digest, threads, events: report.events, log: this.logPath, logBytes: statSync(this.logPath!).size };
      }
      if (this.thread.mode === Mode.Replay) {
        const recorded = Buffer.from(this.thread.expectPayload(Kind.End, 0)).toString('hex');
        if (!this.thread.stream!.exhausted) this.thread.diverge('more main-thread events', 'finish()');
        if (recorded !== digest) throw digestMismatch(recorded, digest);
        if (process.env.LOCKSTEP_PROGRESS_FILE) writeFileSync(process.env.LOCKSTEP_PROGRESS_FILE, JSON.stringify(this.progress()));
        return { mode, digest, recordedDigest: recorded, threads, events: this.log!.trailer.eventCount, log: this.logPath, logBytes: this.log!.bytes };
      }
      return { mode, digest, threads, events: 0 };
    } catch (e) {
      this.fail(e as Error);
      if (this.drain && Atomics.load(this.arena.a, C_FINISH) === 0) await this.stopDrain(FINISH_CUT_OFF).catch(() => {});
      throw e;
    } finally {
      this.restore();
      this.outputs.close();
      if (this.stallTimer) clearTimeout(this.stallTimer);
      if (this.progressTimer) clearInterval(this.progressTimer);
      if (this.drain) this.drain.worker.terminate().catch(() => {});
    }
  }

  /** Every thread's chained output digest, in thread order: outputs are part of the run digest. */
  private outputDigests(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let t = 0; t < this.arena.threadCount; t++) {
      const slot = this.arena.threadSlot(t) + T_OUTPUT_DIGEST;
      out.push(new Uint8Array(this.arena.a.slice(slot, slot + 8).buffer));
    }
    return out;
  }

  /** Waits until the sinks have seen every output the threads emitted (they travel by message). */
  private async outputsDelivered(): Promise<void> {
    const started = live.perfNow();
    for (;;) {
      let missing = 0;
      for (let t = 0; t < this.arena.threadCount; t++) {
        missing += Atomics.load(this.arena.a, this.arena.threadSlot(t) + T_OUTPUTS) - (this.delivered.get(t) ?? 0);
      }
      if (missing === 0) return;
      if (live.perfNow() - started > this.arena.limits.stallMsMax) {
        throw new LockstepError('ERR_REPLAY_STALL', `${missing} outputs never reached the main thread's sinks`);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /**
   * Replay: resolves when the main thread's next recorded event is `kind` on `object`. Async
   * consumers on the main thread (inputs, task completions) take their events in the recorded
   * order this way, whatever order the event loop offers them in.
   */
  private turn(kind: Kind, object: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((go, stop) => {
      this.turns.push({ kind, object, go, stop });
      this.pump();
    });
  }

  /** Replay: hands the main thread's next event to whichever async consumer owns it. */
  private pump(): void {
    if (this.pumping || this.thread.mode !== Mode.Replay) return;
    this.pumping = true;
    try {
      for (;;) {
        const next = this.thread.peek();
        if (!next) break;
        if (this.pools.some((p) => p.deliverNext(next))) continue;
        if (this.claimedAt === this.thread.index) break;
        const i = this.turns.findIndex((w) => w.kind === next.kind && w.object === next.object);
        if (i < 0) break;
        this.claimedAt = this.thread.index;
        this.turns.splice(i, 1)[0]!.go();
        break;
      }
    } finally {
      this.pumping = false;
    }
    this.watchStall();
  }

  /** Replay: if async consumers wait and the main thread's log does not move, that is a divergence. */
  private watchStall(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    const waiting = this.turns.length + this.pools.reduce((n, p) => n + p.pending, 0);
    if (waiting === 0 || this.finished) return;
    const at = this.thread.index;
    this.stallTimer = setTimeout(() => {
      if (this.thread.index !== at || this.failure) return;
      this.fail(divergence({
        thread: 0,
        index: at,
        expected: this.thread.describeNext(),
        actual: `nothing for ${this.arena.limits.stallMsMax} ms while ${waiting} inputs or task results waited`,
      }));
    }, this.arena.limits.stallMsMax);
    this.stallTimer.unref();
  }

  /** Stops the run after a failure: every waiting thread is woken and every worker ended. */
  private fail(e: Error): void {
    if (this.failure) return;
    e = this.explainStall(e);
    this.failure = e;
    this.restore();
    Atomics.store(this.arena.a, C_ABORT, 1);
    this.failed(e);
    for (const w of this.workers.values()) w.terminate().catch(() => {});
    for (const p of this.pools) p.destroy(e);
    for (const turn of this.turns.splice(0)) turn.stop(e);
    writeResultFile(failureOf(e));
  }

  /**
   * A replay stall while the main thread still owes a recorded spawn is a divergence of the main
   * thread: it went on waiting where the recording started another thread.
   */
  private explainStall(e: Error): Error {
    if (!(e instanceof LockstepError) || e.code !== 'ERR_REPLAY_STALL' || this.thread.mode !== Mode.Replay) return e;
    const s = this.thread.stream!;
    if (s.pos < s.events.length && kindOf(s.events[s.pos]!) === Kind.Spawn) {
      return divergence({
        thread: 0,
        index: this.thread.index,
        expected: this.thread.describeNext(),
        actual: `no further spawn while the other threads waited for it (${e.message})`,
      });
    }
    return e;
  }

  private async stopDrain(how: typeof FINISH_SEALED | typeof FINISH_CUT_OFF): Promise<DrainReport> {
    this.signalDrain(how);
    this.drain!.worker.ref();
    return how === FINISH_SEALED ? await Promise.race([this.drain!.report, this.failedPromise]) : await this.drain!.report;
  }

  private signalDrain(how: number): void {
    const a = this.arena.a;
    Atomics.store(a, C_FINISH, how);
    Atomics.add(a, C_DOORBELL, 1);
    Atomics.notify(a, C_DOORBELL);
    process.off('exit', this.cutOffAtExit);
  }

  /**
   * Record: a process that exits without finish() (an uncaught error, process.exit) still leaves
   * a readable log, cut off where the program failed, so the failing run can be replayed. The
   * 'exit' handler is synchronous, so it parks on the drain's done word (bounded).
   */
  private readonly cutOffAtExit = (): void => {
    const a = this.arena.a;
    this.signalDrain(FINISH_CUT_OFF);
    Atomics.wait(a, C_DRAIN_DONE, 0, CUT_OFF_WAIT_MS);
  };

  private addThread(): number {
    const { id } = this.arena.addThread(ringWordsFor(this.thread.mode, this.arena.limits), RING_HEADER_SLOTS);
    if (this.thread.mode === Mode.Record) this.thread.rec(Kind.Spawn, id, 0);
    else if (this.thread.mode === Mode.Replay) this.thread.expect(Kind.Spawn, id);
    return id;
  }

  private workerInit(id: number, data: unknown, index: number): WorkerInit {
    return {
      arena: this.arena.buffer,
      limits: this.arena.limits,
      id,
      mode: this.thread.mode,
      ring: this.ringOf(id),
      stream: this.streamOf(id),
      seed: this.seed.toString(),
      patch: this.patch,
      run: this.runId,
      data,
      index,
      until: this.until?.thread === id ? this.until.index : -1,
    };
  }

  private ringOf(id: number): { base: number; words: number } | null {
    if (this.thread.mode !== Mode.Record) return null;
    const slot = this.arena.threadSlot(id);
    return { base: this.arena.a[slot + T_RING]!, words: this.arena.a[slot + T_RING_WORDS]! };
  }

  private streamOf(id: number): StreamInit | null {
    return this.log ? streamInit(this.log, id) : null;
  }

  private watch(id: number, worker: Worker): Promise<ThreadExit> {
    return new Promise((done) => {
      let result: ThreadExit | null = null;
      worker.on('message', (m: { type: string; error?: unknown; lockstep?: boolean }) => {
        if (m.type === 'exit') result = { thread: id, ok: true };
        if (m.type === 'failed') {
          const error = revive(m.error);
          if (m.lockstep) this.fail(error);
          result = { thread: id, ok: false, error };
        }
      });
      worker.on('error', (e) => {
        result = { thread: id, ok: false, error: e };
      });
      worker.on('exit', (code) => {
        this.workers.delete(id);
        done(result ?? { thread: id, ok: code === 0, error: code === 0 ? undefined : new Error(`thread ${id} exited with code ${code}`) });
      });
    });
  }
}

/**
 * Where a CLI or harness wants the run's outcome as JSON ($LOCKSTEP_RESULT_FILE): written by
 * finish(), or by start() when it refuses to start.
 */
let resultWritten = false;

function writeResultFile(result: Record<string, unknown>): void {
  const path = process.env.LOCKSTEP_RESULT_FILE;
  if (path && !resultWritten) writeFileSync(path, JSON.stringify(result) + '\n');
  resultWritten = true;
}

/** A run that dies without reaching finish() (an uncaught divergence, say) still reports why. */
function reportUncaught(): void {
  if (!process.env.LOCKSTEP_RESULT_FILE) return;
  process.on('uncaughtExceptionMonitor', (e) => writeResultFile(failureOf(e)));
}

function failureOf(e: unknown): Record<string, unknown> {
  if (e instanceof LockstepError) return { ok: false, code: e.code, message: e.message, details: e.details };
  return { ok: false, code: 'ERR_PROGRAM', message: e instanceof Error ? e.message : String(e) };
}

/** Starts a run on the main thread (logical thread 0). */
export async function start(options: StartOptions = {}): Promise<Session> {
  try {
    return await startSession(options);
  } catch (e) {
    writeResultFile(failureOf(e));
    throw e;
  }
}

async function startSession(options: StartOptions): Promise<Session> {
  reportUncaught();
  const modeName = (options.mode ?? process.env.LOCKSTEP_MODE ?? 'off') as ModeName;
  const mode = modeNames.indexOf(modeName) as Mode;
  if (mode < 0) throw usage(`unknown mode "${modeName}": use off, record or replay`);
  const logPath = options.log ?? process.env.LOCKSTEP_LOG;
  if (mode !== Mode.Off && !logPath) throw usage(`mode ${modeName} needs a log file: pass { log } or set LOCKSTEP_LOG`);
  const program = resolve(options.program ?? process.env.LOCKSTEP_PROGRAM ?? process.argv[1] ?? 'eval');
  const patch = options.patchGlobals ?? process.env.LOCKSTEP_PATCH !== '0';

  let log: Log | null = null;
  let limits: Limits;
  let seed: bigint;
  if (mode === Mode.Replay) {
    log = readLog(logPath!);
    const running = identify(program);
    if (!options.allowProgramChange && process.env.LOCKSTEP_ALLOW_PROGRAM_CHANGE !== '1' && running.hash !== log.header.programHash) {
      throw wrongProgram(logPath!, `${log.header.programPath} (sha256 ${log.header.programHash.slice(0, 12)})`,
        `${program} (sha256 ${running.hash.slice(0, 12)})`);
    }
    const recorded = JSON.parse(log.header.options) as RecordedOptions;
    limits = resolveLimits({ ...recorded.limits, stallMsMax: options.limits?.stallMsMax ?? recorded.limits.stallMsMax });
    seed = log.header.seed;
  } else {
    limits = resolveLimits(options.limits);
    seed = BigInt.asUintN(64, BigInt(options.seed ?? process.env.LOCKSTEP_SEED ?? Math.floor(Math.random() * 2 ** 52)));
  }

  const arena = Arena.create(limits);
  const main = arena.addThread(ringWordsFor(mode, limits), RING_HEADER_SLOTS);
  let drain: { worker: Worker; report: Promise<DrainReport> } | null = null;
  if (mode === Mode.Record) {
    LogWriter.create(logPath!, {
      formatVersion: FORMAT_VERSION,
      programPath: program,
      programHash: identify(program).hash,
      args: options.args ?? process.argv.slice(2),
      threadsMax: limits.threadsMax,
      seed,
      nodeVersion: process.version,
      options: JSON.stringify({ limits, patchGlobals: patch } satisfies RecordedOptions),
    });
    drain = startDrain({ arena: arena.buffer, limits, logPath: logPath! });
  }
  const ring = main.ring ? new RingWriter(arena.a, main.ring.base, main.ring.words, main.id, limits.stallMsMax) : null;
  const stream = log ? new StreamReader(streamInit(log, main.id)) : null;
  const thread = new Thread(main.id, mode, arena.a, ring, stream, limits.stallMsMax);
  const until = mode === Mode.Replay ? parseUntil(options.until, process.env.LOCKSTEP_UNTIL) : null;
  if (until?.thread === 0) thread.untilIndex = until.index;
  const restore = mode !== Mode.Off && patch ? patchGlobals(thread) : () => {};
  return new Session(arena, thread, seed, logPath, drain, log, restore, patch, until);
}

/** Rings exist only while recording. */
function ringWordsFor(mode: Mode, limits: Limits): number {
  return mode === Mode.Record ? limits.ringBytes / 4 : 0;
}

function streamInit(log: Log, thread: number): StreamInit {
  const s = log.streams.find((x) => x.thread === thread);
  return StreamReader.build(s?.events ?? new Int32Array(0), s?.data ?? new Uint8Array(0), log.trailer.cutOff);
}

function parseUntil(given: { thread: number; index: number } | undefined, env: string | undefined): { thread: number; index: number } | null {
  if (given) return given;
  if (!env) return null;
  const m = /^(\d+):(\d+)$/.exec(env);
  if (!m) throw usage(`LOCKSTEP_UNTIL must look like <thread>:<event>, e.g. 2:150; got "${env}"`);
  return { thread: Number(m[1]), index: Number(m[2]) };
}

function startDrain(init: DrainInit): { worker: Worker; report: Promise<DrainReport> } {
  const worker = new Worker(new URL('../recorder/drain.js', import.meta.url), { workerData: { drain: init } });
  worker.unref();
  const report = new Promise<DrainReport>((resolveReport, reject) => {
    worker.on('message', (m: { type: string; report?: DrainReport; error?: unknown }) => {
      if (m.type === 'done') resolveReport(m.report!);
      else reject(revive(m.error));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new LockstepError('ERR_DRAIN_STALL', `the log drain exited early (code ${code})`)));
  });
  report.catch(() => {});
  return { worker, report };
}

function toHref(entry: string | URL): string {
  return entry instanceof URL ? entry.href : entry.startsWith('file:') ? entry : new URL(resolve(entry), 'file:').href;
}

function identify(program: string): { hash: string } {
  let content: Uint8Array;
  try {
    content = readFileSync(program.startsWith('file:') ? fileURLToPath(program) : program);
  } catch {
    content = new TextEncoder().encode(program);
  }
  return { hash: createHash('sha256').update(content).digest('hex') };
}
