// `lockstep timeline <run.lsl> [-o timeline.html]`: writes a self-contained HTML page showing the
// run: one lane per thread along the causal event axis, lock hand-offs drawn between lanes,
// inputs and outputs marked, zoomable, aggregated when zoomed out, busiest objects listed.

import { writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Command } from 'commander';
import { analyse } from './causality.js';
import { outputFailed } from './errors.js';
import { ExitCode } from './exit_codes.js';
import { bytes, num } from './format.js';
import { openLog } from './log_file.js';
import { timelinePage } from './timeline_page.js';

interface TimelineOptions {
  output?: string;
  verbose?: boolean;
}

export function timelineCommand(): Command {
  return new Command('timeline')
    .description('write a self-contained HTML timeline of a recorded run')
    .argument('<log>', 'the log written by lockstep record')
    .option('-o, --output <file>', 'the HTML file to write (default: <log name>.html here)')
    .option('--verbose', 'print stacks and details with errors')
    .addHelpText('after', `
Open the page in any browser; it needs no network. Scroll to zoom, drag to pan, double-click to
zoom in (shift: out), +/-/0 on the keyboard; click an object to highlight its hand-offs.`)
    .action((logPath: string, options: TimelineOptions) => {
      const log = openLog(logPath);
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
