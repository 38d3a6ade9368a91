// Layout of the shared arena: one SharedArrayBuffer, made by the main thread at start and never
// grown, that holds the control block, the name directory, the thread table, every event ring,
// every sync object and every registered region. Offsets are Int32 slot indices.
//
//   [0, CONTROL_SLOTS)                control block (below)
//   [DIR_BASE, +namesMax*DIR_SLOTS)   directory: one entry per registered name
//   [threadTable, +threadsMax*THREAD_SLOTS)  thread table: one entry per logical thread
//   [waiters, +WAITER_LINES*WAITER_STRIDE)  replay: parked-waiter counts by version word (waiterSlot)
//   [heap, arenaBytes/4)              bump-allocated rings, sync objects and regions

export const ARENA_MAGIC = 0x4c4b5354; // 'LKST'

// Control block.
export const C_MAGIC = 0;
/** Non-zero once any thread failed in replay: every waiting thread stops. */
export const C_ABORT = 1;
/** Directory entries published so far (the main thread writes, others read). */
export const C_NAMES = 2;
/** Next free heap slot (main thread only). */
export const C_TOP = 3;
/** Next sync-object id (ids start at 1; 0 means "no object"). */
export const C_OBJECTS = 4;
/** Logical threads created so far, main thread included. */
export const C_THREADS = 5;
/** The drain sleeps on this word; a producer with a full ring rings it. */
export const C_DOORBELL = 6;
/**
 * Set by the main thread when the run ends: FINISH_SEALED (finish(): the drain ships everything
 * and stops) or FINISH_CUT_OFF (the process is exiting without finish(): ship what can be
 * shipped, mark the log cut off). The drain sets C_DRAIN_DONE when the log is closed.
 */
export const C_FINISH = 7;
export const FINISH_SEALED = 1;
export const FINISH_CUT_OFF = 2;
export const C_DRAIN_DONE = 9;
/** First slot of the waiter table (waiterSlot), written once at start. */
export const C_WAITERS = 8;

// Live replication (replication/, including replication/sender.ts and replication/receiver.ts).
/** Backup: 0 while the primary streams; the new epoch once this node has won cutover. */
export const C_LIVE = 10;
/** Primary: frames the backup has acknowledged (written by the sender, read by the drain). */
export const C_ACKED_FRAMES = 11;
/** Primary: 1 while no backup is attached (the output gate is open and the lag is unbounded). */
export const C_ALONE = 12;
/** Primary: frames the drain has shipped. */
export const C_SHIPPED_FRAMES = 13;
/** Primary: a state-transfer cut: the main thread sets CUT_REQUESTED, the drain answers with the last frame seq + 1. */
export const C_CUT = 14;
export const CUT_REQUESTED = -1;
/** Primary: times the drain held a frame back because the backup lagged by more than lagBytesMax. */
export const C_LAG_WAITS = 15;
/** Joining backup: 1 once the state-transfer snapshot is in the arena; pool workers then start replaying. */
export const C_JOINED = 16;
/** 1 while the drain ships to a backup: an output then rings the doorbell (the gate holds it until its frame is acknowledged). */
export const C_OUTPUT_BELL = 17;
/** Chaos recording: the last thread (id + 1) that found a mutex held at a sync point, until it gets through (recorder/chaos.ts). */
export const C_CHAOS_LOSER = 18;
/** Deadlock detection: 0, or the thread (id + 1) elected to report a wait-for cycle (engine/deadlock.ts). */
export const C_DEADLOCK = 19;
/** Chaos recording: sync points passed by all threads together (held-back threads wait on it). */
export const C_CHAOS_TICKS = 20;
/** Checkpoints (recorder/checkpoint.ts, replayer/checkpoint.ts): the checkpoint being taken (its number, from 1), or 0. */
export const C_CKPT = 21;
/** Checkpoints: the number of the last checkpoint completed (recorded, or compared in replay). */
export const C_CKPT_DONE = 22;
/** Checkpoints: bumped and notified at every arrival (the coordinator waits on it). */
export const C_CKPT_ARRIVED = 23;
export const CONTROL_SLOTS = 24;

// Directory entry.
export const DIR_BASE = CONTROL_SLOTS;
export const D_KIND = 0;
export const D_OFFSET = 1; // first slot of the first object or region
export const D_COUNT = 2; // objects in the group, or region length in elements
export const D_TYPE = 3; // element type of a region, or slots per object
export const D_FIRST_ID = 4; // id of the first object in a group
export const D_PARAM = 5; // kind-specific (initial count, parties, capacity)
export const D_NAME_LEN = 6;
export const D_NAME = 8; // name bytes start here
export const NAME_BYTES_MAX = 64;
export const DIR_SLOTS = D_NAME + NAME_BYTES_MAX / 4;

// A thread's ring (recorder/ring.ts): its header (head, waiting flag, tail a cache line on), then
// its data. Here, not in ring.ts, so that mode off, which has no rings, need not load the ring.
export const RING_HEADER_SLOTS = 32;

