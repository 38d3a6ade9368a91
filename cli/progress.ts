// A one-line status on stderr while a program runs under the CLI: shown only when stderr is a
// terminal and the run has already taken a while, so short runs and pipes/CI logs never see it.
// It shows the run's size and the elapsed time, and, when the run reports how far it has got
// (a replay writes {events, total} to $LOCKSTEP_PROGRESS_FILE), a bar. This file is a driver: it
// reads the clock and the progress file and writes to the terminal.

import { readFileSync } from 'node:fs';

const DELAY_MS = 1000;
const REDRAW_MS = 200;
const SPINNER = ['|', '/', '-', '\\'];

export class StatusLine {
  private timer: NodeJS.Timeout | null = null;
  private shown = false;
  private frame = 0;
  private startedAt = 0;
  /** Output has left a line open: no redraw until it ends (the status would be glued to it). */
  private lineOpen = false;

  /** Where the running program reports its progress, if it does. */
  progressFile: string | null = null;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
  ) {}

  /** Whether a status line can be shown at all. */
  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  start(): void {
    if (!this.enabled) return;
    this.startedAt = Date.now();
    this.timer = setTimeout(() => {
      this.timer = setInterval(() => this.show(), REDRAW_MS);
      this.timer.unref();
      this.show();
    }, DELAY_MS);
    this.timer.unref();
  }

  /** Writes `text` to the stream without tearing the status line. */
  write(text: string | Uint8Array): void {
    this.beside(() => this.stream.write(text), endsLine(text));
  }

  /**
   * Runs `write`, which writes program output (to this stream or another one on the same
   * terminal), with the status line cleared first and redrawn after, unless the output left a
   * line open. (Redrawing before the output, as this once did, glued "…100% 2.5s" to its first line.)
   */
  beside(write: () => void, lineEnded: boolean): void {
    const shown = this.shown;
    if (shown) this.clear();
    write();
    this.lineOpen = !lineEnded;
    if (shown && !this.lineOpen) this.draw();
  }

  /** Draws the status line now (the timer calls this once the run has taken DELAY_MS). */
  show(): void {
    if (this.enabled && !this.lineOpen) this.draw();
  }

  stop(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      clearInterval(this.timer);
      this.timer = null;
    }
    if (this.shown) this.clear();
    this.shown = false;
  }

  private bar(): string | null {
    if (!this.progressFile) return null;
    try {
      const { events, total } = JSON.parse(readFileSync(this.progressFile, 'utf8')) as { events: number; total: number };
      if (!(total > 0)) return null;
      const done = Math.min(1, events / total);
      const width = 20;
      const filled = Math.round(done * width);
      return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(done * 100).toFixed(0)}%`;
    } catch {
      return null; // not written yet, or caught mid-write: the next redraw reads it again
    }
  }

  private clear(): void {
    this.shown = false;
    this.stream.write('\r\x1b[K');
  }

  private draw(): void {
    this.shown = true;
    const seconds = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    const line = `${this.label} ${this.bar() ?? SPINNER[this.frame++ % SPINNER.length]} ${seconds}s`;
    const width = this.stream.columns || 80;
    this.stream.write(`\r\x1b[K${line.slice(0, Math.max(10, width - 1))}`);
  }
}

function endsLine(text: string | Uint8Array): boolean {
  if (typeof text === 'string') return text.length === 0 || text.endsWith('\n');
  return text.length === 0 || text[text.length - 1] === 0x0a;
}
