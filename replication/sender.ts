// The primary's end of the log channel: a worker thread (the main thread may block in Atomics.wait,
// the drain never yields to its event loop) that owns the TCP listener. It is a thin driver around
// the protocol's pure core (core/primary.ts), which decides everything: the handshake, what to send,
// acknowledgements, heartbeats, the lost backup and the claim that follows, running alone, the join,
// the end. This file only turns sockets, the clock, the arbiter and the main thread's messages into
// the core's inputs, and the core's actions into writes, closes, Atomics stores and posts.
//
// Frames are held until acknowledged (bounded: the drain stops shipping past lagBytesMax, so the
// program's threads wait instead of the gap growing).

import type { Server, Socket } from 'node:net';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { C_ACKED_FRAMES, C_ALONE } from '../engine/arena_layout.js';
import { serializeError } from '../engine/errors.js';
import type { Replication } from './config.js';
import { PrimaryCore, type PrimaryAction, type PrimaryIn, type PrimaryOut } from './core/primary.js';
import { arbiterFor, type ArbiterClient } from './arbiter_client.js';
import { listen, transportOf } from './transport.js';
import { MESSAGE_BYTES_MAX, Msg, WireDecoder, count, encode, mac, macOk, nonce, parseHello, type Message } from './wire.js';
import { DropLog, Doorman, type Admission } from './preauth.js';
import type { ShippedFrame } from '../recorder/drain.js';

export type { ShippedFrame };

export interface SenderInit {
  arena: SharedArrayBuffer;
  repl: Replication;
  epoch: number;
  /** The log's header frame (framed), sent first to every backup. */
  header: Uint8Array;
  /** Frames from the drain: { seq, bytes, outputs }. */
  frames: MessagePort;
  /** Start alone (a backup that took over: only a joining backup can follow it). */
  alone: boolean;
}

/** From the main thread. */
export type SenderCommand =
  | { type: 'released'; outputs: number[] }
  | { type: 'snapshot'; snapshot: unknown; cut: number }
  /** finish(): the drain has shipped its last frame; `frames` is the log's total. */
  | { type: 'end'; frames: number }
  /** A read wants proof that this node still holds its epoch: answered with { type: 'fenced', upTo: id }. */
  | { type: 'fence'; id: number };

interface Peer {
  socket: Socket;
  name: string;
  decoder: WireDecoder;
  challenge: string;
  /** The hello's nonce, which the welcome's MAC answers. */
  helloNonce: string;
  /** Until authenticated, the doorman's hold on it (time and count limits). */
  admission: Admission;
}

const TICK_MS = 10;

class Sender {
  private readonly a: Int32Array;
  private readonly server: Server;
  private readonly core: PrimaryCore<ShippedFrame>;
  private readonly peers = new Map<number, Peer>();
  private nextPeer = 1;
  private readonly arbiter: ArbiterClient;
  private readonly doorman: Doorman;
  private readonly drops = new DropLog((line) => console.error(line));

  constructor(private readonly init: SenderInit) {
    this.a = new Int32Array(init.arena);
    const r = init.repl;
    this.core = new PrimaryCore<ShippedFrame>({ node: r.node, heartbeatMs: r.heartbeatMs, timeoutMs: r.timeoutMs, waitBackupMs: r.waitBackupMs },
      init.epoch, init.alone, Date.now());
    this.arbiter = arbiterFor(r);
    Atomics.store(this.a, C_ACKED_FRAMES, 0);
    Atomics.store(this.a, C_ALONE, init.alone ? 1 : 0);
    init.frames.on('message', (f: ShippedFrame) => this.run(this.core.frame(f)));
    this.doorman = new Doorman(r.preAuth, (s, why) => this.drops.note(`lockstep: ${r.node} dropped a peer from ${s.remoteAddress}:${s.remotePort}: ${why}`));
    this.server = listen(transportOf(r), (s) => this.accept(s), (x) => this.drops.note(`lockstep: ${r.node} refused a peer from ${x.peer}: ` +
      (x.secret ? 'it does not hold the cluster secret (attempt logged)' : `${x.why} (attempt logged)`)), r.preAuth);
    // A live node holds the arbiter's lease (etcd) while it runs; losing it stops the node.
    this.run(this.core.start());
    this.server.on('error', (e) => this.run(this.core.failed(e)));
    this.server.listen(r.listen!.port, r.listen!.host, () => {
      const addr = this.server.address();
      parentPort!.postMessage({ type: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0 });
    });
    setInterval(() => this.run(this.core.tick(Date.now())), TICK_MS);
  }

  command(c: SenderCommand): void {
    if (c.type === 'released') this.run(this.core.released(c.outputs));
    else if (c.type === 'snapshot') this.run(this.core.snapshot(c.snapshot, c.cut));
    else if (c.type === 'fence') this.run(this.core.fence(c.id));
    else this.run(this.core.end(c.frames));
  }

