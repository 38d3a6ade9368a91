// The one interface a node uses to ask who may be live, whichever arbiter decides: the built-in
// TCP service (arbiter.ts, for one machine) or etcd (etcd_arbiter.ts, in production). The node's
// options choose: an etcd://… arbiter address is etcd, host:port is the built-in one.

import { readEpoch, requestEpoch, type ArbiterClientOptions } from './arbiter.js';
import type { ArbiterRecord, Decision } from './core/arbiter.js';
import { arbiterClient, type Replication } from './config.js';
import { EtcdArbiter, parseEtcdUrl } from './etcd_arbiter.js';

export interface ArbiterClient {
  /** (epoch, owner) now, unchanged. */
  read(): Promise<ArbiterRecord>;
  /** Test-and-set: this node asks for `epoch`; unreachable or refusing is ERR_ARBITER_UNREACHABLE. */
  claim(epoch: number): Promise<Decision>;
  /**
   * This node is live for `epoch`. With etcd it holds a lease from now on and `onLost` runs if the
   * lease ends (the node must stop); the built-in arbiter has no leases, so nothing happens.
   */
  hold(epoch: number, onLost: (e: Error) => void): void;
  close(): void;
}

class BuiltinArbiter implements ArbiterClient {
  constructor(private readonly c: ArbiterClientOptions, private readonly node: string) {}
  read(): Promise<ArbiterRecord> {
    return readEpoch(this.c).then((r) => ({ epoch: r.epoch, owner: r.owner }));
  }
  claim(epoch: number): Promise<Decision> {
    return requestEpoch(this.c, epoch, this.node);
  }
  hold(): void {}
  close(): void {}
}

/** The arbiter client for this node's options (one per thread that claims or holds). */
export function arbiterFor(repl: Replication): ArbiterClient {
  if (typeof repl.arbiter === 'string') return new EtcdArbiter(parseEtcdUrl(repl.arbiter), repl.node, repl.arbiterMs, repl.timeoutMs * 2);
  return new BuiltinArbiter(arbiterClient(repl), repl.node);
}
