// What a Thread needs from the layers above it, declared here so engine/ imports nothing above
// it: the recorder's event ring (recorder/ring.ts RingWriter), the replayer's recorded stream
// (replayer/stream.ts StreamReader) and chaos recording's sync-point driver (recorder/chaos.ts
// ChaosDriver) implement these. Only the members the thread runtime and the sync objects call.

/** Record: the thread's event ring, emptied by the drain. */
export interface EventRing {
  /** Makes room for `n` more words now, so a later push never waits for the drain (holding a lock, say). */
  ensure(n: number): void;
  /** Rings the drain's doorbell at once (an output a primary's gate waits for). */
  wake(): void;
  push(head: number, arg: number): void;
  pushPayload(head: number, payload: Uint8Array): void;
  /** pushPayload of the 8 bytes of a float64 (a value event), without a byte loop. */
  pushFloat64(head: number, x: number): void;
}

/** Replay: the thread's recorded events, read in place (the hot path indexes `events` at `pos`). */
export interface EventStream {
  events: Int32Array;
  /** The next event's position in `events` (words). */
  pos: number;
  /** The event index of `events[0]` (a live stream's segments start further on). */
  firstIndex: number;
  /** The recording was cut off by a failure: its end is not a divergence. */
  readonly cutOff: boolean;
  /** A live backup's stream, fed by the receiver as the primary's frames arrive. */
  readonly live: boolean;
  /** Every event was taken (the end of a log, or of a live stream that ended). */
  readonly exhausted: boolean;
  /** Live: installs the next segment if one arrived ('more'), the stream ended ('final'), or neither. */
  refill(a: Int32Array, wait: boolean): 'more' | 'final' | 'none';
  takeFloat64(): number;
  takePayload(length: number): Uint8Array;
}

/** Chaos recording: perturbs the interleaving at a sync point (`word`: the lock word, or -1). */
export interface ChaosPoint {
  point(word: number): void;
}
