// The client of a replicated lockstep service: it sends each request to the node it believes is
// live, resends it under the same request id to the other nodes when that node is not live, and
// drops outputs it has already seen (a new primary may re-send outputs it cannot know were
// delivered). This file is the driver: it owns the clock, the random client id, the sockets and
// the timers. Where to send next is decided by retry.ts, the wire format is protocol.ts, and the
// bounded set of delivered output ids is seen.ts.
//
// Semantics, decided here and tested in test/client.test.ts:
//
// - request() resolves once some node answers 200 with an output id, whether or not that output
//   id was delivered before: the request *was* answered. Its Reply says `duplicate: true` when the
//   output id had already been delivered (stats.duplicates counts those).
// - onReply(fn) is the deduplicated stream: listeners see each output id at most once over the
//   client's lifetime (within the seenMax most recent ids), called synchronously just before
//   request() resolves. A listener that throws makes that request() reject with its error; the
//   output still counts as delivered.
// - seen(id) is true once an output id has been delivered. The set keeps the seenMax most recent
//   ids; an id forgotten and then answered again is delivered again (as first-seen).
// - The preferred node is the one that last gave a definite answer (any status but 503). Each
//   request starts there and goes round robin; stats.failovers counts changes of preferred node,
//   stats.resent counts every send of a request id after its first.
// - A 503, a refused or reset connection, a reply cut off, or no answer within attemptTimeoutMs
//   mean "not live": try the next node. Any other non-200 status is the service's definite answer
//   (ERR_CLIENT_STATUS, never resent). A 200 without an output id or with a body that is not JSON
//   is ERR_CLIENT_PROTOCOL. After deadlineMs: ERR_CLIENT_DEADLINE. After close(): ERR_CLIENT_CLOSED.

import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { assert } from '../engine/assert.js';
import { closed, deadline, protocol, replyTooLarge, status, usage } from './errors.js';
import { resolveOptions, type ClientOptions, type Settings } from './options.js';
import { OUTPUT_ID_HEADER, REQUEST_ID_HEADER, ROLE_HEADER, STATUS_NOT_LIVE, STATUS_OK, requestId } from './protocol.js';
import { Retry } from './retry.js';
import { Seen } from './seen.js';
import { send, type Outcome } from './transport.js';

export interface Reply<T = unknown> {
  requestId: string;
  outputId: string;
  /** The node that answered, as given in ClientOptions.nodes. */
  node: string;
  status: number;
  body: T;
  /** Sends of this request id, the answered one included. */
  attempts: number;
  /** True when this output id had already been delivered; onReply listeners never see such a reply. */
  duplicate: boolean;
}

export interface ClientStats {
  /** request() calls accepted. */
  requests: number;
  /** Sends of a request id after its first send. */
  resent: number;
  /** 200 replies whose output id had already been delivered. */
  duplicates: number;
  /** Times the preferred node changed because a request failed elsewhere and this node answered. */
  failovers: number;
}

export type ReplyListener = (reply: Reply) => void;

/** Request paths go on the request line as they are, so only printable ASCII without spaces is accepted. */
const PATH_PATTERN = /^\/[\x21-\x7e]*$/;

const CLIENT_ID_BYTES = 6;

export class Client {
  readonly clientId: string;
  private readonly settings: Settings;
  private readonly agent: Agent;
  private readonly outputs: Seen;
  private readonly listeners = new Set<ReplyListener>();
  /** Cancels every send and pause in flight; close() calls them all. */
  private readonly cancels = new Set<() => void>();
  private readonly counts: ClientStats = { requests: 0, resent: 0, duplicates: 0, failovers: 0 };
  private sequence = 0;
  private preferred = 0;
  private isClosed = false;

  constructor(options: ClientOptions) {
    this.settings = resolveOptions(options);
    this.clientId = this.settings.clientId ?? randomBytes(CLIENT_ID_BYTES).toString('hex');
    this.outputs = new Seen(this.settings.seenMax);
    this.agent = new Agent({ keepAlive: true, maxSockets: this.settings.socketsMax, maxFreeSockets: this.settings.socketsMax });
  }

  get nodes(): readonly string[] {
    return this.settings.nodes;
  }

  /** A snapshot of the counters. */
  get stats(): ClientStats {
    return { ...this.counts };
  }

  /** True once a reply with this output id has been delivered (and is still among the seenMax most recent). */
  seen(outputId: string): boolean {
    return this.outputs.has(outputId);
  }

