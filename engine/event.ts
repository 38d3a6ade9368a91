// The event model: one nondeterministic observation by one logical thread. In rings, in replay
// streams and in the log, an event is two 32-bit words, optionally followed by a payload:
//
//   head = kind << 24 | object        (object: 24-bit sync-object id, value kind, or thread id)
//   arg  = version | result | payload byte length
//
// In a ring the payload follows inline, padded to whole words; in a log chunk it moves to the
// chunk's `data` bytes. An *ordered* event carries (object, version): replay runs it only when the
// object's version word equals `arg`, and the drain never ships (object, v) before (object, v-1).

export const enum Kind {
  Lock = 1,
  TryOk = 2,
  TryFail = 3,
  ReadLock = 4,
  WriteLock = 5,
  SemAcquire = 6,
  Barrier = 7,
  Send = 8,
  Recv = 9,
  PollOk = 10,
  PollEmpty = 11,
  Close = 12,
  WaitResult = 13,
  /** A poll that found the channel empty and closed: ordered, because "closed" is ordered state. */
  PollClosed = 14,
  AtomicAdd = 20,
  AtomicSub = 21,
  AtomicAnd = 22,
  AtomicOr = 23,
  AtomicXor = 24,
  AtomicExchange = 25,
  AtomicCompareExchange = 26,
  AtomicLoad = 27,
  AtomicStore = 28,
  Value = 40,
  Input = 41,
  Output = 42,
  Spawn = 50,
  Exit = 51,
  Error = 52,
  /** Worker: starts pool task `arg`. */
  TaskStart = 53,
  /** Main: task `arg` goes to pool worker `object` (a logical thread id). */
  TaskAssign = 54,
  /** Main: observes task `arg` succeed (completion order). */
  TaskDone = 55,
  /** Main: observes task `arg` fail (object 0: it threw; 1: aborted before it started). */
  TaskFailed = 56,
  /** Main: creates pool `object` with `arg` workers. */
  Pool = 57,
  End = 60,
  /**
   * Main: a checkpoint's block digests (engine/checkpoint.ts) as payload; object 0: a cut taken
   * while recording (payload word 0: its number), object 1: the blocks at the end of the run.
   */
  Checkpoint = 61,
  /** Another thread's place in checkpoint `arg`'s cut: it stopped here (replay stops it here too). */
  CheckpointMark = 62,
}

export const kindNames: Record<number, string> = {
  [Kind.Lock]: 'lock',
  [Kind.TryOk]: 'try-acquire(ok)',
  [Kind.TryFail]: 'try-acquire(failed)',
  [Kind.ReadLock]: 'read-lock',
  [Kind.WriteLock]: 'write-lock',
  [Kind.SemAcquire]: 'semaphore-acquire',
  [Kind.Barrier]: 'barrier-wait',
  [Kind.Send]: 'channel-send',
  [Kind.Recv]: 'channel-receive',
  [Kind.PollOk]: 'channel-poll(got)',
  [Kind.PollEmpty]: 'channel-poll(empty)',
  [Kind.Close]: 'channel-close',
  [Kind.WaitResult]: 'condition-wait',
  [Kind.PollClosed]: 'channel-poll(closed)',
  [Kind.AtomicAdd]: 'atomic-add',
  [Kind.AtomicSub]: 'atomic-sub',
  [Kind.AtomicAnd]: 'atomic-and',
  [Kind.AtomicOr]: 'atomic-or',
  [Kind.AtomicXor]: 'atomic-xor',
  [Kind.AtomicExchange]: 'atomic-exchange',
  [Kind.AtomicCompareExchange]: 'atomic-compareExchange',
  [Kind.AtomicLoad]: 'atomic-load',
  [Kind.AtomicStore]: 'atomic-store',
  [Kind.Value]: 'value',
  [Kind.Input]: 'input',
  [Kind.Output]: 'output',
  [Kind.Spawn]: 'spawn',
  [Kind.Exit]: 'exit',
  [Kind.Error]: 'error',
  [Kind.TaskStart]: 'task-start',
  [Kind.TaskAssign]: 'task-assign',
  [Kind.TaskDone]: 'completion-order(ok)',
  [Kind.TaskFailed]: 'completion-order(failed)',
  [Kind.Pool]: 'pool',
  [Kind.End]: 'end',
  [Kind.Checkpoint]: 'checkpoint',
  [Kind.CheckpointMark]: 'checkpoint-mark',
};

