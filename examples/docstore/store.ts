// The document store's replicated state, all in registered shared memory (so a backup that joins
// by state transfer gets it): one slot per document key, each holding the canonical document
// deflated, under striped mutexes (key % stripes), so requests on different keys run in
// parallel and only the copy into or out of the slot is locked.
//
// Layout, per key k:
//   docs.meta  Int32 slots k*META_SLOTS ..: 0 packed length in bytes (0: no document), 1 records,
//              2..9 the SHA-256 of the canonical document (8 words, big-endian bytes per word)
//   docs.heap  bytes k*slotBytes .. +slotBytes: the packed document
//
// A PUT is idempotent: the same document under the same key leaves the same state and the same
// answer, so a client may resend it after a failover. (A resend that lands after another PUT on
// the same key would put the older document back: clients that resend use their own keys.)

import type { LockstepThread, Mutex } from 'lockstep';
import { ingest, unpack } from './work.js';

export const META_SLOTS = 10;
const SHA_WORDS = 8;

export interface Request {
  requestId: string;
  op: 'put' | 'get' | 'quit';
  key?: number;
  doc?: string;
}

export interface Answer {
  ok: boolean;
  key?: number;
  sha?: string;
  records?: number;
  /** PUT: the packed size in bytes. */
  bytes?: number;
  terms?: string[];
  error?: string;
}

/** What a request's thread emits on the "reply" output. */
export interface Reply {
  requestId: string;
  answer: Answer;
}

export class DocStore {
  private constructor(
    readonly meta: Int32Array,
    readonly heap: Uint8Array,
    readonly slotBytes: number,
    /** Null in the single-threaded service: one thread needs no locks (and its log then holds only inputs). */
    private readonly stripes: Mutex[] | null,
  ) {}

  static create(t: LockstepThread, keysMax: number, slotBytes: number, stripes: number, locked: boolean): DocStore {
    t.shared('docs.meta', Int32Array, keysMax * META_SLOTS);
    t.shared('docs.heap', Uint8Array, keysMax * slotBytes);
    if (locked) t.mutexes('docs.stripe', stripes);
    return DocStore.attach(t, locked);
  }

  static attach(t: LockstepThread, locked: boolean): DocStore {
    const meta = t.shared('docs.meta', Int32Array);
    const heap = t.shared('docs.heap', Uint8Array);
    return new DocStore(meta, heap, heap.length / (meta.length / META_SLOTS), locked ? t.mutexes('docs.stripe') : null);
  }

  get keysMax(): number {
    return this.meta.length / META_SLOTS;
  }

  apply(req: Request): Answer {
    const key = req.key ?? -1;
    if (!(Number.isInteger(key) && key >= 0 && key < this.keysMax)) return { ok: false, error: `the key must be an integer from 0 to ${this.keysMax - 1}` };
    return req.op === 'put' ? this.put(key, req.doc) : this.get(key);
  }

  private put(key: number, doc: string | undefined): Answer {
    if (typeof doc !== 'string') return { ok: false, key, error: 'a put needs a doc (a JSON array of records, as a string)' };
    let d;
    try {
      d = ingest(doc);
    } catch (e) {
      return { ok: false, key, error: (e as Error).message };
    }
    if (d.packed.length > this.slotBytes) return { ok: false, key, error: `the packed document has ${d.packed.length} bytes; a slot holds ${this.slotBytes} (DOCS_SLOT_BYTES)` };
    const sha = Buffer.from(d.sha, 'hex');
    const m = key * META_SLOTS;
    this.locked(key, () => {
      this.heap.set(d.packed, key * this.slotBytes);
      this.meta[m] = d.packed.length;
      this.meta[m + 1] = d.records;
      for (let w = 0; w < SHA_WORDS; w++) this.meta[m + 2 + w] = sha.readInt32BE(w * 4);
    });
    return { ok: true, key, sha: d.sha, records: d.records, bytes: d.packed.length, terms: d.terms };
  }

  private get(key: number): Answer {
    const m = key * META_SLOTS;
    const [packed, sha] = this.locked(key, () => {
      const n = this.meta[m]!;
      if (n === 0) return [null, ''] as const;
      const s = Buffer.alloc(SHA_WORDS * 4);
      for (let w = 0; w < SHA_WORDS; w++) s.writeInt32BE(this.meta[m + 2 + w]!, w * 4);
      return [this.heap.slice(key * this.slotBytes, key * this.slotBytes + n), s.toString('hex')] as const;
    });
    if (!packed) return { ok: false, key, error: `no document under key ${key}` };
    const u = unpack(packed);
    if (u.sha !== sha) throw new Error(`docstore: key ${key} holds a document whose hash is not the one stored with it`);
    return { ok: true, key, sha, records: u.records, terms: u.terms };
  }

  /** Every stored document's key and hash, for the summary a test checks against its answers. */
  entries(): { key: number; sha: string }[] {
    const out = [];
    for (let k = 0; k < this.keysMax; k++) {
      const m = k * META_SLOTS;
      if (this.meta[m] === 0) continue;
      const s = Buffer.alloc(SHA_WORDS * 4);
      for (let w = 0; w < SHA_WORDS; w++) s.writeInt32BE(this.meta[m + 2 + w]!, w * 4);
      out.push({ key: k, sha: s.toString('hex') });
    }
    return out;
  }

  private locked<T>(key: number, fn: () => T): T {
    if (!this.stripes) return fn();
    const m = this.stripes[key % this.stripes.length]!;
    m.lock();
    try {
      return fn();
    } finally {
      m.unlock();
    }
  }
}
