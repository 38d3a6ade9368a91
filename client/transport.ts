// One send of one request to one node over node:http: the only file of the client that touches the
// network. It never rejects; every way a send can end is an Outcome, so the caller decides what a
// refused connection or a 503 means and no rejection can go unhandled. Its timer covers the whole
// exchange (queueing for a socket, connecting, and reading the reply) and is always cleared.

import { request, type Agent, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export type Outcome =
  /** The node answered with a complete reply (any status). */
  | { kind: 'answered'; status: number; headers: IncomingHttpHeaders; text: string }
  /** No complete reply: refused, reset, or no answer within the timeout. */
  | { kind: 'failed'; why: string }
  /** The reply body was larger than replyBytesMax; the connection was dropped. */
  | { kind: 'oversize' }
  /** cancel() was called (the client is closing). */
  | { kind: 'cancelled' };

export interface Send {
  readonly outcome: Promise<Outcome>;
  cancel(): void;
}

export interface SendOptions {
  agent: Agent;
  url: string;
  headers: OutgoingHttpHeaders;
  payload: Buffer;
  timeoutMs: number;
  replyBytesMax: number;
}

export function send(o: SendOptions): Send {
  let settle!: (outcome: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => {
    let done = false;
    settle = (x) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(x);
    };
  });
  const req = request(o.url, { method: 'POST', agent: o.agent, headers: o.headers });
  const timer = setTimeout(() => {
    settle({ kind: 'failed', why: `no answer within ${o.timeoutMs} ms` });
    req.destroy();
  }, o.timeoutMs);
  timer.unref();

  req.on('error', (e) => settle({ kind: 'failed', why: e.message || String(e) }));
  req.on('response', (res) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > o.replyBytesMax) {
        settle({ kind: 'oversize' });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () =>
      settle({ kind: 'answered', status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
    );
    res.on('error', (e) => settle({ kind: 'failed', why: `reply cut off: ${e.message}` }));
    res.on('close', () => {
      if (!res.complete) settle({ kind: 'failed', why: 'connection closed before the reply was complete' });
    });
  });
  req.end(o.payload);

  return {
    outcome,
    cancel() {
      settle({ kind: 'cancelled' });
      req.destroy();
    },
  };
}
