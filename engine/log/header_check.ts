// Checks a decoded log header before anything acts on it. The header's options hold the recorded
// run's limits, and replay sizes its arena, rings and waits from them: a header whose CRC is valid
// but whose content lies (a 2^50-byte arena, a ring of 3 bytes, options that are not JSON) must be
// ERR_LOG_CORRUPT, not a RangeError, a huge allocation or a hang. Every limit is checked against
// what the format can express (`limitsCeiling`); a new limit or option is one line here.

import { logCorrupt } from '../errors.js';
import { limitsDefault, type Limits } from '../limits.js';
import type { HeaderData } from './codec.js';

/** The header options that shape the arena; replay must use the recorded ones. */
export interface RecordedOptions {
  limits: Limits;
  patchGlobals: boolean;
  /** The chaos seed and strength the run was recorded with (information only: replay has no chaos). */
  chaos?: { seed: string; strength: number };
}

/**
 * The largest value of each limit a log may hold: what the encoding can express (24-bit object and
 * thread ids, u32 frame lengths, Int32 indexes into the arena, timer delays below 2^31 ms).
 */
export const limitsCeiling: Record<keyof Limits, number> = {
  threadsMax: 1 << 16,
  objectsMax: (1 << 24) - 1,
  namesMax: 1 << 24,
  arenaBytes: 2 ** 33,
  ringBytes: 2 ** 30,
  frameEventsMax: 2 ** 31 - 1,
  frameBytesMax: 2 ** 32 - 1,
  payloadBytesMax: 2 ** 31 - 1,
  flushMs: 2 ** 31 - 1,
  stallMsMax: 2 ** 31 - 1,
};

/** The header's options, checked; throws ERR_LOG_CORRUPT naming `where` and what is wrong. */
export function checkHeader(header: HeaderData, where: string): RecordedOptions {
  const bad = (why: string): never => {
    throw logCorrupt(where, 0, `the header ${why}`);
  };
  let options: unknown;
  try {
    options = JSON.parse(header.options);
  } catch {
    bad('options are not JSON');
  }
  if (!isObject(options) || !isObject(options.limits)) return bad('options hold no limits');
  if (typeof options.patchGlobals !== 'boolean') bad('option patchGlobals is not true or false');
  const limits: Limits = { ...limitsDefault };
  for (const [key, value] of Object.entries(options.limits)) {
    if (!(key in limitsCeiling)) bad(`holds an unknown limit ${key}`);
    const ceiling = limitsCeiling[key as keyof Limits];
    if (!(Number.isInteger(value) && (value as number) > 0 && (value as number) <= ceiling)) {
      bad(`limit ${key} is ${JSON.stringify(value)}, not an integer in 1..${ceiling}`);
    }
    limits[key as keyof Limits] = value as number;
  }
  // The same rules resolveLimits applies at record time (it would throw ERR_USAGE at replay).
  if ((limits.ringBytes & (limits.ringBytes - 1)) !== 0 || limits.ringBytes < 4096) bad(`limit ringBytes ${limits.ringBytes} is not a power of two ≥ 4096`);
  if (limits.ringBytes > limits.arenaBytes) bad(`limit ringBytes ${limits.ringBytes} exceeds arenaBytes ${limits.arenaBytes}`);
  if (header.threadsMax !== limits.threadsMax) bad(`says threadsMax ${header.threadsMax} but its options say ${limits.threadsMax}`);
  return { limits, patchGlobals: options.patchGlobals as boolean };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
