// The run's options: what start() takes, and the one table of the LOCKSTEP_* environment
// variables, which option each stands for, which of the two wins, and who reads it. A variable
// read anywhere in the source is declared here (test/layering.test.ts checks it), so the
// harness's interface (the CLI, test runners, a shell) is one list rather than reads in twelve
// places.

import type { ModeName } from '../engine/thread.js';
import type { Limits } from '../engine/limits.js';
import { resolve } from 'node:path';
import { usage } from '../engine/errors.js';
import type { ReplicationOptions } from '../replication/config.js';

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
  /** Live replication: run as a primary or a backup (replication/config.ts); else $LOCKSTEP_REPLICATION. */
  replication?: ReplicationOptions;
  /**
   * Record: perturb the interleaving at every sync point to make rare schedules common (chaos
   * recording, engine/chaos.ts). true uses the run's seed; a number or bigint is the chaos seed;
   * { seed, strength } also sets the strength in (0, 1] (default 0.5). Else $LOCKSTEP_CHAOS
   * ("on", "<seed>", "<seed>:<strength>"). The log replays as any other, without chaos.
   */
  chaos?: boolean | number | bigint | { seed?: number | bigint | string; strength?: number };
  /**
   * Deadlock detection (engine/deadlock.ts): a cycle of threads waiting for each other's mutexes,
   * read-write locks or semaphores is ERR_DEADLOCK instead of a hang. On by default while
   * recording, off by default in mode off; else $LOCKSTEP_DEADLOCK (1 or 0). Replay never needs it.
   */
  deadlock?: boolean;
  /**
   * What a spawned thread that fails (its module does not load, it throws, it exits non-zero)
   * does to the run: 'fail' (default) stops the run, finish() rejects with ERR_THREAD_FAILED;
   * 'handle' leaves it to the program, which reads it from spawn(…).exited.
   */
  threadFailures?: 'fail' | 'handle';
  /**
   * Record: take a checkpoint (a consistent cut of registered memory's block digests, see
   * recorder/checkpoint.ts) every this many ms, so a replay that ends with ERR_DIGEST_MISMATCH
   * names the events after which memory diverged; 0 turns them off. Else $LOCKSTEP_CHECKPOINT_MS
   * (default 1000).
   */
  checkpointMs?: number;
}

/**
 * Which value wins when both are given: 'harness' — the variable outranks the program's option (a
 * program that names its own log must still be replayable, and a replay must never record);
 * 'program' — the option outranks the variable; 'either' — set by either turns it on; 'env' — a
 * variable with no option.
 */
export type Precedence = 'harness' | 'program' | 'either' | 'env';

interface EnvVar {
  /** The StartOptions key it stands for (null: none). */
  option: keyof StartOptions | null;
  precedence: Precedence;
  /** The file that reads it (the variables outside runtime/ cannot import this table). */
  readBy: string;
  meaning: string;
}

/** Every LOCKSTEP_* environment variable lockstep reads. */
export const environment = {
  LOCKSTEP_MODE: { option: 'mode', precedence: 'harness', readBy: 'runtime/start.ts', meaning: 'off, record or replay' },
  LOCKSTEP_LOG: { option: 'log', precedence: 'harness', readBy: 'runtime/start.ts', meaning: 'the log file to write or read' },
  LOCKSTEP_SEED: { option: 'seed', precedence: 'harness', readBy: 'runtime/start.ts', meaning: 'the run\'s seed (record)' },
  LOCKSTEP_CHAOS: { option: 'chaos', precedence: 'harness', readBy: 'runtime/start.ts', meaning: 'on, <seed> or <seed>:<strength> (record)' },
  LOCKSTEP_DEADLOCK: { option: 'deadlock', precedence: 'harness', readBy: 'runtime/start.ts', meaning: '1 or 0: deadlock detection' },
  LOCKSTEP_CHECKPOINT_MS: { option: 'checkpointMs', precedence: 'harness', readBy: 'runtime/start.ts', meaning: 'ms between checkpoints while recording (0: off)' },
  LOCKSTEP_PROGRAM: { option: 'program', precedence: 'program', readBy: 'runtime/start.ts', meaning: 'the entry file that identifies the program' },
  LOCKSTEP_PATCH: { option: 'patchGlobals', precedence: 'program', readBy: 'runtime/start.ts', meaning: '0: do not patch Math.random, Date, performance.now, crypto' },
  LOCKSTEP_UNTIL: { option: 'until', precedence: 'program', readBy: 'runtime/start.ts', meaning: '<thread>:<event>: replay stops there' },
  LOCKSTEP_REPLICATION: { option: 'replication', precedence: 'program', readBy: 'runtime/start.ts', meaning: 'the replication options as JSON' },
  LOCKSTEP_ALLOW_PROGRAM_CHANGE: { option: 'allowProgramChange', precedence: 'either', readBy: 'runtime/start.ts', meaning: '1: replay an edited program' },
  LOCKSTEP_RESULT_FILE: { option: null, precedence: 'env', readBy: 'runtime/process_run.ts', meaning: 'where the run\'s outcome is written as JSON' },
  LOCKSTEP_PROGRESS_FILE: { option: null, precedence: 'env', readBy: 'runtime/progress.ts', meaning: 'where a replay reports its progress (the CLI\'s bar)' },
  LOCKSTEP_TRACE: { option: null, precedence: 'env', readBy: 'engine/thread.ts', meaning: '1: a thread waiting a second or more for a version says so' },
  LOCKSTEP_CLI_FAILURE_FILE: { option: null, precedence: 'env', readBy: 'cli/child_hook.ts', meaning: 'the CLI\'s child reports an uncaught failure there' },
  LOCKSTEP_CLI_QUIET: { option: null, precedence: 'env', readBy: 'cli/child_hook.ts', meaning: '1: the CLI\'s child prints no stack' },
  LOCKSTEP_SECRET: { option: null, precedence: 'env', readBy: 'cli/replicated.ts, cli/arbiter.ts', meaning: 'the cluster\'s shared secret' },
} as const satisfies Record<string, EnvVar>;

