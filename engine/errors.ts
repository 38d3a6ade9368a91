// Every operating error lockstep raises is made here: a typed error with a stable `code` and a
// message that says what happened and what to do. Programmer errors are assertions (assert.ts).

export type ErrorCode =
  | 'ERR_DIVERGENCE'
  | 'ERR_DIGEST_MISMATCH'
  | 'ERR_LOG_CORRUPT'
  | 'ERR_LOG_TRUNCATED'
  | 'ERR_LOG_VERSION'
  | 'ERR_NOT_A_LOG'
  | 'ERR_WRONG_PROGRAM'
  | 'ERR_LOG_EXISTS'
  | 'ERR_LIMIT'
  | 'ERR_REPLAY_STALL'
  | 'ERR_DRAIN_STALL'
  | 'ERR_ABORTED'
  | 'ERR_USAGE'
  | 'ERR_UNKNOWN_OBJECT'
  | 'ERR_THREAD_FAILED'
  | 'ERR_UNTIL_REACHED'
  | 'ERR_POOL_SIZE'
  | 'ERR_ARBITER_STATE'
  | 'ERR_ARBITER_UNREACHABLE'
  | 'ERR_NOT_LIVE'
  | 'ERR_PEER_REFUSED'
  | 'ERR_CHANNEL_CORRUPT'
  | 'ERR_PEER_LOST'
  | 'ERR_TSX_MISSING'
  | 'ERR_DEADLOCK';

export class LockstepError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'LockstepError';
    this.code = code;
    this.details = details;
  }
}

/** The replayed program did something other than what the log says it did. */
export class DivergenceError extends LockstepError {
  constructor(message: string, details: Record<string, unknown>) {
    super('ERR_DIVERGENCE', message, details);
    this.name = 'DivergenceError';
  }
}

export interface DivergenceSite {
  thread: number;
  index: number;
  expected: string;
  actual: string;
}

export function divergence(site: DivergenceSite): DivergenceError {
  return new DivergenceError(
    `replay diverged in thread ${site.thread} at event ${site.index}: the log expects ${site.expected}, ` +
      `but the program did ${site.actual}. The program, its inputs or its worker files differ from the ` +
      `recorded run; replay the exact program that was recorded, or record again.`,
    { ...site },
  );
}

export function digestMismatch(recorded: string, replayed: string): LockstepError {
  return new LockstepError(
    'ERR_DIGEST_MISMATCH',
    `replay finished but its digest ${replayed.slice(0, 16)}… differs from the recorded ${recorded.slice(0, 16)}…: ` +
      `some shared memory was changed outside lockstep's sync objects (a data race) or by an unrecorded ` +
      `input. Protect every racy access with a lockstep object, and route inputs through lockstep.`,
    { recorded, replayed },
  );
}

export function logCorrupt(path: string, offset: number, why: string): LockstepError {
  return new LockstepError(
    'ERR_LOG_CORRUPT',
    `log ${path} is corrupt at byte ${offset} (${why}); it cannot be replayed. Record the program again.`,
    { path, offset, why },
  );
}

export function logTruncated(path: string, offset: number, why: string): LockstepError {
  return new LockstepError(
    'ERR_LOG_TRUNCATED',
    `log ${path} ends early at byte ${offset} (${why}): the recording was cut off before it finished. ` +
      `Record the program again and let it call finish().`,
    { path, offset, why },
  );
}

export function logVersion(path: string, found: number, supported: number): LockstepError {
  return new LockstepError(
    'ERR_LOG_VERSION',
    `log ${path} has format version ${found}, but this lockstep reads version ${supported}. ` +
      `Replay it with the lockstep release that recorded it, or record again.`,
    { path, found, supported },
  );
}

export function notALog(path: string): LockstepError {
  return new LockstepError(
    'ERR_NOT_A_LOG',
    `${path} is not a lockstep log (its first bytes are not the lockstep magic). Pass a file written by lockstep record.`,
    { path },
  );
}

export function wrongProgram(path: string, recorded: string, running: string): LockstepError {
  return new LockstepError(
    'ERR_WRONG_PROGRAM',
    `log ${path} was recorded from ${recorded}, but the running program is ${running}. Replay the program ` +
      `that was recorded, or pass allowProgramChange: true (CLI: --allow-program-change) to replay anyway.`,
    { path, recorded, running },
  );
}

/** Recording would truncate a file that is not a lockstep log. */
export function wouldOverwrite(path: string, why: string): LockstepError {
  return new LockstepError(
    'ERR_LOG_EXISTS',
    `refusing to record into ${path}: ${why}, and recording would overwrite it. Choose another log file, or remove it first.`,
    { path, why },
  );
}

export function limitExceeded(limit: string, value: number, max: number, what: string): LockstepError {
  return new LockstepError(
    'ERR_LIMIT',
    `limit ${limit} exceeded: ${what} needs ${value}, the limit is ${max}. Raise ${limit} in the start options.`,
    { limit, value, max },
  );
}

