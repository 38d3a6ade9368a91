// What a session needs only to record, replay or replicate: the log codec (flatbuffers), the log
// writer and reader, the replication layer, and the session's parts that only
// these modes use: the drain's life, the replay pump and the live run, and the threads' parts
// that only they use: the ring, the chaos driver, the recorded stream, the checkpoint hooks and the
// live setup. runtime/process_run.ts imports this module
// dynamically when the run is not in mode off, so a program in mode off does not load them
// (issue 11, target 3: they were half the engine's import time on the main thread).

export { decodeHeader, encodeHeader } from '../engine/log/codec.js';
export { LogWriter } from '../recorder/log_writer.js';
export { readReplayLog } from '../replayer/log_reader.js';
export { resolveReplication } from '../replication/config.js';
export { Replica } from '../replication/replica.js';
export { takeOver } from '../replication/cutover.js';
export { arbiterFor } from '../replication/arbiter_client.js';
export { applySnapshot, takeSnapshot } from '../replication/snapshot.js';
export { LiveNode, claimEpoch } from './live.js';
export { RunningDrain, startDrain } from './drain_life.js';
export { ReplayPump } from './replay_pump.js';
export { ChaosDriver } from '../recorder/chaos.js';
export { RingWriter } from '../recorder/ring.js';
export { StreamReader } from '../replayer/stream.js';
export { CHECKPOINT_WAIT_MS, CheckpointTaker, checkpointMsOf } from '../recorder/checkpoint.js';
export { CheckpointJudge, attachArrival, digestReport } from '../replayer/checkpoint.js';
export { liveSetup, liveStream } from '../workers/live_setup.js';
