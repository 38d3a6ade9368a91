// One logical thread's recorded event stream, as the replaying thread reads it: event words
// (two per event, as event.ts describes) and the payload bytes of its value/input/end events.
// The arrays live in a SharedArrayBuffer made by the main thread from the log.

export interface StreamInit {
  buffer: SharedArrayBuffer;
  eventWords: number;
  dataBytes: number;
  /** The recording was cut off (the program failed): at the end of its stream a thread stops. */
  cutOff: boolean;
}

export class StreamReader {
  readonly events: Int32Array;
  readonly data: Uint8Array;
  /** Next event word. */
  pos = 0;
  /** Next payload byte. */
  dataPos = 0;
  readonly cutOff: boolean;

  private readonly view: DataView;

  constructor(init: StreamInit) {
    this.cutOff = init.cutOff;
    this.events = new Int32Array(init.buffer, 0, init.eventWords);
    this.data = new Uint8Array(init.buffer, init.eventWords * 4, init.dataBytes);
    this.view = new DataView(init.buffer, init.eventWords * 4, init.dataBytes);
  }

  static build(events: Int32Array, data: Uint8Array, cutOff = false): StreamInit {
    const buffer = new SharedArrayBuffer(events.length * 4 + data.length);
    new Int32Array(buffer, 0, events.length).set(events);
    new Uint8Array(buffer, events.length * 4, data.length).set(data);
    return { buffer, eventWords: events.length, dataBytes: data.length, cutOff };
  }

  get exhausted(): boolean {
    return this.pos >= this.events.length;
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
