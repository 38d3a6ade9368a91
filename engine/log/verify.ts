// A FlatBuffers verifier for the log's schema (schema.fbs). FlatBuffers' JS runtime has none: it
// follows whatever offsets and lengths a buffer holds, and a read past the end yields 0 instead of
// failing, so one lying vector length inside a frame with a valid CRC made the reader loop over
// billions of phantom chunks. Every offset, length and count the codec will follow is checked here
// against the buffer first, with the runtime's own (signed) reads; the work is linear in the
// buffer's size. The checks follow the C++ verifier (flatbuffers/verifier.h): table → vtable
// bounds, each present field inside the table's inline size, each string and vector inside the
// buffer, each vector element of a table type verified in turn.
//
// The schema is written out below as tables of field types in field-id order: a new field in
// schema.fbs is one line here (forgetting it only leaves that field unchecked, never breaks reading).
// Pure: bytes in, a reason out.

/** Field types of our schema; a nested table's type is its shape. */
type FieldType = 'bool' | 'u32' | 'u64' | 'f64' | 'string' | 'u8s' | 'u32s' | 'strings' | TableShape | { vectorOf: TableShape };
interface TableShape {
  name: string;
  /** Field types in field-id order (the order of schema.fbs). */
  fields: FieldType[];
}

const NAME: TableShape = { name: 'Name', fields: [
  'string', // name
  'string', // kind
  'u32', // first_id
  'u32', // count
] };

const TRAILER: TableShape = { name: 'Trailer', fields: [
  'u32', // thread_count
  'u64', // event_count
  'string', // digest
  { vectorOf: NAME }, // names
  'bool', // cut_off
] };

const CHUNK: TableShape = { name: 'Chunk', fields: [
  'u32', // thread
  'u64', // first_index
  'u32s', // events
  'u8s', // data
  'f64', // time
] };

export const FRAME_SHAPE: TableShape = { name: 'Frame', fields: [
  'u64', // seq
  { vectorOf: CHUNK }, // chunks
  TRAILER, // trailer
] };

export const HEADER_SHAPE: TableShape = { name: 'Header', fields: [
  'u32', // format_version
  'string', // program_path
  'string', // program_hash
  'strings', // args
  'u32', // threads_max
  'u64', // seed
  'string', // node_version
  'string', // options
] };

const scalarBytes: Record<string, number> = { bool: 1, u32: 4, u64: 8, f64: 8 };

/** Thrown for a buffer that does not hold a valid table of the expected shape. */
export class BadFlatBuffer extends Error {}

/**
 * A place in the buffer the verifier checked: where, how many bytes, and what it holds. The log
 * fuzzer uses these to lie exactly where a reader would believe.
 */
export interface Site {
  at: number;
  bytes: 1 | 2 | 4 | 8;
  role: 'offset' | 'length' | 'vtable' | 'scalar' | 'element';
  what: string;
}

/** Checks `bytes` as a root table of `shape`; throws BadFlatBuffer saying what lies. */
export function verifyRoot(bytes: Uint8Array, shape: TableShape, visit?: (site: Site) => void): void {
  new Verifier(bytes, visit ?? null).root(shape);
}

