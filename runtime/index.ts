// The main-thread entry of the package (`lockstep`).

export { start } from './start.js';
export { Session } from './session.js';
export type { StartOptions, SpawnOptions, Spawned, ThreadExit, RunResult } from './session.js';
export { LockstepThread, type ChannelOptions, type Output } from '../engine/thread_api.js';
export { fileSink, stdoutSink, streamSink } from '../engine/sinks.js';
export { Pool, type PoolOptions, type RunOptions, type Completion } from '../workers/pool.js';
export { LockstepError, DivergenceError, type ErrorCode } from '../engine/errors.js';
export { Mutex } from '../engine/sync/mutex.js';
export { Condition, type WaitResult } from '../engine/sync/condition.js';
export { Semaphore } from '../engine/sync/semaphore.js';
export { Barrier } from '../engine/sync/barrier.js';
export { RwLock } from '../engine/sync/rwlock.js';
export { AtomicArray } from '../engine/sync/atomic.js';
export { Channel, type PollResult } from '../engine/sync/channel.js';
export { limitsDefault, type Limits } from '../engine/limits.js';
export { readLog } from './read_log.js';
export type { Log } from '../replayer/log_reader.js';
