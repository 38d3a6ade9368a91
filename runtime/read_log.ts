// readLog for the package's entry (`import { readLog } from 'lockstep'`), loaded on its first
// call: the log reader and its codec (flatbuffers and the generated tables) cost 25-60 ms of an
// import that a program in mode off, or one that never reads a log, would otherwise pay at start
// (issue 11 target 3). The signature stays synchronous: Node 20.19+ loads an ES module with
// require(); on an older Node (no process.features.require_module) the reader loads at import, as
// before.

import { createRequire } from 'node:module';
import type { Log } from '../replayer/log_reader.js';

type Reader = typeof import('../replayer/log_reader.js');

const requireSync = (process.features as { require_module?: boolean }).require_module === true;
let reader: Reader | null = requireSync ? null : await import('../replayer/log_reader.js');

/** Reads and checks a whole log (replayer/log_reader.ts readLog). */
export function readLog(path: string, frameBytesMax?: number): Log {
  reader ??= createRequire(import.meta.url)('../replayer/log_reader.js') as Reader;
  return reader.readLog(path, frameBytesMax);
}
