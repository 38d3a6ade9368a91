// A program's identity: the sha256 of its entry file, and of each worker entry or task module
// it starts. Replay refuses a program whose files differ from the recorded ones (ERR_WRONG_PROGRAM)
// unless asked to allow the change.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wrongProgram } from '../engine/errors.js';
import { liveCrypto } from '../engine/thread_api.js';
import type { HeaderData } from '../engine/log/codec.js';
import { checkHeader, type RecordedOptions } from '../engine/log/header_check.js';
import { resolveEntry } from '../workers/entry.js';

/** The recorded run's options, once the running program is known to be the recorded one. */
export function recordedOptions(header: HeaderData, where: string, program: string, allowChange: boolean): RecordedOptions & { program: 'same' | 'changed' } {
  const recorded = checkHeader(header, where);
  const running = identify(program);
  if (!allowChange && running.hash !== header.programHash) {
    throw wrongProgram(where, `${header.programPath} (sha256 ${header.programHash.slice(0, 12)})`, `${program} (sha256 ${running.hash.slice(0, 12)})`);
  }
  return { ...recorded, program: running.hash === header.programHash ? 'same' : 'changed' };
}

export function toHref(entry: string | URL): string {
  return resolveEntry(entry instanceof URL ? entry.href : entry.startsWith('file:') ? entry : new URL(resolve(entry), 'file:').href);
}

export function identify(program: string): { hash: string } {
  let content: Uint8Array;
  try {
    content = readFileSync(program.startsWith('file:') ? fileURLToPath(program) : program);
  } catch {
    content = new TextEncoder().encode(program);
  }
  // node:crypto loads on first use (thread_api.ts liveCrypto): mode off never identifies a program.
  return { hash: liveCrypto().createHash('sha256').update(content).digest('hex') };
}
