// Opening a log for a command: the engine's reader does every check (magic, version, frame
// CRCs, continuity, trailer); this only turns its failures into the CLI's errors, so a missing
// file, a non-log and a corrupt log all exit with code 3 and one line.

import { readLog, type Log } from '../replayer/log_reader.js';
import { toCliError } from './errors.js';

export function openLog(path: string): Log {
  try {
    return readLog(path);
  } catch (e) {
    throw toCliError(e);
  }
}
