// `lockstep inspect <run.lsl> [--json]`: what a log holds, without running anything: header,
// threads, per-object acquisitions and hand-offs, contention, inputs and outputs, and bytes per
// event kind. Human tables by default; --json prints log_stats.ts's report, whose shape is
// stable (see REPORT_FORMAT there) for scripts.

import { Command, InvalidArgumentError } from 'commander';
import { analyse } from './causality.js';
import { ExitCode } from './exit_codes.js';
import { bytes, fields, num, percent, table } from './format.js';
import { openLog } from './log_file.js';
import { buildReport, type InspectReport } from './log_stats.js';

interface InspectOptions {
  json?: boolean;
  limit: number;
  verbose?: boolean;
}

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('show what a log holds: header, threads, objects, hand-offs, contention, inputs, outputs, bytes')
    .argument('<log>', 'the log written by lockstep record')
    .option('--json', 'print the full report as JSON (stable field names, sorted, for scripts)')
    .option('--limit <n>', 'rows per list in the human output (the JSON has all)', positiveInt, 20)
    .option('--verbose', 'print stacks and details with errors')
    .addHelpText('after', `
A hand-off is a version of an object taken by a different thread than the version before it.
The log holds no timing, so contention is shown as hand-offs, failed try-acquires and condition
waits. Objects are shown by id: the log does not store the names they were created with.`)
    .action((logPath: string, options: InspectOptions) => {
      const log = openLog(logPath);
      const report = buildReport(log, analyse(log));
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : human(report, options.limit));
      process.exitCode = ExitCode.Ok;
    });
}

export function positiveInt(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) <= 0) throw new InvalidArgumentError('expected a positive integer');
  return Number(text);
}

function human(r: InspectReport, limit: number): string {
  const out: string[] = [];
  const section = (title: string, body: string): void => {
    out.push(`${title}\n${body}\n`);
  };
  const more = (shown: number, total: number, what: string): string =>
    total > shown ? `\n  … ${num(total - shown)} more ${what} (--limit or --json for all)` : '';

  section(`log ${r.log.path}`, fields([
    ['program', r.program.path],
    ['program sha256', r.program.hash],
    ['args', r.program.args.length > 0 ? r.program.args.map((a) => JSON.stringify(a)).join(' ') : '(none)'],
    ['seed', r.program.seed],
    ['recorded on', `node ${r.program.nodeVersion}`],
    ['format', `version ${r.log.formatVersion}, ${num(r.log.frames)} frames, ${num(r.log.bytes)} bytes (${bytes(r.log.bytes)})`],
    ['threads', `${r.run.threads} (limit ${r.threadsMax})`],
    ['events', r.run.events],
    ['causal depth', `${num(r.run.clockMax)} (longest chain of events that each depend on the one before)`],
    ['digest', r.run.digest || '(none: the run was cut off by the program\'s failure)'],
  ]));

  section('threads', table([
    ['thread', 'events', 'spawned by', 'ordered', 'taken from others', 'values', 'inputs', 'outputs', 'end'],
    ...r.threads.map((t) => [
      t.thread,
      t.events,
      t.spawnedBy ? `thread ${t.spawnedBy.thread} @${t.spawnedBy.event}` : '-',
      t.ordered,
      t.handoffsIn,
      t.values,
      t.inputs,
      t.outputs,
      t.error !== null ? `error: ${t.error}` : t.exitCode !== null ? `exit ${t.exitCode}` : t.thread === 0 ? 'finish' : '-',
    ]),
  ]));

  const objects = [...r.objects].sort((x, y) => y.acquisitions - x.acquisitions || x.object - y.object);
  const shownObjects = objects.slice(0, limit);
  section(`objects (${num(r.objects.length)}, busiest first)`, table([
    ['object', 'name', 'type', 'acquisitions', 'hand-offs', 'hand-off rate', 'try failed', 'waits', 'threads (acquisitions)'],
    ...shownObjects.map((o) => [
      o.object,
      o.name,
      o.type,
      o.acquisitions,
      o.handoffs,
      percent(o.handoffRatio),
      o.tryFailures,
      o.waits,
      o.threads.map((t) => `${t.thread}:${num(t.count)}`).join(' '),
    ]),
  ]) + more(shownObjects.length, objects.length, 'objects'));

  const c = r.contention;
  section('contention', fields([
    ['acquisitions', c.acquisitions],
    ['hand-offs', `${num(c.handoffs)} (${percent(c.handoffRatio)} of acquisitions changed thread)`],
    ['shared objects', `${num(c.sharedObjects)} of ${num(r.objects.length)} taken by more than one thread`],
    ['failed try-acquires', c.tryFailures],
    ['condition waits', `${num(c.waits)} (${num(c.timedOutWaits)} timed out)`],
  ]));

  section('values', r.values.length > 0 ? table([['kind', 'count'], ...r.values.map((v) => [v.kind, v.count])]) : '  (none)');
  const inputs = r.inputs.slice(0, limit);
  section(`inputs (${num(r.inputs.length)})`, r.inputs.length === 0 ? '  (none)' :
    table([['thread', 'event', 'channel', 'bytes', 'value'], ...inputs.map((x) => [x.thread, x.event, `object ${x.channel}`, x.bytes, x.value])]) +
      more(inputs.length, r.inputs.length, 'inputs'));
  const outputs = r.outputs.slice(0, limit);
  section(`outputs (${num(r.outputs.length)})`, r.outputs.length === 0 ? '  (none)' :
    table([['id', 'thread', 'event', 'channel', 'bytes', 'value'], ...outputs.map((x) => [x.id, x.thread, x.event, x.channel ?? '?', x.bytes, x.value])]) +
      more(outputs.length, r.outputs.length, 'outputs'));

  section('bytes per event kind', table([
    ['kind', 'events', 'event bytes', 'payload bytes', 'total', 'share'],
    ...r.eventKinds.map((k) => [k.name, k.count, k.eventBytes, k.payloadBytes, k.bytes, percent(k.bytes / r.log.bytes)]),
    ['framing', '', '', '', r.framingBytes, percent(r.framingBytes / r.log.bytes)],
  ]));
  return out.join('\n');
}
