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
import { Kind, ValueKind } from '../engine/event.js';
import { Mode, type Thread } from '../engine/thread.js';

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

/**
 * The identity of each module file a run starts (a spawn's entry, a pool's task module): its
 * content hash is a main-thread event, so a replay that starts an edited worker or task module
 * stops with ERR_WRONG_PROGRAM before the module runs (the header is written before the program
 * names its modules, so they cannot be in it).
 */
export class ModuleIdentity {
  /** sha256 of each module file this run started, by href (read once). */
  private readonly hashes = new Map<string, Uint8Array>();

  constructor(
    private readonly thread: Thread,
    /** The log the run records to or replays from, for the error (read when one is thrown). */
    private readonly logPath: () => string | undefined,
    /** Replay even if a module file differs from the recorded one. */
    private readonly allowChange: boolean,
  ) {}

  /** Records (record) or checks (replay) the hash of the module at `href`; nothing in mode off. */
  check(href: string): void {
    const t = this.thread;
    const mode = t.current();
    if (mode === Mode.Off) return;
    let hash = this.hashes.get(href);
    if (!hash) {
      t.quiet = true;
      try {
        hash = new Uint8Array(Buffer.from(identify(href).hash, 'hex'));
      } finally {
        t.quiet = false;
      }
      this.hashes.set(href, hash);
    }
    if (mode === Mode.Record) {
      t.recPayload(Kind.Value, ValueKind.Module, hash);
      return;
    }
    const recorded = t.expectPayload(Kind.Value, ValueKind.Module);
    if (Buffer.compare(recorded, hash) === 0) return;
    const path = href.startsWith('file:') ? fileURLToPath(href) : href;
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').slice(0, 12);
    if (!this.allowChange) {
      throw wrongProgram(this.logPath() ?? 'the log', `module ${path} (sha256 ${hex(recorded)})`, `module ${path} (sha256 ${hex(hash)})`);
    }
    t.program = 'changed';
  }
}
