// The document store's request work, with no lockstep in it: what a PUT and a GET compute. A PUT
// parses a JSON document (an array of records), checks its shape, puts it in canonical form
// (records by id, each record's tags sorted), builds a small term index (word counts over names,
// notes and tags, top terms by count), serialises the canonical form, compresses it (raw
// deflate) and hashes it (SHA-256). A GET inflates a stored document, parses it and checks its
// hash. This is real CPU work per request (about a millisecond for the default document), done
// outside any lock, so more pool workers serve more requests; only the store update is locked.
//
// makeDoc() builds the seeded documents the load generator and the tests send.

import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export interface DocRecord {
  id: number;
  name: string;
  tags: string[];
  price: number;
  qty: number;
  note: string;
}

export interface Ingested {
  /** The canonical document, deflated: what the store keeps. */
  packed: Uint8Array;
  /** SHA-256 of the canonical document, hex. */
  sha: string;
  records: number;
  /** The most frequent words, "word:count", most frequent first (ties by word). */
  terms: string[];
}

const RECORDS_MAX = 100_000;
const TOP_TERMS = 5;
const DEFLATE_LEVEL = 6;

/** Parses, checks and canonicalises a document; throws a plain Error (the answer's `error`) when it is not one. */
export function ingest(text: string): Ingested {
  const doc = JSON.parse(text) as unknown;
  if (!Array.isArray(doc) || doc.length > RECORDS_MAX) throw new Error(`a document is an array of at most ${RECORDS_MAX} records`);
  const records: DocRecord[] = doc.map((r: Partial<DocRecord>, i) => {
    if (typeof r !== 'object' || r === null || !Number.isInteger(r.id) || typeof r.name !== 'string' || !Array.isArray(r.tags)
      || typeof r.price !== 'number' || !Number.isInteger(r.qty) || typeof r.note !== 'string') {
      throw new Error(`record ${i} needs id, name, tags, price, qty and note`);
    }
    return { id: r.id!, name: r.name, tags: r.tags.map(String).sort(), price: r.price, qty: r.qty!, note: r.note };
  });
  records.sort((x, y) => x.id - y.id);
  const canonical = Buffer.from(JSON.stringify(records));
  return {
    packed: new Uint8Array(deflateRawSync(canonical, { level: DEFLATE_LEVEL })),
    sha: createHash('sha256').update(canonical).digest('hex'),
    records: records.length,
    terms: topTerms(records),
  };
}

/** Inflates a stored document and checks it: its record count, hash and top terms. */
export function unpack(packed: Uint8Array): { sha: string; records: number; terms: string[] } {
  const canonical = inflateRawSync(packed);
  const records = JSON.parse(canonical.toString('utf8')) as DocRecord[];
  return { sha: createHash('sha256').update(canonical).digest('hex'), records: records.length, terms: topTerms(records) };
}

function topTerms(records: DocRecord[]): string[] {
  const counts = new Map<string, number>();
  const count = (text: string): void => {
    for (const w of text.toLowerCase().split(/[^a-z0-9]+/)) if (w.length > 2) counts.set(w, (counts.get(w) ?? 0) + 1);
  };
  for (const r of records) {
    count(r.name);
    count(r.note);
    for (const tag of r.tags) count(tag);
  }
  return [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, TOP_TERMS).map(([w, n]) => `${w}:${n}`);
}

const WORDS = (
  'alpha bravo cobalt delta ember falcon garnet harbor iris juniper kestrel lumen meadow nectar onyx pepper quartz ' +
  'raven saffron tundra umber velvet willow xenon yarrow zephyr amber basalt cedar dune fjord glacier heron indigo ' +
  'jasper kelp lagoon marble nimbus orchid pine quill reef sable thistle ultra vale wren yew zinc acorn birch coral'
).split(' ');

/** A seeded document of `records` records (mulberry32), about 150 bytes of JSON a record. */
export function makeDoc(seed: number, records: number): string {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const word = (): string => WORDS[Math.floor(rand() * WORDS.length)]!;
  const out: DocRecord[] = [];
  for (let i = 0; i < records; i++) {
    out.push({
      id: Math.floor(rand() * 1e9),
      name: `${word()} ${word()}`,
      tags: [word(), word(), word()],
      price: Math.round(rand() * 1e6) / 100,
      qty: Math.floor(rand() * 1000),
      note: Array.from({ length: 8 }, word).join(' '),
    });
  }
  return JSON.stringify(out);
}