/** Value kinds: the object field of a Value event. */
export const enum ValueKind {
  Now = 0,
  Random = 1,
  RandomBytes = 2,
  DateNow = 3,
  PerfNow = 4,
  Uuid = 5,
  /** Semaphore.available: a count read outside the ordered step, so replay takes it from the log. */
  Permits = 6,
  /** Main thread: the sha256 of a module file lockstep starts (a spawn's entry, a pool's task module). */
  Module = 7,
}

export const valueKindNames = ['now', 'random', 'randomBytes', 'Date.now', 'performance.now', 'randomUUID', 'semaphore.available', 'module'];

export const OBJECT_BITS = 24;
export const OBJECT_MASK = (1 << OBJECT_BITS) - 1;

export function head(kind: Kind, object: number): number {
  return ((kind << OBJECT_BITS) | object) | 0;
}

export function kindOf(head: number): number {
  return head >>> OBJECT_BITS;
}

export function objectOf(head: number): number {
  return head & OBJECT_MASK;
}

/** Per kind (a head's top byte): known (a kind this format has), ordered, followed by a payload. */
const KNOWN = 1;
const ORDERED = 2;
const PAYLOAD = 4;
const KIND_FLAGS = new Uint8Array(256);
for (let k = 0; k < 256; k++) if (kindNames[k] !== undefined) KIND_FLAGS[k] = KNOWN;
for (let k = Kind.Lock; k <= Kind.Close; k++) if (k !== Kind.TryFail && k !== Kind.PollEmpty) KIND_FLAGS[k] |= ORDERED;
KIND_FLAGS[Kind.PollClosed] |= ORDERED;
for (let k = Kind.AtomicAdd; k <= Kind.AtomicStore; k++) KIND_FLAGS[k] |= ORDERED;
for (const k of [Kind.Value, Kind.Input, Kind.Output, Kind.Error, Kind.End, Kind.Checkpoint]) KIND_FLAGS[k] |= PAYLOAD;

/** A kind this log format has (the log reader refuses a chunk with any other). */
export function isKnownKind(kind: number): boolean {
  return (KIND_FLAGS[kind & 0xff]! & KNOWN) !== 0;
}

/**
 * An ordered event takes a version of its object; replay waits for that version. (A table
 * lookup: the drain and the replay reader ask it of every event.)
 */
export function isOrdered(kind: number): boolean {
  return (KIND_FLAGS[kind & 0xff]! & ORDERED) !== 0;
}

/** A payload event's arg is the byte length of the payload that follows it. */
export function hasPayload(kind: number): boolean {
  return (KIND_FLAGS[kind & 0xff]! & PAYLOAD) !== 0;
}

/**
 * Payload words are little-endian (a ring holds a payload's bytes as words, RingWriter.pushPayload);
 * a word view of payload bytes reads and writes them so only on a little-endian machine.
 */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function payloadWords(bytes: number): number {
  return (bytes + 3) >>> 2;
}

/** Human description of an event, used in divergence reports and by inspect. */
export function describe(headWord: number, arg: number): string {
  const kind = kindOf(headWord);
  const object = objectOf(headWord);
  const name = kindNames[kind] ?? `kind#${kind}`;
  if (kind === Kind.Value) return `${name}(${valueKindNames[object] ?? object})`;
  if (kind === Kind.Spawn) return `${name}(thread ${object})`;
  if (kind === Kind.Exit) return `${name}(code ${arg})`;
  if (kind === Kind.Error || kind === Kind.End) return name;
  if (kind === Kind.Checkpoint) return object === 1 ? `${name}(end)` : name;
  if (kind === Kind.CheckpointMark) return `${name}(${arg >>> 0})`;
  if (kind === Kind.TaskStart || kind === Kind.TaskDone) return `${name}(task ${arg})`;
  if (kind === Kind.TaskFailed) return `${name}(task ${arg}, ${object === 1 ? 'aborted' : 'threw'})`;
  if (kind === Kind.TaskAssign) return `${name}(task ${arg} → thread ${object})`;
  if (kind === Kind.Pool) return `${name}(${object}, ${arg} workers)`;
  if (kind === Kind.WaitResult) return `${name}(object ${object}, ${arg === 0 ? 'notified' : 'timed-out'})`;
  if (isOrdered(kind)) return `${name}(object ${object}, version ${arg >>> 0})`;
  return `${name}(object ${object})`;
}
