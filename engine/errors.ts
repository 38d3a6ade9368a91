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
  | 'ERR_DEADLOCK'
  | 'ERR_NOT_HELD'
  | 'ERR_FINISHED'
  | 'ERR_LOG_UNWRITABLE'
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
  | 'ERR_NOT_SERVING'
  | 'ERR_TLS'
  | 'ERR_LEASE_LOST';

/** Where an error records the lockstep classes it is an instance of (see LockstepError's instanceof). */
const BRAND = Symbol.for('lockstep.error.classes');

export class LockstepError extends Error {
  /** This class's name for instanceof by brand; each subclass sets its own. */
  static readonly brand: string = 'LockstepError';

  /**
   * instanceof by brand as well as by prototype: a worker runs lockstep from a bundle
   * (scripts/bundle.mjs) while the program's `lockstep/worker` import loads the modules, so an
   * error one copy throws must still be an instance of the other copy's class.
   */
  static [Symbol.hasInstance](x: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, x)) return true;
    const classes = typeof x === 'object' && x !== null ? (x as { [BRAND]?: unknown })[BRAND] : undefined;
    return Array.isArray(classes) && classes.includes((this as unknown as typeof LockstepError).brand);
  }

  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'LockstepError';
    this.code = code;
    this.details = details;
    const classes: string[] = [];
    for (let c = new.target as typeof LockstepError; c !== (Error as unknown) && c.brand !== undefined; c = Object.getPrototypeOf(c) as typeof LockstepError) {
      if (!classes.includes(c.brand)) classes.push(c.brand);
    }
    Object.defineProperty(this, BRAND, { value: classes });
  }
}

/** The replayed program did something other than what the log says it did. */
export class DivergenceError extends LockstepError {
  static override readonly brand: string = 'DivergenceError';

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
  /**
   * Whether the program's files (entry, worker and task modules) are the recorded ones, by
   * content hash: 'same', 'changed' (replayed with allowProgramChange), or unknown.
   */
  program?: 'same' | 'changed';
}

export function divergence(site: DivergenceSite): DivergenceError {
  let why: string;
  if (site.program === 'same') {
    why = 'The program\'s files are the recorded ones (their content hashes match), so an edit is not the cause. ' +
      'Look for a data race outside lockstep\'s objects (shared memory touched without a lockstep lock or atomic), ' +
      'a value lockstep does not intercept (an environment variable, a file, the network, process.hrtime, timer timing, ' +
      'a worker\'s threadId), or a lockstep bug (please report it with the log).';
  } else if (site.program === 'changed') {
    why = 'The program\'s files differ from the recorded ones (replayed with allowProgramChange): the edit is the likely ' +
      'cause; replay the exact program that was recorded, or record again.';
  } else {
    why = 'The program, its inputs or its worker files differ from the recorded run, or something nondeterministic ' +
      'happened outside lockstep; replay the exact program that was recorded, or record again.';
  }
  return new DivergenceError(
    `replay diverged in thread ${site.thread} at event ${site.index}: the log expects ${site.expected}, ` +
      `but the program did ${site.actual}. ${why}`,
    { ...site },
  );
}

/**
 * Where a digest mismatch is (replayer/checkpoint.ts): the regions and ranges that differ at the
 * end, the first checkpoint that differed, and per thread the events after which memory diverged.
 */
export interface DigestWhere {
  /** One line naming the regions, the ranges and the events. */
  text: string;
}

