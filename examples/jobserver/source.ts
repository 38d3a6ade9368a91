// Where the jobserver's jobs come from when it records or runs live: lines on stdin and, if a port
// is given, POST bodies on a loopback HTTP endpoint (one job per line). Both feed one bounded
// queue; the main thread takes jobs from it one at a time inside session.input(), so the order in
// which the two sources' jobs interleave is recorded. A replay never creates a JobSource.
//
// An HTTP client gets, as the response, the results of its jobs (a JSON array, in its lines'
// order) once every one of them has been emitted.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface Request {
  line: string;
  /** Called with the job's result, for jobs that arrived over HTTP. */
  reply?: (result: unknown) => void;
}

/** Lines waiting in the queue before stdin is paused (HTTP requests beyond it get 503). */
const QUEUE_MAX = 1024;
/** Largest HTTP request body accepted, in bytes. */
const BODY_BYTES_MAX = 64 << 10;

export class JobSource {
  private readonly queue: Request[] = [];
  private waiter: ((r: Request | null) => void) | null = null;
  private stdinOpen: boolean;
  private closed = false;
  private readonly lines: Interface;
  private server: Server | null = null;

  /** `port`: undefined for stdin only; 0 picks a free port. */
  constructor(private readonly stdin: Readable, private readonly port?: number) {
    this.stdinOpen = true;
    this.lines = createInterface({ input: stdin, crlfDelay: Infinity });
    this.lines.on('line', (line) => this.push({ line }));
    this.lines.on('close', () => {
      this.stdinOpen = false;
      this.wake();
    });
  }

  /** Starts the HTTP endpoint, if a port was given; resolves with its address. */
  async listen(): Promise<string | null> {
    if (this.port === undefined) return null;
    this.server = createServer((req, res) => this.request(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', resolve);
    });
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/`;
  }

  /**
   * The next request, waiting for one; null at the end: stdin closed (when there is no HTTP
   * endpoint; with one, only a quit job ends the server) or close() called.
   */
  next(): Promise<Request | null> {
    const now = this.take();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Stops reading stdin and closes the HTTP endpoint; queued HTTP jobs are refused. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lines.close();
    this.stdin.destroy();
    this.server?.close();
    this.server?.closeAllConnections();
    for (const r of this.queue.splice(0)) r.reply?.({ error: 'the jobserver stopped before this job ran' });
    this.wake();
  }

  private push(r: Request): void {
    if (this.closed || r.line.trim() === '' || r.line.trimStart().startsWith('#')) return;
    this.queue.push(r);
    if (this.queue.length >= QUEUE_MAX) this.lines.pause();
    this.wake();
  }

  /** A request, null for the end, or undefined if there is none yet. */
  private take(): Request | null | undefined {
    const r = this.queue.shift();
    if (r) {
      if (this.queue.length < QUEUE_MAX / 2) this.lines.resume();
      return r;
    }
    if (this.closed || (!this.stdinOpen && !this.server)) return null;
    return undefined;
  }

  private wake(): void {
    if (!this.waiter) return;
    const r = this.take();
    if (r === undefined) return;
    const waiter = this.waiter;
    this.waiter = null;
    waiter(r);
  }

  private request(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end('POST one job per line\n');
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > BODY_BYTES_MAX) {
        res.writeHead(413).end(`at most ${BODY_BYTES_MAX} bytes of jobs per request\n`);
        req.destroy();
      }
    });
    req.on('end', () => {
      const lines = body.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
      if (this.closed || this.queue.length + lines.length > QUEUE_MAX) {
        res.writeHead(503).end('the jobserver is not taking jobs\n');
        return;
      }
      const results: unknown[] = new Array(lines.length);
      let left = lines.length;
      if (left === 0) res.writeHead(200, { 'content-type': 'application/json' }).end('[]\n');
      lines.forEach((line, i) => this.push({
        line,
        reply: (result) => {
          results[i] = result;
          if (--left === 0) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(results) + '\n');
        },
      }));
    });
  }
}
