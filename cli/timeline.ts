// `lockstep timeline <run.lsl> [-o timeline.html]`: writes a self-contained HTML page showing the
// run: one lane per thread along the causal event axis, lock hand-offs drawn between lanes,
// inputs and outputs marked, zoomable, aggregated when zoomed out, busiest objects listed.

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

/**
 * The most events a page is built for by default: about 12 bytes each in the browser plus the
 * per-category counts, so 16M events is a page of ~80 MB and ~1 GB of browser memory.
 */
const EVENTS_MAX_DEFAULT = 16_000_000;

interface TimelineOptions {
  output?: string;
  eventsMax: number;
  verbose?: boolean;
}

export function timelineCommand(): Command {
  return new Command('timeline')
    .description('write a self-contained HTML timeline of a recorded run')
    .argument('<log>', 'the log written by lockstep record')
    .option('-o, --output <file>', 'the HTML file to write (default: <log name>.html here)')
    .option('--events-max <n>', 'refuse logs with more events than this (the page holds them all)', positiveInt, EVENTS_MAX_DEFAULT)
    .option('--verbose', 'print stacks and details with errors')
    .addHelpText('after', `
Open the page in any browser; it needs no network. Scroll to zoom, drag to pan, double-click to
zoom in (shift: out), +/-/0 on the keyboard; click an object to highlight its hand-offs.`)
    .action((logPath: string, options: TimelineOptions) => {
      const log = openLog(logPath);
      if (log.trailer.eventCount > options.eventsMax) {
        throw usageError(`${logPath} has ${num(log.trailer.eventCount)} events, more than the timeline's limit of ${num(options.eventsMax)}; raise it with --events-max`);
      }
      const page = timelinePage(log, analyse(log));
      const out = resolve(options.output ?? `${basename(logPath).replace(/\.lsl$/, '')}.html`);
      try {
        writeFileSync(out, page);
      } catch (e) {
        throw outputFailed(out, (e as Error).message);
      }
      process.stdout.write(`wrote ${out} (${bytes(Buffer.byteLength(page))}): ${log.trailer.threadCount} threads, ${num(log.trailer.eventCount)} events\n`);
      process.exitCode = ExitCode.Ok;
    });
}
