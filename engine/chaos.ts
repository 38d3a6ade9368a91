// Chaos recording's decision core: at every sync point of a recording thread, what to do to
// perturb the interleaving (nothing, a short spin, or a sleep), decided by a seeded generator per
// logical thread, so a chaos schedule is a function of (chaos seed, thread id, what the thread
// saw). It reads no clock and sleeps nothing: the driver (recorder/chaos.ts) does the waiting.
//
// The heuristics follow rr's chaos mode (Robert O'Callahan, "rr Chaos Mode", 2016): a thread is
// sometimes given a low priority for a stretch of points and then held back at most of them,
// which lets the other threads run ahead through a whole window the program assumed was atomic;
// threads also get a random start delay (order violations hide in start-up); a thread that
// another thread found contended ("lost the race") is favoured by holding the others back; and a
// thread that releases a held-back one often waits in turn for it (handOff), since a woken thread
// is a wake-up latency behind and would otherwise lose every race it was held back to join.
//
// A chaos recording is an ordinary log: the perturbation only changes which interleaving is
// recorded. Replay never consults this file.
//
// A step is one of: nothing; spin n iterations; sleep ms; or hold back: wait until the other
// threads have passed `ticks` sync points between them (or ms elapse). Holding back is what makes
// rare interleavings common: a thread stopped inside a window it assumed atomic waits exactly
// until another thread has moved, where a fixed sleep would often just waste time alone.

import { SeededRandom } from './prng.js';

export interface ChaosOptions {
  /** Seeds every thread's generator (with the thread id). */
  seed: bigint;
  /** 0 < strength ≤ 1: scales how often and how long threads are held back (default 0.5). */
  strength: number;
}

export const CHAOS_STRENGTH_DEFAULT = 0.5;

export const enum Step {
  None = 0,
  Spin = 1,
  Sleep = 2,
  HoldBack = 3,
}

/** The longest hold-back, in ms at strength 1: long against a sync op, short against a test. */
const HOLD_MS_MAX = 12;
/**
 * The longest start hold-back, in ms at strength 1. Worker threads start milliseconds apart, so
 * without it the first thread is often done before the next one runs and nothing interleaves.
 */
const START_MS_MAX = 300;
/** The longest wait for a just-woken thread to pass its next point, in ms at strength 1. */
const HAND_OFF_MS_MAX = 4;
/** Low- or normal-priority stretches last this many points at most. */
const PHASE_POINTS_MAX = 32;
/** The longest spin, in iterations (~a few µs each thousand). */
const SPIN_MAX = 20_000;
/** After a hold-back that timed out (nobody else moved: the thread is alone), this many points pass without one. */
const ALONE_POINTS = 16;

export class ChaosCore {
  private readonly rng: SeededRandom;
  private readonly s: number;
  private points = 0;
  private phaseLeft = 0;
  private low = false;
  private aloneLeft = 0;
  /** The last step's size: iterations (Spin), ms (Sleep), or the time limit in ms (HoldBack). */
  amount = 0;
  /** HoldBack: how many sync points the other threads must pass first. */
  ticks = 0;

  constructor(options: ChaosOptions, readonly thread: number) {
    if (!(options.strength > 0 && options.strength <= 1)) throw new RangeError(`chaos strength must be in (0, 1], got ${options.strength}`);
    this.rng = new SeededRandom(options.seed, thread + 0x5eed);
    this.s = options.strength;
  }

  private chance(p: number): boolean {
    return this.rng.nextU32() < p * 4294967296;
  }

  /** A float in [lo, hi). */
  private between(lo: number, hi: number): number {
    return lo + (this.rng.nextU32() / 4294967296) * (hi - lo);
  }

  private hold(ticksMax: number, msMax: number): Step {
    this.ticks = 1 + (this.rng.nextU32() % ticksMax);
    this.amount = this.between(msMax / 4, msMax);
    return Step.HoldBack;
  }

  /**
   * This thread has just released a held-back thread (its point let the other's count be
   * reached). The woken thread needs a wake-up's time (tens of µs to ms) to run again, in which
   * this one would race through its next steps and win every time; so it often waits in turn
   * until the woken thread has passed a point. Returns HoldBack (amount, ticks set) or None.
   */
  handOff(): Step {
    return this.chance(0.5 + 0.4 * this.s) ? this.hold(1, HAND_OFF_MS_MAX * this.s) : Step.None;
  }

  /** The driver's report on the last hold-back: it timed out, so no other thread is moving now. */
  timedOut(): void {
    this.aloneLeft = ALONE_POINTS;
  }

  /**
   * The step at the next sync point (its size in amount and ticks). `othersLost`: another thread
   * lost a race at its last point and has not got through since (favour it: hold this one back).
   */
  next(othersLost: boolean): Step {
    const s = this.s;
    if (this.points++ === 0) return this.chance(0.5 + 0.5 * s) ? this.hold(2, START_MS_MAX * s) : Step.None;
    if (this.phaseLeft-- <= 0) {
      this.phaseLeft = 1 + (this.rng.nextU32() % PHASE_POINTS_MAX);
      this.low = this.chance(0.5 * s);
    }
    const alone = this.aloneLeft > 0;
    if (alone) this.aloneLeft--;
    if (!alone) {
      if (othersLost && this.chance(0.8 * s)) return this.hold(1, HOLD_MS_MAX * s);
      if (this.chance(this.low ? 0.8 : 0.6 * s)) return this.hold(3, HOLD_MS_MAX * s);
    }
    if (this.chance(0.15 * s)) {
      this.amount = Math.floor(this.between(50, SPIN_MAX * s));
      return Step.Spin;
    }
    if (this.chance(0.1 * s)) {
      this.amount = this.between(0.01, 0.5 * s);
      return Step.Sleep;
    }
    return Step.None;
  }
}

/**
 * Chaos settings from start({ chaos }) or $LOCKSTEP_CHAOS. The environment form is `on`, a seed
 * (`42`), and optionally `:strength` (`42:0.8`, `on:1`). Without a seed, the run's seed is used,
 * so `--seed N --chaos` is one reproducible schedule family. Returns null when chaos is off.
 */
export function parseChaos(
  given: boolean | number | bigint | string | { seed?: number | bigint | string; strength?: number } | undefined,
  runSeed: bigint,
  parseSeed: (s: number | bigint | string) => bigint,
): ChaosOptions | null {
  if (given === undefined || given === false || given === '' || given === 'off' || given === '0:0') return null;
  let seed: bigint = runSeed;
  let strength = CHAOS_STRENGTH_DEFAULT;
  if (typeof given === 'string') {
    const [seedText, strengthText] = given.split(':');
    if (seedText !== undefined && seedText !== 'on' && seedText !== '1' && seedText !== 'true' && seedText !== '') seed = parseSeed(seedText);
    if (strengthText !== undefined) strength = Number(strengthText);
  } else if (typeof given === 'number' || typeof given === 'bigint') {
    seed = parseSeed(given);
  } else if (typeof given === 'object') {
    if (given.seed !== undefined) seed = parseSeed(given.seed);
    if (given.strength !== undefined) strength = given.strength;
  }
  if (!(typeof strength === 'number' && strength > 0 && strength <= 1)) {
    throw new RangeError(`chaos strength must be a number in (0, 1], got ${String(strength)}`);
  }
  return { seed, strength };
}