  private accept(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    const id = this.nextPeer++;
    const peer: Peer = {
      socket, name: `${socket.remoteAddress}:${socket.remotePort}`,
      // A stranger's messages are held to preAuthBytesMax until it proves the secret.
      decoder: new WireDecoder(this.init.repl.preAuth.preAuthBytesMax), challenge: nonce(), helloNonce: '',
      admission: this.core.stopped ? { authenticated() {} } : this.doorman.admit(socket),
    };
    this.peers.set(id, peer);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      peer.decoder.push(chunk);
      for (;;) {
        if (peer.socket.destroyed) return;
        const d = peer.decoder.next();
        if (d.kind === 'more') break;
        if (d.kind === 'bad') return this.run(this.core.closed(id, `a corrupt message (${d.why})`));
        this.run(this.core.message(id, this.decode(peer, d.message)));
      }
      this.core.heard(id, Date.now());
    });
    // A reset or a broken pipe is the peer's close seen while writing (a heartbeat after its FIN).
    socket.on('error', (e: NodeJS.ErrnoException) => this.run(this.core.closed(id, e.code === 'ECONNRESET' || e.code === 'EPIPE' ? 'the connection closed' : 'the connection failed')));
    socket.on('close', () => {
      this.run(this.core.closed(id, 'the connection closed'));
      this.peers.delete(id);
    });
    this.run(this.core.accept(id, Date.now()));
  }

  /** A wire message as the core reads it (the MAC is checked here: the core has no crypto). */
  private decode(peer: Peer, m: Message): PrimaryIn {
    switch (m.type) {
      case Msg.Hello: {
        const h = parseHello(m.body);
        if (!h) return { type: 'hello-malformed' };
        peer.helloNonce = h.nonce;
        return { type: 'hello', node: h.node, join: h.join, macOk: macOk(this.init.repl.secret, h.mac, 'hello', peer.challenge, h.node) };
      }
      case Msg.Ack: return { type: 'ack', frames: count(m.body, 'frames'), fence: count(m.body, 'fence') };
      case Msg.Done: return { type: 'done', digest: typeof m.body?.digest === 'string' ? m.body.digest : '?' };
      default: return { type: 'other', code: m.type };
    }
  }

  /** Carries out the core's actions, in order. */
  private run(actions: PrimaryAction<ShippedFrame>[]): void {
    for (const x of actions) {
      switch (x.do) {
        case 'send': {
          const p = this.peers.get(x.peer);
          if (p && !p.socket.destroyed) p.socket.write(this.encode(p, x.msg));
          break;
        }
        case 'close': {
          const p = this.peers.get(x.peer);
          if (p) {
            if (x.how === 'end') p.socket.end();
            else p.socket.destroy();
          }
          break;
        }
        case 'authenticated': {
          const p = this.peers.get(x.peer)!;
          p.admission.authenticated();
          p.decoder.bytesMax = MESSAGE_BYTES_MAX;
          break;
        }
        case 'acked':
          Atomics.store(this.a, C_ACKED_FRAMES, x.frames);
          Atomics.notify(this.a, C_ACKED_FRAMES);
          if (x.outputs) parentPort!.postMessage({ type: 'acked', frames: x.frames, outputs: x.outputs });
          break;
        case 'alone':
          Atomics.store(this.a, C_ALONE, 1);
          Atomics.notify(this.a, C_ACKED_FRAMES);
          parentPort!.postMessage({ type: 'alone', why: x.why, epoch: x.epoch });
          break;
        case 'followed':
          Atomics.store(this.a, C_ALONE, 0);
          break;
        case 'backup': parentPort!.postMessage({ type: 'backup', node: x.node, join: x.join, frames: x.frames }); break;
        case 'join': parentPort!.postMessage({ type: 'join', node: x.node }); break;
        case 'fenced': parentPort!.postMessage({ type: 'fenced', upTo: x.upTo }); break;
        case 'ended': parentPort!.postMessage({ type: 'ended' }); break;
        case 'claim':
          this.arbiter.claim(x.epoch).then((d) => this.run(this.core.claimed(d)), (e) => this.run(this.core.failed(e)));
          break;
        case 'hold': this.arbiter.hold(x.epoch, (e) => this.run(this.core.failed(e))); break;
        case 'stop':
          this.arbiter.close();
          this.server.close();
          parentPort!.postMessage({ type: 'fail', error: serializeError(x.error) });
          break;
        case 'drop': {
          const name = this.peers.get(x.peer)?.name ?? 'a closed connection';
          this.drops.note(`lockstep: ${this.init.repl.node} ${x.verb} a peer from ${name}: ${x.why}`);
          break;
        }
        case 'log': console.error(x.line); break;
      }
    }
  }

  private encode(p: Peer, m: PrimaryOut<ShippedFrame>): Uint8Array {
    const r = this.init.repl;
    switch (m.type) {
      case 'challenge': return encode(Msg.Challenge, { nonce: p.challenge });
      case 'welcome': return encode(Msg.Welcome, { mac: mac(r.secret, 'welcome', p.helloNonce, r.node), epoch: m.epoch, node: r.node });
      case 'refused': return encode(Msg.Refused, { why: m.why });
      case 'header': return encode(Msg.Log, this.init.header);
      case 'log': return encode(Msg.Log, m.frame.bytes);
      case 'heartbeat': return encode(Msg.Heartbeat, m.fence === undefined ? {} : { fence: m.fence });
      case 'released': return encode(Msg.Released, { outputs: m.outputs });
      case 'snapshot': return encode(Msg.Snapshot, m.snapshot);
      case 'end': return encode(Msg.End, { frames: m.frames });
    }
  }
}

if (parentPort && workerData?.sender) {
  const sender = new Sender(workerData.sender as SenderInit);
  parentPort.on('message', (c: SenderCommand) => sender.command(c));
}
