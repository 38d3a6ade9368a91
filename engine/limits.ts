import { usage } from './errors.js';

// Every buffer and queue in lockstep is bounded. These are the defaults; start() options override
// them and every value is checked at start. Units are the last word of each name.

export const limitsDefault = {
  /** Logical threads in one run, main thread included. */
  threadsMax: 64,
  /** Sync objects in one run (object ids are 24 bits in the event encoding). */
  objectsMax: 1 << 16,
  /** Registered names (regions and object groups). */
  namesMax: 1024,
  /** The shared arena holding registered memory, sync objects and event rings. */
  arenaBytes: 64 << 20,
  /** One thread's event ring. A full ring makes the thread wait for the drain. */
  ringBytes: 256 << 10,
  /** Events the drain puts in one frame before it cuts the frame. */
  frameEventsMax: 1 << 15,
  /** Largest frame the reader accepts. */
  frameBytesMax: 64 << 20,
  /** Largest payload of one value or input event. */
  payloadBytesMax: 1 << 20,
  /** How long the drain lets a non-empty frame wait before it writes it. */
  flushMs: 20,
  /** How long a replaying thread waits for its turn before it reports a stall. */
  stallMsMax: 60_000,
} as const;

/** The largest arena: slot offsets are Int32 values. */
const ARENA_BYTES_MAX = 2 ** 31;
/** The largest delay a Node timer takes. */
const TIMER_MS_MAX = 2 ** 31 - 1;

export type Limits = { -readonly [K in keyof typeof limitsDefault]: number };

export function resolveLimits(given: Partial<Limits> = {}): Limits {
  const limits: Limits = { ...limitsDefault };
  for (const [key, value] of Object.entries(given)) {
    if (!(key in limitsDefault)) throw usage(`unknown limit ${key}`);
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value <= 0) throw usage(`limit ${key} must be a positive integer, got ${value}`);
    limits[key as keyof Limits] = value;
  }
  if (limits.objectsMax >= 1 << 24) throw usage('objectsMax must be below 2^24 (object ids are 24 bits)');
  // Arena offsets are Int32 slot numbers, and timers overflow past 2^31-1 ms (Node then fires them at once).
  if (limits.arenaBytes % 4 !== 0 || limits.arenaBytes > ARENA_BYTES_MAX) throw usage(`arenaBytes must be a multiple of 4 of at most ${ARENA_BYTES_MAX} (2 GiB), got ${limits.arenaBytes}`);
  for (const key of ['stallMsMax', 'flushMs'] as const) {
    if (limits[key] > TIMER_MS_MAX) throw usage(`limit ${key} must be at most ${TIMER_MS_MAX} ms, got ${limits[key]}`);
  }
  if ((limits.ringBytes & (limits.ringBytes - 1)) !== 0 || limits.ringBytes < 4096) {
    throw usage('ringBytes must be a power of two of at least 4096');
  }
  return limits;
}