export function digestMismatch(recorded: string, replayed: string, where: DigestWhere | null = null): LockstepError {
  return new LockstepError(
    'ERR_DIGEST_MISMATCH',
    `replay finished but its digest ${replayed.slice(0, 16)}… differs from the recorded ${recorded.slice(0, 16)}…: ` +
      `some shared memory was changed outside lockstep's sync objects (a data race) or by an unrecorded ` +
      `input. ${where ? `${where.text[0]!.toUpperCase()}${where.text.slice(1)}. ` : ''}Protect every racy access with a lockstep object, and route inputs through lockstep.`,
    { recorded, replayed, ...(where ? { ...where } : {}) },
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

/** The log file cannot be created or written (a missing folder, no permission, a read-only disk). */
export function logUnwritable(path: string, e: NodeJS.ErrnoException): LockstepError {
  const why = e.code === 'ENOENT' ? 'its folder does not exist' : e.code === 'ENOTDIR' ? 'part of its path is not a folder' : `${e.code ?? 'error'}: ${e.message}`;
  return new LockstepError('ERR_LOG_UNWRITABLE', `cannot write the log ${path}: ${why}. Record into a folder that exists and is writable.`, { path, why });
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

/** The thread asked for a lock it already holds: it would wait for itself forever. */
export function deadlock(thread: number, what: string): LockstepError {
  return new LockstepError('ERR_DEADLOCK',
    `thread ${thread} would deadlock: it ${what}. lockstep locks are not re-entrant; release the lock first, or restructure the code.`,
    { thread, what });
}

/** The thread released (or waited with) a lock it does not hold. */
export function notHeld(thread: number, what: string): LockstepError {
  return new LockstepError('ERR_NOT_HELD',
    `thread ${thread} ${what}. Only the thread that holds a lock may release it (or wait on a condition with it), once per acquisition.`,
    { thread, what });
}

/** The session has finished (or failed): nothing more can be recorded or replayed in it. */
export function finished(what: string): LockstepError {
  return new LockstepError('ERR_FINISHED', `${what} after the session finished; finish() must be the program's last lockstep call.`, { what });
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

/** A program's own error, as it crosses a thread boundary: structured clone keeps neither `code` nor the class. */
export interface ForeignError {
  foreign: true;
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/**
 * A program error rebuilt on this side: an Error whose name, message, code and stack are own
 * enumerable properties, so `JSON.stringify(exit.error)` shows them (a plain Error prints `{}`).
 */
function reviveForeign(r: ForeignError): Error {
  const e = new Error(r.message);
  for (const [key, value] of [['name', r.name], ['message', r.message], ['code', r.code], ['stack', r.stack]] as const) {
    if (value !== undefined) Object.defineProperty(e, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return e;
}

/** A logical thread failed (its module did not load, or it threw): by default the run fails with it. */
export function threadFailed(thread: number, cause: Error): LockstepError {
  const code = (cause as { code?: unknown }).code;
  const what = `${cause.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${cause.message}`;
  return new LockstepError('ERR_THREAD_FAILED',
    `thread ${thread} failed: ${what}. The run stops with it; a program that handles thread failures itself ` +
    `can pass start({ threadFailures: 'handle' }) and read them from spawn(…).exited.`,
    { thread, cause: { name: cause.name, message: cause.message, code: typeof code === 'string' ? code : undefined, stack: cause.stack } });
}

/** Rebuilds an error that crossed a thread boundary (structured clone drops the class). */
export function revive(raw: unknown): Error {
  if (raw && typeof raw === 'object' && (raw as { foreign?: unknown }).foreign === true) return reviveForeign(raw as ForeignError);
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
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { foreign: true, name: e.name, message: e.message, code: typeof code === 'string' ? code : undefined, stack: e.stack } satisfies ForeignError;
  }
  return { foreign: true, name: 'Error', message: `a non-error was thrown: ${String(e)}` } satisfies ForeignError;
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
export function deadlockCycle(links: DeadlockLink[]): LockstepError {
  const what = links.map((l) => `thread ${l.thread} waits for ${l.object}, held by thread ${l.heldBy}`).join('; ');
  return new LockstepError('ERR_DEADLOCK',
    `deadlock: ${what}. Each of these threads waits for an object another one holds, so none can go on. ` +
    'Take locks in one global order (or use tryLock and back off); replay the log to watch the threads get there.', { cycle: links });
}

/**
 * The error event's object that marks a deadlock report (other thread errors use 0). Here, not in
 * deadlock.ts, so that a thread replaying one (thread.ts) does not load the detector: a thread in
 * mode off without detection loads neither deadlock.ts nor wait_for.ts.
 */
export const ERROR_DEADLOCK = 1;

/** Replay: the deadlock report logged at this point, rebuilt. */
export function deadlockFromLog(payload: Uint8Array): Error {
  const { links } = JSON.parse(new TextDecoder().decode(payload)) as { links: DeadlockLink[] };
  return deadlockCycle(links);
}

/** A replicated node asked to answer (a read) when it cannot prove it is the live node. */
export function notServing(node: string, why: string): LockstepError {
  return new LockstepError('ERR_NOT_SERVING', `node ${node} cannot answer: ${why}. Ask the live node.`, { node, why });
}

/** The TLS layer of the log channel or the arbiter: a certificate that cannot be read, or a peer refused at the handshake. */
export function tlsError(what: string, why: string): LockstepError {
  return new LockstepError('ERR_TLS', `TLS ${what}: ${why}. Check --tls-cert, --tls-key and --tls-ca (all from the same cluster CA), ` +
    'or leave them out to use the key derived from the cluster secret.', { what, why });
}

/** A live node's etcd lease ended (etcd unreachable for its TTL, or the lease revoked): it can no longer be sure it owns the epoch. */
export function leaseLost(node: string, epoch: number, why: string): LockstepError {
  return new LockstepError('ERR_LEASE_LOST',
    `node ${node} lost its etcd lease for epoch ${epoch} (${why}): it can no longer be sure it is the live node, so it stops ` +
    '(fail-stop) and the other node may take over. Check the etcd cluster, then start this node again as a backup with --join.',
    { node, epoch, why });
}