class Verifier {
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array, private readonly visit: ((site: Site) => void) | null) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  root(shape: TableShape): void {
    this.need(0, 4, 'the root offset');
    this.table(this.target(0, `the root ${shape.name}`), shape);
  }

  /** Fails unless `length` bytes from `at` lie inside the buffer. */
  private need(at: number, length: number, what: string): void {
    if (!(at >= 0 && length >= 0 && at + length <= this.bytes.length)) {
      throw new BadFlatBuffer(`${what} (bytes ${at}..${at + length}) lies outside the ${this.bytes.length}-byte frame`);
    }
  }

  private i32(at: number): number {
    return this.view.getInt32(at, true);
  }

  /** Follows the offset stored at `at` (read signed, as the runtime does) to a 4-byte aligned target. */
  private target(at: number, what: string): number {
    this.visit?.({ at, bytes: 4, role: 'offset', what });
    const offset = this.i32(at);
    if (offset <= 0) throw new BadFlatBuffer(`${what} has offset ${offset}`);
    const to = at + offset;
    if (to % 4 !== 0) throw new BadFlatBuffer(`${what} is at byte ${to}, not 4-byte aligned`);
    this.need(to, 4, what);
    return to;
  }

  private table(at: number, shape: TableShape): void {
    const vtable = at - this.i32(at);
    this.need(vtable, 4, `${shape.name}'s vtable`);
    if (vtable % 2 !== 0) throw new BadFlatBuffer(`${shape.name}'s vtable is at odd byte ${vtable}`);
    this.visit?.({ at, bytes: 4, role: 'offset', what: `${shape.name}'s vtable offset` });
    const vtableBytes = this.view.getInt16(vtable, true);
    const tableBytes = this.view.getInt16(vtable + 2, true);
    if (this.visit) {
      this.visit({ at: vtable, bytes: 2, role: 'vtable', what: `${shape.name}'s vtable size` });
      this.visit({ at: vtable + 2, bytes: 2, role: 'vtable', what: `${shape.name}'s inline size` });
    }
    if (vtableBytes < 4 || vtableBytes % 2 !== 0) throw new BadFlatBuffer(`${shape.name}'s vtable claims ${vtableBytes} bytes`);
    this.need(vtable, vtableBytes, `${shape.name}'s vtable`);
    if (tableBytes < 4) throw new BadFlatBuffer(`${shape.name} claims ${tableBytes} inline bytes`);
    this.need(at, tableBytes, shape.name);
    shape.fields.forEach((type, id) => {
      const slot = 4 + 2 * id;
      const field = slot < vtableBytes ? this.view.getInt16(vtable + slot, true) : 0;
      if (field === 0) return;
      const what = `${shape.name} field ${id}`;
      this.visit?.({ at: vtable + slot, bytes: 2, role: 'vtable', what: `${what}'s vtable entry` });
      const size = typeof type === 'string' && type in scalarBytes ? scalarBytes[type]! : 4;
      if (field < 4 || field + size > tableBytes) throw new BadFlatBuffer(`${what} at inline offset ${field} lies outside the table's ${tableBytes} bytes`);
      this.field(at + field, type, what);
    });
  }

  private field(at: number, type: FieldType, what: string): void {
    if (type === 'bool' || type === 'u32' || type === 'u64' || type === 'f64') {
      this.visit?.({ at, bytes: scalarBytes[type] as 1 | 4 | 8, role: 'scalar', what });
      return;
    }
    const to = this.target(at, what);
    if (type === 'string') return void this.vector(to, 1, what, 1);
    if (type === 'u8s') return void this.vector(to, 1, what, 0);
    if (type === 'u32s') {
      const n = this.vector(to, 4, what, 0);
      if (this.visit) for (let i = 0; i < n; i++) this.visit({ at: to + 4 + 4 * i, bytes: 4, role: 'element', what: `${what}[${i}]` });
      return;
    }
    if (type === 'strings') {
      const n = this.vector(to, 4, what, 0);
      for (let i = 0; i < n; i++) this.vector(this.target(to + 4 + 4 * i, `${what}[${i}]`), 1, `${what}[${i}]`, 1);
      return;
    }
    if ('vectorOf' in type) {
      const n = this.vector(to, 4, what, 0);
      for (let i = 0; i < n; i++) this.table(this.target(to + 4 + 4 * i, `${what}[${i}]`), type.vectorOf);
      return;
    }
    this.table(to, type);
  }

  /** A vector (or string) at `at`: its length, then `n` elements of `size` bytes, then `pad` bytes (a string's 0). */
  private vector(at: number, size: number, what: string, pad: number): number {
    this.visit?.({ at, bytes: 4, role: 'length', what: `${what}'s length` });
    const n = this.i32(at);
    if (n < 0) throw new BadFlatBuffer(`${what} claims ${n} elements`);
    this.need(at + 4, n * size + pad, `${what}'s ${n} elements`);
    return n;
  }
}
