// The main-thread entry of the package (`lockstep`).

export { start, Session } from './session.js';
export type { StartOptions, SpawnOptions, Spawned, ThreadExit, RunResult } from './session.js';
export { LockstepThread, type ChannelOptions, type Output } from './api.js';
export { fileSink, stdoutSink, streamSink } from './sinks.js';
export { Pool, type PoolOptions, type RunOptions, type Completion } from '../workers/pool.js';
export { LockstepError, DivergenceError, type ErrorCode } from './errors.js';
export { Mutex } from './sync/mutex.js';
export { Condition, type WaitResult } from './sync/condition.js';
export { Semaphore } from './sync/semaphore.js';
export { Barrier } from './sync/barrier.js';
export { RwLock } from './sync/rwlock.js';
export { AtomicArray } from './sync/atomic.js';
export { Channel, type PollResult } from './sync/channel.js';
export { limitsDefault, type Limits } from './limits.js';
export { readLog, type Log } from '../replayer/log_reader.js';
