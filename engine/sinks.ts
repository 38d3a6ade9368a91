// Ready-made output sinks for session.onOutput(): stdout, a file, a socket (any writable stream).
// Each writes one JSON line per output, {"id","channel","value"}, so a receiver can drop ids it
// has already seen (outputs may repeat across a failover; their ids never change).

import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Output } from './thread_api.js';

export function line(o: Output): string {
  return JSON.stringify({ id: o.id, channel: o.channel, value: o.value }) + '\n';
}

/** Writes outputs to a writable stream (a socket, a pipe, process.stdout). */
export function streamSink(stream: Writable): (o: Output) => void {
  return (o) => {
    stream.write(line(o));
  };
}

export function stdoutSink(): (o: Output) => void {
  return streamSink(process.stdout);
}

/** Appends outputs to a file. */
export function fileSink(path: string): (o: Output) => void {
  return streamSink(createWriteStream(path, { flags: 'a' }));
}