// Thread table entry.
export const T_RING = 0; // first slot of the thread's ring (record mode)
export const T_RING_WORDS = 1;
export const T_STATE = 2; // 0 unused, 1 created, 2 its worker has attached (once only)
export const T_OUTPUTS = 3; // outputs the thread has emitted
export const T_OUTPUT_DIGEST = 4; // 8 slots: the thread's outputs chained (engine/output_chain.ts)
export const T_PROGRESS = 12; // replay: events this thread has replayed (updated every 256)
export const T_FED = 13; // backup: log segments the receiver has posted to this thread (it waits on this word)
export const T_CONSUMED = 14; // backup: log bytes this thread has replayed (wrapping), for the receiver's lag bound
export const T_LIVE_FROM = 15; // backup after cutover: the event index at which the thread went live (-1 before)
export const T_LIVE_OUTPUTS = 16; // backup after cutover: the thread's output count when it went live
// Deadlock detection (engine/deadlock.ts): a thread about to block on a lock publishes what it
// waits for and what it holds here, under a sequence word (odd while it rewrites the record).
export const T_WAIT_SEQ = 17;
export const T_WAIT_FOR = 18; // the object id it is blocked on (0: not blocked)
export const T_WAIT_HOW = 19; // how it waits (WaitHow in deadlock.ts)
export const T_HOLDS_COUNT = 20; // objects it holds (the first HOLDS_PUBLISHED_MAX are listed)
export const T_HOLDS = 21;
export const HOLDS_PUBLISHED_MAX = 10;
// Checkpoints: the thread's part in the current cut (CKPT_* below, or the checkpoint's number it
// stopped for) and the event index it stopped at.
export const T_CKPT = 31;
export const T_CKPT_INDEX = 32;
/** T_CKPT: running lockstep-unknown code (the coordinator waits for it to reach a sync point). */
export const CKPT_RUNNING = 0;
/** T_CKPT: blocked in a lockstep wait, or not started, or an idle pool worker: stopped where it is. */
export const CKPT_PARKED = -1;
/** T_CKPT: the thread has exited: it takes no part. */
export const CKPT_GONE = -2;
export const THREAD_SLOTS = 40;

export const enum EntryKind {
  Region = 1,
  Mutex = 2,
  Condition = 3,
  Semaphore = 4,
  Barrier = 5,
  RwLock = 6,
  Atomic = 7,
  Channel = 8,
}

export const entryKindNames: Record<number, string> = {
  1: 'region', 2: 'mutex', 3: 'condition', 4: 'semaphore', 5: 'barrier', 6: 'rwlock', 7: 'atomic', 8: 'channel',
};

/**
 * Object ids one object of a kind takes (by its name in entryKindNames): a channel takes two, its
 * send side (sends, close) and its receive side (receives, polls), each with its own version word
 * (engine/sync/channel.ts says why); every other object one.
 */
export function idsPerObject(kindName: string): number {
  return kindName === 'channel' ? 2 : 1;
}

/**
 * How a user knows object `object` of the group `name` (ids from `firstId`, `count` objects):
 * `account[3]`, `m`; a channel's send side is `jobs`, its receive side `jobs (receive side)`;
 * `quote` puts the name in quotes.
 */
export function objectLabel(name: string, kindName: string, firstId: number, count: number, object: number, quote = false): string {
  const per = idsPerObject(kindName);
  const q = quote ? '"' : '';
  const index = count > 1 || kindName === 'atomic' ? `[${Math.floor((object - firstId) / per)}]` : '';
  const side = per === 2 && (object - firstId) % 2 === 1 ? ' (receive side)' : '';
  return `${q}${name}${q}${index}${side}`;
}

export function threadTableBase(namesMax: number): number {
  return DIR_BASE + namesMax * DIR_SLOTS;
}

/**
 * The waiter table: replaying threads parked on a version word right now, by hash of the word's
 * slot, one cache line per hash. One global count, as before, put every park and every publish of
 * every object on one cache line. A line (thread.ts parks and wakes by it):
 *   +0  WAITER_EXACT  waiters with a claimed pair below (threads parked in Thread.park, and the
 *                     main thread's asynchronous wait, Thread.announce)
 *   +1  WAITER_ANY    waiters that want every publish on the line's words (no pair was free)
 *   +2… WAITER_PAIRS pairs (version word's slot, the version it waits for); slot 0: free
 * A publisher that stored version v in word w looks at the line only after a read-modify-write
 * (memory_order.ts) and notifies if WAITER_ANY is not 0 or a pair holds (w, v): a thread parked
 * for a later version is not woken at every step before its own (it was, in the lock ping-pong's
 * replay, at every acquisition of the other thread's streak), and Atomics.notify (~50 ns and a
 * futex wake) is skipped when nobody waits for v.
 */
export const WAITER_LINES = 256;
export const WAITER_STRIDE = 16;
export const WAITER_EXACT = 0;
export const WAITER_ANY = 1;
export const WAITER_PAIRS = 2;

export function waitersBase(namesMax: number, threadsMax: number): number {
  return align(threadTableBase(namesMax) + threadsMax * THREAD_SLOTS, 16);
}

/** The waiter line of the version word at `versionSlot` (shared by the words that hash alike). */
export function waiterSlot(base: number, versionSlot: number): number {
  return base + (versionSlot & (WAITER_LINES - 1)) * WAITER_STRIDE;
}

export function heapBase(namesMax: number, threadsMax: number): number {
  return waitersBase(namesMax, threadsMax) + WAITER_LINES * WAITER_STRIDE;
}

export function align(slot: number, to: number): number {
  return Math.ceil(slot / to) * to;
}