export function usage(message: string): LockstepError {
  return new LockstepError('ERR_USAGE', message);
}

export function unknownObject(kind: string, name: string): LockstepError {
  return new LockstepError(
    'ERR_UNKNOWN_OBJECT',
    `no ${kind} named "${name}" is registered. Create it on the main thread (with its size) before a worker attaches to it.`,
    { kind, name },
  );
}

export function replayStall(thread: number, what: string, ms: number): LockstepError {
  return new LockstepError(
    'ERR_REPLAY_STALL',
    `replay stalled: thread ${thread} waited ${ms} ms for ${what}. The log and the program disagree about ` +
      `an ordering, or a thread is missing; check for divergence, or raise stallMsMax for very slow programs.`,
    { thread, what, ms },
  );
}

export function drainStall(thread: number, ms: number): LockstepError {
  return new LockstepError(
    'ERR_DRAIN_STALL',
    `thread ${thread} waited ${ms} ms for space in its event ring: the log drain has stopped. ` +
      `Check the disk holding the log, or raise ringBytes.`,
    { thread, ms },
  );
}

export function aborted(thread: number): LockstepError {
  return new LockstepError(
    'ERR_ABORTED',
    `thread ${thread} stopped because another thread failed; see that thread's error.`,
    { thread },
  );
}

export function untilReached(thread: number, index: number, next: string): LockstepError {
  return new LockstepError(
    'ERR_UNTIL_REACHED',
    `replay stopped where asked: thread ${thread} at event ${index}, before ${next}. Attach a debugger ` +
      `(node --inspect) to inspect the program at this point.`,
    { thread, index, next },
  );
}

/** Rebuilds an error that crossed a thread boundary (structured clone drops the class). */
export function revive(raw: unknown): Error {
  if (raw && typeof raw === 'object' && 'code' in raw && typeof (raw as { code: unknown }).code === 'string') {
    const r = raw as { code: ErrorCode; message: string; details?: Record<string, unknown>; stack?: string };
    const e = r.code === 'ERR_DIVERGENCE' ? new DivergenceError(r.message, r.details ?? {}) : new LockstepError(r.code, r.message, r.details ?? {});
    if (r.stack) e.stack = r.stack;
    return e;
  }
  return raw instanceof Error ? raw : new Error(String(raw));
}

export function serializeError(e: unknown): unknown {
  if (e instanceof LockstepError) return { code: e.code, message: e.message, details: e.details, stack: e.stack };
  return e;
}

/** This node lost the arbiter's flag (or never won it): another node is live, so this one stops. */
export function notLive(node: string, epoch: number, owner: string, when: string): LockstepError {
  return new LockstepError('ERR_NOT_LIVE',
    `node ${node} ${when} and lost the arbiter's flag for epoch ${epoch} to ${owner || 'another node'}: that node is live, ` +
    'so this one stops (fail-stop). Start it again as a backup with --join to restore redundancy.', { node, epoch, owner });
}

/** The replication peer refused us (wrong secret, a second backup, a join it cannot serve). */
export function peerRefused(peer: string, why: string): LockstepError {
  return new LockstepError('ERR_PEER_REFUSED', `${peer} refused this node: ${why}`, { peer, why });
}

/** The log channel carried bytes that are not a valid message (a torn or flipped frame). */
export function channelCorrupt(peer: string, why: string): LockstepError {
  return new LockstepError('ERR_CHANNEL_CORRUPT', `the log channel from ${peer} is corrupt (${why}); the connection is dropped ` +
    'and failure detection decides who stays live.', { peer, why });
}

/** The replication peer could not be reached or went silent. */
export function peerLost(peer: string, why: string): LockstepError {
  return new LockstepError('ERR_PEER_LOST', `lost the replication peer ${peer}: ${why}`, { peer, why });
}

/** A TypeScript entry needs tsx (an optional peer dependency), and it is not installed. */
export function tsxMissing(entry: string, cause: unknown): LockstepError {
  return new LockstepError('ERR_TSX_MISSING',
    `${entry} is TypeScript, which lockstep runs through tsx, but tsx could not be loaded (${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}). ` +
    'Install it beside lockstep (npm install --save-dev tsx), or compile the program and run its .js files.', { entry });
}

/** One thread of a deadlock cycle: it waits for `object`, which `heldBy` holds. */
export interface DeadlockLink {
  thread: number;
  waitsFor: number;
  /** The object, described ("mutex \"a\" (object 1)"). */
  object: string;
  heldBy: number;
}

/** Threads wait for each other in a cycle (deadlock detection, engine/deadlock.ts). */
export function deadlock(links: DeadlockLink[]): LockstepError {
  const what = links.map((l) => `thread ${l.thread} waits for ${l.object}, held by thread ${l.heldBy}`).join('; ');
  return new LockstepError('ERR_DEADLOCK',
    `deadlock: ${what}. Each of these threads waits for an object another one holds, so none can go on. ` +
    'Take locks in one global order (or use tryLock and back off); replay the log to watch the threads get there.', { cycle: links });
}
