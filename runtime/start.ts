// The composition root: start() resolves the run's options, makes the arena, opens the log
// (record) or reads it (replay), starts the drain, wires replication, builds the main thread's
// Thread from the engine's parts, and hands it all to a Session. Nothing else assembles a run.

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import { Arena } from '../engine/arena.js';
import { RING_HEADER_SLOTS } from '../engine/arena_layout.js';
import { live } from '../engine/thread_api.js';
import { LockstepError, logCorrupt, logUnwritable, usage, wouldOverwrite } from '../engine/errors.js';
import { FORMAT_VERSION, MAGIC } from '../engine/log/format.js';
import { resolveLimits, type Limits } from '../engine/limits.js';
import { parseChaos, type ChaosOptions } from '../engine/chaos.js';
import { Mode, Thread, modeNames, type ModeName } from '../engine/thread.js';
import type { HeaderData } from '../engine/log/codec.js';
import type { RecordedOptions } from '../engine/log/header_check.js';
import { frame } from '../engine/log/frame.js';
import type { ReplayLog } from '../replayer/log_reader.js';
import type { Snapshot } from '../replication/snapshot.js';
import type { Drain } from './drain_life.js';
import { identify, recordedOptions } from './identity.js';
import type { LiveRun } from './live.js';
import { given, parseSeed, parseUntil, type StartOptions } from './options.js';
import { claimProcess, failureOf, loadParts, partsIfLoaded, reportUncaught, settleProcess, writeResultFile } from './process_run.js';
import { Session } from './session.js';
import { ringWordsFor, streamInit } from './threads.js';

/** Starts a run on the main thread (logical thread 0). */
export async function start(options: StartOptions = {}): Promise<Session> {
  claimProcess();
  try {
    const session = await startSession(options);
    settleProcess(session);
    return session;
  } catch (e) {
    settleProcess(null);
    writeResultFile(failureOf(e));
    throw e;
  }
}