export type EnvName = keyof typeof environment;

/** The environment the options are read from (process.env; a plain object in tests). */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A declared variable's value as set (an empty value is a value). */
export function envValue(name: EnvName, env: Environment = process.env): string | undefined {
  return env[name];
}

/** A declared variable a harness set (an empty value counts as unset). */
export function harness(name: EnvName, env: Environment = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * What start() was asked for: each option merged with its variable as the table says which wins,
 * before anything is checked or the log is read (start.ts checks them where the run needs them,
 * so the errors come in the same order). Pure: the environment and argv are arguments.
 */
export interface Given {
  /** The mode's name as given (not yet checked); replication decides it on a replicated node. */
  mode: string;
  log: string | undefined;
  /** The entry file that identifies the program (absolute). */
  program: string;
  patchGlobals: boolean;
  allowProgramChange: boolean;
  /** The seed as given (checked by parseSeed when the run records). */
  seed: number | bigint | string | undefined;
  chaos: StartOptions['chaos'] | string | undefined;
  /** On, off, or the default for the mode (undefined). */
  deadlock: boolean | undefined;
  /** Ms between checkpoints as given (LOCKSTEP_CHECKPOINT_MS's text wins; checkpointMsOf checks it). */
  checkpointMs: number | string | undefined;
  /** LOCKSTEP_UNTIL's text (parseUntil reads it, after the option, in replay only). */
  untilText: string | undefined;
  replication: ReplicationOptions | undefined;
  /** LOCKSTEP_REPLICATION's JSON text (the option wins). */
  replicationText: string | undefined;
}

export function given(options: StartOptions, env: Environment = process.env, argv: readonly string[] = process.argv): Given {
  const deadlock = harness('LOCKSTEP_DEADLOCK', env);
  return {
    mode: harness('LOCKSTEP_MODE', env) ?? options.mode ?? 'off',
    log: harness('LOCKSTEP_LOG', env) ?? options.log,
    program: resolve(options.program ?? envValue('LOCKSTEP_PROGRAM', env) ?? argv[1] ?? 'eval'),
    patchGlobals: options.patchGlobals ?? envValue('LOCKSTEP_PATCH', env) !== '0',
    allowProgramChange: options.allowProgramChange || envValue('LOCKSTEP_ALLOW_PROGRAM_CHANGE', env) === '1',
    seed: harness('LOCKSTEP_SEED', env) ?? options.seed,
    chaos: harness('LOCKSTEP_CHAOS', env) ?? options.chaos,
    deadlock: deadlock !== undefined ? deadlock !== '0' : options.deadlock,
    checkpointMs: harness('LOCKSTEP_CHECKPOINT_MS', env) ?? options.checkpointMs,
    untilText: envValue('LOCKSTEP_UNTIL', env),
    replication: options.replication,
    replicationText: envValue('LOCKSTEP_REPLICATION', env),
  };
}

/** A seed is an integer from 0 to 2^64-1 (a number, a bigint, or its decimal text); nothing is wrapped. */
export function parseSeed(given: number | bigint | string): bigint {
  let seed: bigint | null = null;
  if (typeof given === 'bigint') seed = given;
  else if (typeof given === 'number' && Number.isSafeInteger(given)) seed = BigInt(given);
  else if (typeof given === 'string' && /^\d{1,20}$/.test(given.trim())) seed = BigInt(given.trim());
  if (seed === null || seed < 0n || seed >= 1n << 64n) {
    throw usage(`the seed must be an integer from 0 to 2^64-1 (a safe integer, a bigint or decimal text), got ${String(given)}`);
  }
  return seed;
}

export function parseUntil(given: { thread: number; index: number } | undefined, env: string | undefined): { thread: number; index: number } | null {
  if (given) return given;
  if (!env) return null;
  const m = /^(\d+):(\d+)$/.exec(env);
  if (!m) throw usage(`LOCKSTEP_UNTIL must look like <thread>:<event>, e.g. 2:150; got "${env}"`);
  return { thread: Number(m[1]), index: Number(m[2]) };
}
