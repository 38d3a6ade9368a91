// How one recorded event is written for a person: the engine's describe() for the event word,
// plus its payload decoded where the kind says what the bytes are (a float for clock and random
// values, text for a UUID or an error, a structured-clone value for an input).

import { inspect } from 'node:util';
import { deserialize } from 'node:v8';
import { decodeBlocks, decodeCut } from '../engine/checkpoint.js';
import { Kind, ValueKind, describe, hasPayload, kindOf, objectOf } from '../engine/event.js';
import { payloadOf, type Lane } from './causality.js';

const VALUE_TEXT_MAX = 60;

/** "lock(object 3, version 17)", "value(random) = 0.4139…", "input(object 2) = { id: 7 }". */
export function eventText(lane: Lane, index: number): string {
  const h = lane.events[2 * index]!;
  const arg = lane.events[2 * index + 1]!;
  const base = describe(h, arg);
  if (!hasPayload(kindOf(h))) return base;
  return `${base} = ${payloadText(kindOf(h), objectOf(h), payloadOf(lane, index))}`;
}

export function payloadText(kind: number, object: number, bytes: Uint8Array): string {
  switch (kind) {
    case Kind.Value:
      if (bytes.length === 8 && (object === ValueKind.Now || object === ValueKind.Random || object === ValueKind.DateNow || object === ValueKind.PerfNow)) {
        return String(new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true));
      }
      if (object === ValueKind.Uuid) return clip(new TextDecoder().decode(bytes));
      return hex(bytes);
    case Kind.Input:
      try {
        return clip(inspect(deserialize(bytes), { depth: 2, breakLength: Infinity, maxArrayLength: 8, maxStringLength: VALUE_TEXT_MAX }));
      } catch {
        return hex(bytes);
      }
    case Kind.Output: {
      const out = outputOf(bytes);
      return out ? `${JSON.stringify(out.channel)}: ${out.value}` : hex(bytes);
    }
    case Kind.Error:
      return JSON.stringify(clip(new TextDecoder().decode(bytes)));
    case Kind.End:
      return `digest ${Buffer.from(bytes).toString('hex')}`;
    case Kind.Checkpoint: {
      // object 0: a cut taken while recording; 1: the end of the run's blocks (engine/checkpoint.ts).
      const cut = object === 0 ? decodeCut(bytes) : null;
      const blocks = object === 0 ? cut?.set : decodeBlocks(bytes)?.set;
      if (!blocks) return hex(bytes);
      const n = blocks.reduce((sum, d) => sum + d.hashes.length, 0);
      return cut ? `checkpoint ${cut.number}: ${cut.places.length + 1} threads stopped, ${n} block digests` : `${n} block digests`;
    }
    default:
      return hex(bytes);
  }
}

/**
 * An output event's payload is the structured clone of [channel, value] (engine/thread_api.ts output()).
 * Returns null for bytes that are not that shape.
 */
export function outputOf(bytes: Uint8Array): { channel: string; value: string } | null {
  try {
    const decoded = deserialize(bytes) as unknown;
    if (!Array.isArray(decoded) || decoded.length !== 2 || typeof decoded[0] !== 'string') return null;
    return { channel: decoded[0], value: clip(inspect(decoded[1], { depth: 2, breakLength: Infinity, maxArrayLength: 8, maxStringLength: VALUE_TEXT_MAX })) };
  } catch {
    return null;
  }
}

function hex(bytes: Uint8Array): string {
  const shown = Buffer.from(bytes.subarray(0, 16)).toString('hex');
  return bytes.length > 16 ? `0x${shown}… (${bytes.length} bytes)` : `0x${shown}`;
}

function clip(text: string): string {
  return text.length > VALUE_TEXT_MAX ? `${text.slice(0, VALUE_TEXT_MAX)}…` : text;
}
