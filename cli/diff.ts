// `lockstep diff <a.lsl> <b.lsl>`: the first point where two recordings of the same program took
// different paths (first_difference.ts says how "first" is decided), what each run did there,
// and how far each thread and object agreed. Like diff(1): exit 0 when the recordings are the
// same, 1 when they differ.

import { Command } from 'commander';
import type { Log } from '../replayer/log_reader.js';
import { analyse } from './causality.js';
import { ExitCode } from './exit_codes.js';
import { num, shortDigest, table } from './format.js';
import { openLog } from './log_file.js';
import { firstDifference, type DiffReport, type Difference, type EventRef } from './first_difference.js';
import { positiveInt } from './inspect.js';

interface DiffOptions {
  json?: boolean;
  limit: number;
  verbose?: boolean;
}

export function diffCommand(): Command {
  return new Command('diff')
    .description('find the first point where two recordings of a program took different paths')
    .argument('<a>', 'the first log')
    .argument('<b>', 'the second log')
    .option('--json', 'print the full comparison as JSON')
    .option('--limit <n>', 'rows per list in the human output (the JSON has all)', positiveInt, 10)
    .option('--verbose', 'print stacks and details with errors')
    .addHelpText('after', `
"First" is in causal order: of all the differences, the one no other difference led to. It is
one of: order (a version of an object went to another thread: a race went the other way), path
(a thread did another kind of event or used another object), value (the same event saw another
clock, random value or input), end (one run's thread stopped earlier), thread (a thread exists in
one run only).

Exit codes: 0 the recordings are the same, 1 they differ, 2 usage error, 3 a log is unreadable.`)
    .action((aPath: string, bPath: string, options: DiffOptions) => {
      const a = openLog(aPath);
      const b = openLog(bPath);
      const report = firstDifference({ log: a, c: analyse(a) }, { log: b, c: analyse(b) });
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : human(report, a, b, options.limit));
      process.exitCode = report.identical ? ExitCode.Ok : ExitCode.Different;
    });
}

function human(r: DiffReport, a: Log, b: Log, limit: number): string {
  const out: string[] = [];
  if (!r.sameProgram) {
    out.push(`note: the logs are of different programs (${a.header.programPath} sha256 ${shortDigest(r.a.programHash)}, ` +
      `${b.header.programPath} sha256 ${shortDigest(r.b.programHash)}); differences may only reflect the change`);
  }
  if (r.identical) {
    out.push(`no difference: ${r.a.path} and ${r.b.path} took the same path ` +
      `(${num(r.a.events)} events in ${r.a.threads} threads, same order, same values, digest ${shortDigest(r.a.digest)})`);
    return `${out.join('\n')}\n`;
  }
  out.push(`${r.a.path} and ${r.b.path} differ`);
  out.push(`first difference: ${headline(r.first!)}`);
  out.push(`  ${did(r.first!, r.first!.a, r.a.path)}`);
  out.push(`  ${did(r.first!, r.first!.b, r.b.path)}`);

  const threads = r.threads.filter((t) => t.firstDifference !== null);
  out.push('');
  out.push(`threads that differ: ${threads.length} of ${r.threads.length}`);
  if (threads.length > 0) {
    out.push(table([
      ['thread', 'events a', 'events b', 'same up to event'],
      ...threads.slice(0, limit).map((t) => [t.thread, t.eventsA, t.eventsB, t.firstDifference!]),
    ]));
    if (threads.length > limit) out.push(`  … ${threads.length - limit} more`);
  }
  out.push(`objects taken in a different order: ${r.objects.length}`);
  if (r.objects.length > 0) {
    const who = (x: { thread: number; event: number } | null): string => (x ? `thread ${x.thread} @${x.event}` : 'nobody');
    out.push(table([
      ['object', 'first different version', 'a: taken by', 'b: taken by'],
      ...r.objects.slice(0, limit).map((o) => [o.object, o.version, who(o.a), who(o.b)]),
    ]));
    if (r.objects.length > limit) out.push(`  … ${r.objects.length - limit} more`);
  }
  out.push(`digests: ${r.a.digest === r.b.digest ? `both ${shortDigest(r.a.digest)}` : `${shortDigest(r.a.digest)} vs ${shortDigest(r.b.digest)}`}`);
  return `${out.join('\n')}\n`;
}

function headline(d: Difference): string {
  switch (d.kind) {
    case 'order':
      return `object ${d.object}, version ${d.version} was taken by different threads (order)`;
    case 'thread':
      return `thread ${d.thread} exists in one recording only (thread)`;
    case 'end':
      return `thread ${d.thread}, event ${d.event}: one recording's thread has no more events (end)`;
    case 'path':
      return `thread ${d.thread}, event ${d.event}: the threads did different things (path)`;
    case 'value':
      return `thread ${d.thread}, event ${d.event}${d.object !== null ? `, object ${d.object}` : ''}: the same event saw different data (value)`;
  }
}

function did(d: Difference, e: EventRef | null, path: string): string {
  if (!e) return d.kind === 'order' ? `${path}: no thread took it` : `${path}: nothing (the thread ${d.kind === 'thread' ? 'does not exist' : 'had ended'})`;
  return d.kind === 'order' ? `${path}: thread ${e.thread} took it at its event ${e.event}: ${e.text}` : `${path}: ${e.text}`;
}
