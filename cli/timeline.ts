// `lockstep timeline <run.lsl> [-o timeline.html]`: writes a self-contained HTML page showing the
// run: one lane per thread along the causal event axis or a coarse time axis, lock hand-offs drawn
// between lanes, inputs and outputs marked, zoomable, aggregated when zoomed out, busiest objects
// listed by name. `--format trace` writes Chrome trace-event JSON instead (trace_export.ts).

import { writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Command } from 'commander';
import { analyse } from './causality.js';
import { outputFailed, usageError } from './errors.js';
import { ExitCode } from './exit_codes.js';
import { bytes, num } from './format.js';
import { openLog } from './log_file.js';
import { positiveInt } from './inspect.js';
import { timelinePage } from './timeline_page.js';
import { traceOf } from './trace_export.js';

/**
 * The most events a page is built for by default: about 12 bytes each in the browser plus the
 * per-category counts, so 16M events is a page of ~80 MB and ~1 GB of browser memory.
 */
const EVENTS_MAX_DEFAULT = 16_000_000;

interface TimelineOptions {
  output?: string;
  format: string;
  axis: string;
  eventsMax: number;
  verbose?: boolean;
}

export function timelineCommand(): Command {
  return new Command('timeline')
    .description('write a self-contained HTML timeline of a recorded run')
    .argument('<log>', 'the log written by lockstep record')
    .option('-o, --output <file>', 'the file to write (default: <log name>.html, or <log name>.trace.json, here)')
    .option('--format <format>', 'html (a page to open in a browser) or trace (Chrome trace-event JSON for Perfetto, chrome://tracing)', 'html')
    .option('--axis <axis>', 'trace: time (coarse wall-clock times from the log) or causal (the Lamport clock, 1 µs per step)', 'time')
    .option('--events-max <n>', 'refuse logs with more events than this (the page holds them all)', positiveInt, EVENTS_MAX_DEFAULT)
    .option('--verbose', 'print stacks and details with errors')
    .addHelpText('after', `
Open the page in any browser; it needs no network. Scroll to zoom, drag to pan, double-click to
zoom in (shift: out), +/-/0 on the keyboard, t to switch between the causal and the time axis;
click an object to highlight its hand-offs. Open a trace in https://ui.perfetto.dev or
chrome://tracing: a track per thread, flow arrows for hand-offs, instant events for inputs and
outputs.`)
    .action((logPath: string, options: TimelineOptions) => {
      const log = openLog(logPath);
      if (log.trailer.eventCount > options.eventsMax) {
        throw usageError(`${logPath} has ${num(log.trailer.eventCount)} events, more than the timeline's limit of ${num(options.eventsMax)}; raise it with --events-max`);
      }
      if (options.format !== 'html' && options.format !== 'trace') throw usageError(`--format must be html or trace, got "${options.format}"`);
      if (options.axis !== 'time' && options.axis !== 'causal') throw usageError(`--axis must be time or causal, got "${options.axis}"`);
      const stem = basename(logPath).replace(/\.lsl$/, '');
      const out = resolve(options.output ?? (options.format === 'trace' ? `${stem}.trace.json` : `${stem}.html`));
      const text = options.format === 'trace' ? JSON.stringify(traceOf(log, analyse(log), options.axis)) : timelinePage(log, analyse(log));
      try {
        writeFileSync(out, text);
      } catch (e) {
        throw outputFailed(out, (e as Error).message);
      }
      process.stdout.write(`wrote ${out} (${bytes(Buffer.byteLength(text))}): ${log.trailer.threadCount} threads, ${num(log.trailer.eventCount)} events\n`);
      process.exitCode = ExitCode.Ok;
    });
}
