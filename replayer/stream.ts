// One logical thread's recorded event stream, as the replaying thread reads it: event words
// (two per event, as event.ts describes) and the payload bytes of its value/input/end events.
//
// From a log file the whole stream is one SharedArrayBuffer made by the main thread. On a live
// backup it arrives in segments (one per thread per received frame) that the receiver posts on the
// thread's broadcast channel (replication/receiver.ts); the thread takes the next segment when it has replayed
// the current one, and waits on its T_FED word when none has arrived: it cannot run ahead of the
// primary. Once cutover is decided (C_LIVE) and nothing is left, the stream is over and the thread
// goes live (thread.ts).

import { BroadcastChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { C_ABORT, T_CONSUMED, T_FED } from '../engine/arena_layout.js';
import type { EventStream } from '../engine/thread_ports.js';

export interface StreamInit {
  buffer: SharedArrayBuffer;
  eventWords: number;
  dataBytes: number;
  /** The recording was cut off (the program failed): at the end of its stream a thread stops. */
  cutOff: boolean;
  /** Live backup: the stream arrives from the receiver on this broadcast channel. */
  live?: { channel: string; slot: number };
}

/** One thread's part of one received frame (replication/receiver.ts posts it). */
export interface Segment {
  firstIndex: number;
  events: Int32Array;
  data: Uint8Array;
  bytes: number;
}

const FEED_WAIT_MS = 20;
/** Set in a thread's T_FED word by the receiver once nothing more will be posted to it (cutover). */
export const FED_FINAL = 1 << 30;

export function streamChannelName(run: string, thread: number): string {
  return `lockstep-stream:${run}:${thread}`;
}

export class StreamReader implements EventStream {
  events: Int32Array;
  data: Uint8Array;
  /** Next event word. */
  pos = 0;
  /** Next payload byte. */
  dataPos = 0;
  readonly cutOff: boolean;
  /** Live: the event index of the current segment's first event (the thread checks continuity). */
  firstIndex = 0;

  private view: DataView;
  private readonly channel: BroadcastChannel | null = null;
  private readonly slot: number = -1;
  private readonly arrived: Segment[] = [];

  constructor(init: StreamInit) {
    this.cutOff = init.cutOff;
    this.events = new Int32Array(init.buffer, 0, init.eventWords);
    this.data = new Uint8Array(init.buffer, init.eventWords * 4, init.dataBytes);
    this.view = new DataView(init.buffer, init.eventWords * 4, init.dataBytes);
    if (init.live) {
      this.channel = new BroadcastChannel(init.live.channel);
      // While the thread's event loop runs (an async task, an idle pool worker) the channel
      // dispatches messages itself and would drop them with no listener: keep them, in order.
      // They are older than anything still in the channel's queue, so they are taken first.
      this.channel.onmessage = (m) => this.arrived.push((m as unknown as { data: Segment }).data);
      this.channel.unref();
      this.slot = init.live.slot;
    }
  }

  static build(events: Int32Array, data: Uint8Array, cutOff = false): StreamInit {
    const buffer = new SharedArrayBuffer(events.length * 4 + data.length);
    new Int32Array(buffer, 0, events.length).set(events);
    new Uint8Array(buffer, events.length * 4, data.length).set(data);
    return { buffer, eventWords: events.length, dataBytes: data.length, cutOff };
  }

  /** receiveMessageOnPort takes a BroadcastChannel too (Node ≥ 15.4); the typings say MessagePort. */
  private get port(): MessagePort {
    return this.channel as unknown as MessagePort;
  }

  get live(): boolean {
    return this.channel !== null;
  }

  get exhausted(): boolean {
    return this.pos >= this.events.length;
  }

  /**
   * Live: takes the next segment once the current one is replayed. `wait` false only looks;
   * `wait` true parks until a segment comes or the stream is final. Returns 'more', 'final'
   * (cutover: nothing more will come) or 'none' (not waiting, nothing yet).
   */
  refill(a: Int32Array, wait: boolean): 'more' | 'final' | 'none' {
    for (;;) {
      const fed = Atomics.load(a, this.slot);
      const m = this.arrived.length > 0 ? { message: this.arrived.shift() } : receiveMessageOnPort(this.port);
      if (m) {
        this.install(a, m.message as Segment);
        return 'more';
      }
      // FED_FINAL is set after the receiver posted this thread's last segment: an empty queue now is final.
      if ((fed & FED_FINAL) !== 0) return 'final';
      if (!wait) return 'none';
      if (Atomics.load(a, C_ABORT) !== 0) return 'final';
      Atomics.wait(a, this.slot, fed, FEED_WAIT_MS);
    }
  }

  private install(a: Int32Array, s: Segment): void {
    // Counted as consumed once taken: a thread that has gone idle after its last segment would
    // otherwise hold the receiver's lag bound shut.
    Atomics.add(a, this.slot - T_FED + T_CONSUMED, s.bytes);
    this.events = s.events;
    this.data = s.data;
    this.view = new DataView(s.data.buffer, s.data.byteOffset, s.data.byteLength);
    this.pos = 0;
    this.dataPos = 0;
    this.firstIndex = s.firstIndex;
  }

  /** The next 8 payload bytes as a float64 (as recorded: little-endian), without a copy. */
  takeFloat64(): number {
    const x = this.view.getFloat64(this.dataPos, true);
    this.dataPos += 8;
    return x;
  }

  takePayload(length: number): Uint8Array {
    const bytes = this.data.slice(this.dataPos, this.dataPos + length);
    this.dataPos += length;
    return bytes;
  }
}
