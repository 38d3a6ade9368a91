// What a benchmark result was measured on: CPU, cores, Node, the revision, and the 1-minute load
// average (the machine is shared, so other work shows up in the figures; the load says when).

import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  date: string;
  revision: string;
  /** The 1-minute load average before and after the run. */
  loadAverage: { before: number; after: number };
}

export function machine(cwd: string): Machine {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    revision: revision(cwd),
    loadAverage: { before: load1(), after: 0 },
  };
}

export function load1(): number {
  return os.loadavg()[0]!;
}

/** The commit measured, with "+dirty" when tracked files outside bench/ differ from it. */
export function revision(cwd: string): string {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
  try {
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench', ':(exclude)README.md', ':(exclude)package.json');
    return git('rev-parse', '--short', 'HEAD') + (dirty ? '+dirty' : '');
  } catch {
    return 'unknown';
  }
}