async function startSession(options: StartOptions): Promise<Session> {
  reportUncaught();
  // A harness (the CLI, a test runner, $LOCKSTEP_*) outranks the program's own start options: a
  // program that names its own log must still be replayable, and a replay must never record
  // (runtime/options.ts: which wins, variable by variable).
  const asked = given(options);
  // Mode off without replication never loads the log codec, the log's reader and writer or the
  // replication layer (run_parts.ts); every path below that uses `parts` runs in another mode.
  const off = asked.mode === 'off' && !asked.replication && !asked.replicationText;
  if (!off) await loadParts();
  // Nor, unless asked, the patches, the seeded generator or the deadlock detector (5 modules fewer
  // to load; issue 11 target 3). Loaded here, before anything has started, as run_parts.ts is.
  const [patching, prng, detector] = await Promise.all([
    off ? null : import('../engine/patch.js'),
    off && asked.seed === undefined ? null : import('../engine/prng.js'),
    off && !asked.deadlock ? null : import('../engine/deadlock.js'),
  ]);
  const parts = partsIfLoaded();
  const repl = parts ? parts.resolveReplication(asked.replication, asked.replicationText) : null;
  const modeName = (repl ? (repl.role === 'primary' ? 'record' : 'replay') : asked.mode) as ModeName;
  let mode = modeNames.indexOf(modeName) as Mode;
  if (mode < 0) throw usage(`unknown mode "${modeName}": use off, record or replay`);
  let logPath = asked.log;
  if (repl?.role === 'primary' && !logPath) logPath = `lockstep-${repl.node}.log`;
  if (mode !== Mode.Off && !logPath && !repl) throw usage(`mode ${modeName} needs a log file: pass { log } or set LOCKSTEP_LOG`);
  const program = asked.program;
  let patch = asked.patchGlobals;
  const allowChange = asked.allowProgramChange;
  const threadFailures = options.threadFailures ?? 'fail';
  if (threadFailures !== 'fail' && threadFailures !== 'handle') throw usage(`threadFailures must be 'fail' or 'handle', got ${String(threadFailures)}`);
  // Names this process's live-stream channels: Math.random's original, not node:crypto (mode off never loads it).
  const runId = [live.random(), live.random()].map((x) => Math.floor(x * 2 ** 32).toString(16).padStart(8, '0')).join('');
  const replica = repl ? new parts!.Replica(repl, 0) : null;

  let log: ReplayLog | null = null;
  let limits: Limits;
  let seed: bigint;
  /** An explicit seed makes recorded random values repeat (one seeded generator per thread). */
  let seeded = false;
  /** Replay: whether the entry file is the recorded one (module files are checked as they start). */
  let identity: 'same' | 'changed' | undefined;
  let header: HeaderData | null = null;
  let snapshot: Snapshot | null = null;
  if (repl?.role === 'backup') {
    // The run's identity, seed and limits come from the primary's log header.
    const got = await replica!.startReceiver(runId);
    try {
      header = parts!.decodeHeader(got.header);
    } catch (e) {
      replica!.stop();
      throw logCorrupt(`the primary's log`, 0, `undecodable header: ${(e as Error).message}`);
    }
    snapshot = got.snapshot as Snapshot | null;
    let recorded: ReturnType<typeof recordedOptions>;
    try {
      recorded = recordedOptions(header, `the primary's log`, program, allowChange);
    } catch (e) {
      replica!.stop();
      throw e;
    }
    limits = resolveLimits({ ...recorded.limits, stallMsMax: options.limits?.stallMsMax ?? recorded.limits.stallMsMax });
    identity = recorded.program;
    seed = header.seed;
    patch = recorded.patchGlobals;
    // A joining backup runs the program's setup without a log (same layout) until its first input.
    if (snapshot) mode = Mode.Off;
  } else if (mode === Mode.Replay) {
    log = parts!.readReplayLog(logPath!);
    const recorded = recordedOptions(log.header, logPath!, program, allowChange);
    identity = recorded.program;
    limits = resolveLimits({ ...recorded.limits, stallMsMax: options.limits?.stallMsMax ?? recorded.limits.stallMsMax });
    seed = log.header.seed;
  } else {
    limits = resolveLimits(options.limits);
    seeded = asked.seed !== undefined;
    seed = asked.seed === undefined ? BigInt(Math.floor(Math.random() * 2 ** 52)) : parseSeed(asked.seed);
  }
  let chaos: ChaosOptions | null = null;
  if (mode === Mode.Record && !repl) {
    try {
      chaos = parseChaos(asked.chaos, seed, parseSeed);
    } catch (e) {
      throw e instanceof RangeError ? usage(e.message) : e;
    }
  }

  const arena = Arena.create(limits);
  const main = arena.addThread(ringWordsFor(mode, limits, repl !== null), RING_HEADER_SLOTS);
  const floors = new SharedArrayBuffer((limits.objectsMax + 1) * 4);
  const cutVersions = new SharedArrayBuffer((limits.objectsMax + 1) * 4);
  let drain: Drain | null = null;
  if (mode === Mode.Record) {
    header = {
      formatVersion: FORMAT_VERSION,
      programPath: program,
      programHash: identify(program).hash,
      args: options.args ?? process.argv.slice(2),
      threadsMax: limits.threadsMax,
      seed,
      nodeVersion: process.version,
      options: JSON.stringify({ limits, patchGlobals: patch, ...(chaos ? { chaos: { seed: chaos.seed.toString(), strength: chaos.strength } } : {}) } satisfies RecordedOptions),
    };
    if (repl) replica!.epoch = await parts!.claimEpoch(repl);
    refuseOverwrite(logPath!);
    try {
      parts!.LogWriter.create(logPath!, header);
    } catch (e) {
      throw logUnwritable(logPath!, e as NodeJS.ErrnoException);
    }
    if (repl) {
      const ship = new MessageChannel();
      drain = parts!.startDrain({ arena: arena.buffer, limits, logPath: logPath!, ship: { port: ship.port1, lagBytesMax: repl.lagBytesMax, cutVersions } }, [ship.port1]);
      const port = await replica!.startSender({ arena: arena.buffer, header: frame(parts!.encodeHeader(header)), frames: ship.port2, alone: false });
      console.error(`lockstep: ${repl.node} is the primary (epoch ${replica!.epoch}); log channel on ${repl.listen!.host}:${port}`);
    } else {
      drain = parts!.startDrain({ arena: arena.buffer, limits, logPath: logPath! });
    }
  }
  const ring = main.ring && mode === Mode.Record ? new parts!.RingWriter(arena.a, main.ring.base, main.ring.words, main.id, limits.stallMsMax) : null;
  const backup = repl?.role === 'backup';
  const stream = backup ? new parts!.StreamReader(parts!.liveStream(runId, arena, main.id)) : log ? new parts!.StreamReader(streamInit(log, main.id)) : null;
  const thread = new Thread(main.id, mode, arena.a, ring, stream, limits.stallMsMax);
  if (backup) {
    thread.liveSetup = parts!.liveSetup(arena, main.id, floors, snapshot !== null);
    replica!.attach({ arena: arena.buffer, limits, floors, versions: snapshot?.versions });
  }
  const until = mode === Mode.Replay && !repl ? parseUntil(options.until, asked.untilText) : null;
  if (until?.thread === 0) thread.untilIndex = until.index;
  if (seeded) thread.seeded = new prng!.SeededRandom(seed, main.id);
  if (chaos) thread.chaos = new parts!.ChaosDriver(arena.a, chaos, main.id);
  const watchDeadlock = !repl && (mode === Mode.Record || mode === Mode.Off) && (asked.deadlock ?? mode === Mode.Record);
  if (watchDeadlock) thread.deadlock = new detector!.DeadlockWatch(thread, arena);
  const checkpointMs = mode === Mode.Record && !repl ? parts!.checkpointMsOf(asked.checkpointMs) : 0;
  const checkpointing = {
    taker: checkpointMs > 0 ? new parts!.CheckpointTaker(arena, thread, checkpointMs, parts!.CHECKPOINT_WAIT_MS, live.perfNow) : null,
    judge: mode === Mode.Replay || backup ? new parts!.CheckpointJudge(arena, thread) : null,
  };
  if (checkpointing.judge) parts!.attachArrival(thread, arena, checkpointing.judge);
  thread.program = identity;
  const restore = (mode !== Mode.Off || backup) && patch ? patching!.patchGlobals(thread) : () => {};
  const liveRun: LiveRun | null = repl ? { repl, replica: replica!, header: header!, floors, cutVersions, snapshot } : null;
  return new Session({
    arena, thread, seed, logPath, drain, log, restore, patch, until, runId, live: liveRun, chaos, watchDeadlock, threadFailures,
    allowProgramChange: allowChange, checkpointing,
  });
}

/**
 * Recording truncates its log file: that is only safe for a file that is missing, empty, or an
 * earlier lockstep log. Anything else (a source file, a document) is someone's data.
 */
function refuseOverwrite(path: string): void {
  let fd: number;
  try {
    if (statSync(path).isDirectory()) throw wouldOverwrite(path, 'it is a directory');
    fd = openSync(path, 'r');
  } catch (e) {
    if (e instanceof LockstepError) throw e;
    return; // missing (or unreadable: opening it for writing reports that)
  }
  try {
    const head = new Uint8Array(MAGIC.length);
    const n = readSync(fd, head, 0, head.length, 0);
    if (n > 0 && !(n === MAGIC.length && head.every((b, i) => b === MAGIC[i]))) throw wouldOverwrite(path, 'it exists and is not a lockstep log');
  } finally {
    closeSync(fd);
  }
}
