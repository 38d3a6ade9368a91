// What the replicated HTTP examples (bankservice, docstore) answer with: a JSON response that
// carries the output's deterministic id, and GET /status behind the session's epoch fence.

import type { ServerResponse } from 'node:http';

interface Fenced {
  fence(): Promise<void>;
  replication(): unknown;
}

export function answer(res: ServerResponse, status: number, outputId: string | null, body: unknown): void {
  if (res.writableEnded) return;
  // No Date header: lockstep patches Date on the main thread, and node:http reading the clock for
  // every response would put live-only clock reads into the log.
  res.sendDate = false;
  res.writeHead(status, { 'content-type': 'application/json', ...(outputId ? { 'x-lockstep-output-id': outputId } : {}) });
  res.end(JSON.stringify(body));
}

/**
 * GET /status: the node's replication state, once the node has proved it still holds its epoch.
 * Unproved within proofMs (its backup paused or cut off), or proved impossible (it stopped), it is
 * refused with 503; the refusal carries the node's own view as `unconfirmed`, for operators.
 */
export function fencedStatus(session: Fenced, res: ServerResponse, proofMs: number): void {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), proofMs)));
  Promise.race([session.fence().then(() => 'proved' as const), late]).then(
    (how) => {
      if (how === 'proved') answer(res, 200, null, session.replication());
      else answer(res, 503, null, { error: `cannot prove within ${proofMs} ms that this node still holds its epoch`, unconfirmed: session.replication() });
    },
    (e: Error) => answer(res, 503, null, { error: `not live: ${e.message}` }),
  ).finally(() => clearTimeout(timer));
}
