// A one-line status on stderr while a program runs under the CLI: shown only when stderr is a
// terminal and the run has already taken a while, so short runs and pipes/CI logs never see it.
// It shows the run's size and the elapsed time: the engine does not yet say how far a replay
// has got, so there is no fraction to draw a bar from. This file is a driver: it reads the
// clock and writes to the terminal.

const DELAY_MS = 1000;
const REDRAW_MS = 200;
const SPINNER = ['|', '/', '-', '\\'];

export class StatusLine {
  private timer: NodeJS.Timeout | null = null;
  private shown = false;
  private frame = 0;
  private startedAt = 0;

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
      this.timer = setInterval(() => this.draw(), REDRAW_MS);
      this.timer.unref();
      this.draw();
    }, DELAY_MS);
    this.timer.unref();
  }

  /** Writes `text` to the stream without tearing the status line. */
  write(text: string | Uint8Array): void {
    if (this.shown) this.clear();
    this.stream.write(text);
    if (this.shown) this.draw();
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

  private clear(): void {
    this.stream.write('\r\x1b[K');
  }

  private draw(): void {
    this.shown = true;
    const seconds = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    const line = `${this.label} ${SPINNER[this.frame++ % SPINNER.length]} ${seconds}s`;
    const width = this.stream.columns || 80;
    this.stream.write(`\r\x1b[K${line.slice(0, Math.max(10, width - 1))}`);
  }
}