  /** Calls `fn` with every reply whose output id is seen for the first time; returns the unsubscribe. */
  onReply(fn: ReplyListener): () => void {
    if (typeof fn !== 'function') throw usage('client.onReply(fn): fn must be a function');
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** POSTs `body` as JSON to `path` on the live node; see the file header for what resolves and what rejects. */
  async request<T = unknown>(path: string, body: unknown): Promise<Reply<T>> {
    if (this.isClosed) throw closed(undefined);
    if (typeof path !== 'string' || !PATH_PATTERN.test(path)) {
      throw usage(`client.request: path ${JSON.stringify(path)} must start with '/' and hold only printable ASCII without spaces`);
    }
    let payload: Buffer;
    try {
      // JSON has no undefined; a request without a body sends null.
      payload = Buffer.from(JSON.stringify(body === undefined ? null : body), 'utf8');
    } catch (e) {
      throw usage(`client.request(${path}): the body cannot be sent as JSON (${(e as Error).message})`);
    }
    const id = requestId(this.clientId, ++this.sequence);
    this.counts.requests++;
    return this.exchange<T>(id, path, payload);
  }

  /** Destroys the keep-alive agent and fails every request in flight with ERR_CLIENT_CLOSED. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const cancel of [...this.cancels]) cancel();
    this.cancels.clear();
    this.listeners.clear();
    this.agent.destroy();
  }

  private async exchange<T>(id: string, path: string, payload: Buffer): Promise<Reply<T>> {
    const s = this.settings;
    const retry = new Retry(
      { nodeCount: s.nodes.length, attemptTimeoutMs: s.attemptTimeoutMs, retryDelayMs: s.retryDelayMs, deadlineMs: s.deadlineMs },
      this.preferred,
      performance.now(),
    );
    const tried: string[] = [];
    let lastError = '';
    for (;;) {
      const step = retry.next(performance.now());
      if (step.kind === 'expired') throw deadline(id, path, s.deadlineMs, tried, lastError);
      if (step.kind === 'wait') {
        await this.pause(step.ms);
        if (this.isClosed) throw closed(id);
        continue;
      }
      const node = s.nodes[step.node]!;
      tried.push(node);
      if (retry.attempts > 1) this.counts.resent++;
      const outcome = await this.post(step.node, id, payload, path, step.timeoutMs);
      if (this.isClosed || outcome.kind === 'cancelled') throw closed(id);
      if (outcome.kind === 'failed') {
        lastError = `${node}: ${outcome.why}`;
        continue;
      }
      if (outcome.kind === 'answered' && outcome.status === STATUS_NOT_LIVE) {
        const role = outcome.headers[ROLE_HEADER];
        lastError = `${node} answered ${STATUS_NOT_LIVE}${role ? ` (role ${String(role)})` : ''}`;
        continue;
      }
      // A definite answer: this node is live, so later requests start here.
      this.prefer(step.node, retry.attempts > 1);
      if (outcome.kind === 'oversize') throw replyTooLarge(id, path, node, s.replyBytesMax);
      if (outcome.status !== STATUS_OK) throw status(id, path, node, outcome.status, outcome.text);
      return this.deliver<T>(id, path, node, retry.attempts, outcome);
    }
  }

  private prefer(node: number, afterFailure: boolean): void {
    if (node === this.preferred) return;
    this.preferred = node;
    if (afterFailure) this.counts.failovers++;
  }

  private deliver<T>(id: string, path: string, node: string, attempts: number, outcome: Outcome & { kind: 'answered' }): Reply<T> {
    const outputId = outcome.headers[OUTPUT_ID_HEADER];
    if (typeof outputId !== 'string' || outputId === '') throw protocol(id, path, node, `it has no ${OUTPUT_ID_HEADER} header`);
    let body: T;
    try {
      body = (outcome.text === '' ? null : JSON.parse(outcome.text)) as T;
    } catch {
      throw protocol(id, path, node, 'its body is not JSON');
    }
    const first = this.outputs.add(outputId);
    if (!first) this.counts.duplicates++;
    assert(this.outputs.has(outputId), 'client: a delivered output id is not remembered');
    const reply: Reply<T> = { requestId: id, outputId, node, status: outcome.status, body, attempts, duplicate: !first };
    if (first) for (const fn of [...this.listeners]) fn(reply as Reply);
    return reply;
  }

  private async post(node: number, id: string, payload: Buffer, path: string, timeoutMs: number): Promise<Outcome> {
    const sending = send({
      agent: this.agent,
      url: this.settings.bases[node]! + path,
      headers: {
        'content-type': 'application/json',
        'content-length': payload.length,
        accept: 'application/json',
        [REQUEST_ID_HEADER]: id,
      },
      payload,
      timeoutMs,
      replyBytesMax: this.settings.replyBytesMax,
    });
    this.cancels.add(sending.cancel);
    try {
      return await sending.outcome;
    } finally {
      this.cancels.delete(sending.cancel);
    }
  }

  /**
   * Waits between rounds. This timer stays ref'd on purpose: during the pause nothing else may hold
   * the event loop open, and a program awaiting a request must not exit in the middle of it. It
   * always ends: it fires, or close() clears it.
   */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = (): void => {
        clearTimeout(timer);
        this.cancels.delete(cancel);
        resolve();
      };
      const timer = setTimeout(cancel, ms);
      this.cancels.add(cancel);
    });
  }
}
