// Where a service run's CPU goes, from /proc (Linux): each thread's user + system time, so the
// service benchmark can say what limits its throughput on a machine whose cores the load
// generator, the service's main thread, its pool workers, its drain and (live) its backup share.
// Node does not name its threads, so a process tree's threads split into the program's main thread
// and the rest (pool workers, drain, V8 and libuv helpers). The program is the process itself, or,
// where it has a single child (the CLI's `lockstep primary` runs the program as one), that child,
// followed down; every other thread of the tree, the CLI's included, counts with the rest.
// Elsewhere (no /proc) every figure is null and the tables say "—".

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** Clock ticks a second (sysconf CLK_TCK, 100 on Linux almost everywhere). */
let ticksPerSecond: number | null = null;
function tickMs(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return 1000 / ticksPerSecond;
}

export interface ProcessCpu {
  /** The process's main thread, ms. */
  mainMs: number;
  /** Every other thread of the process and of its descendants, ms. */
  otherMs: number;
}

/** utime + stime of one thread, in ticks; 0 if it is gone. */
function threadTicks(pid: number, tid: string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function childrenOf(pid: number, tid: string): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A snapshot of a process tree's CPU so far (null where /proc is missing or the process is gone). */
export function processCpu(pid: number | undefined): ProcessCpu | null {
  if (pid === undefined || !existsSync(`/proc/${pid}/task`)) return null;
  let program = pid;
  for (;;) {
    const children = childrenOf(program, String(program));
    if (children.length !== 1) break;
    program = children[0]!;
  }
  let mainTicks = 0;
  let otherTicks = 0;
  const walk = (p: number): void => {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const tid of tids) {
      const ticks = threadTicks(p, tid);
      if (p === program && tid === String(p)) mainTicks += ticks;
      else otherTicks += ticks;
      for (const child of childrenOf(p, tid)) walk(child);
    }
  };
  walk(pid);
  return { mainMs: mainTicks * tickMs(), otherMs: otherTicks * tickMs() };
}

/** after − before, per part; null if either is missing. */
export function cpuSpent(before: ProcessCpu | null, after: ProcessCpu | null): ProcessCpu | null {
  if (!before || !after) return null;
  return { mainMs: after.mainMs - before.mainMs, otherMs: after.otherMs - before.otherMs };
}

/** This process's CPU (all its threads) so far, ms. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
