/**
 * A minimal protobuf writer and reader for the hot-path messages of the raft transport
 * (`raft_serverpb.RaftMessage` and what it nests). Generic decoding through protobufjs costs
 * about 9 µs per RaftMessage and yields 64-bit ids as strings; this codec is byte-compatible with
 * it (pinned by raft-message.test.ts) and produces mrkv's domain shapes directly.
 *
 * Integers are JS numbers: ids, terms and indexes stay below 2^53 (a store would need to write
 * a billion entries a second for a century to get there).
 */
import { MrkvError, CommonCodes, invariant } from '@mrkv/common';

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** Size of the chunks a `chunked` writer encodes into (each holds a few hundred raft messages). */
const CHUNK_BYTES = 64 * 1024;

/** The bytes of a varint of `v` (v ≥ 0). */
function varintSize(v: number): number {
  let n = 1;
  for (; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}

/**
 * A growable byte buffer with protobuf field writers.
 *
 * Nested messages are written between `begin(field)` and `end(mark)` (no closure per field):
 * `begin` reserves five bytes for the length, `end` writes it and moves the body down over the
 * unused ones. Marks are relative to the message's start, so they survive the buffer growing.
 */
export class PbWriter {
  private buf: Uint8Array;
  /** Where the message being written starts in `buf`: 0 except in the chunked writer. */
  private start = 0;
  /** Results are views into shared chunks (`finishView`), never copies. */
  private isChunked = false;
  pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  /**
   * A writer over a buffer shared by every top-level encode of this thread (encoding is
   * synchronous, and `finish` copies the bytes out): no allocation per message but the result.
   * Profiles showed a fresh zero-filled buffer per raft message as the largest self time.
   */
  static shared(sizeHint: number): PbWriter {
    const w = (PbWriter.sharedWriter ??= new PbWriter(64 * 1024));
    w.pos = 0;
    if (w.buf.length < sizeHint) w.buf = new Uint8Array(Math.max(sizeHint, w.buf.length * 2));
    return w;
  }

  private static sharedWriter: PbWriter | undefined;

  /**
   * A writer whose result (`finishView`) is a view into a 64 KiB chunk that the next results of
   * this thread share, like Node's pooled `Buffer.allocUnsafe`: no allocation per message but
   * the view. Only for bytes that live briefly (raft messages on their way to the transport):
   * one long-lived result keeps its whole chunk alive, and whoever transfers a result's
   * `.buffer` to another thread detaches its neighbours.
   */
  static chunked(sizeHint: number): PbWriter {
    let w = PbWriter.chunkedWriter;
    if (w === undefined) {
      w = PbWriter.chunkedWriter = new PbWriter(CHUNK_BYTES);
      w.isChunked = true;
    }
    if (w.buf.length - w.pos < sizeHint) {
      w.buf = new Uint8Array(Math.max(CHUNK_BYTES, sizeHint));
      w.pos = 0;
    }
    w.start = w.pos;
    return w;
  }

  private static chunkedWriter: PbWriter | undefined;

  /** Makes room for `n` more bytes: the message written so far moves to a new, larger buffer. */
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.start;
    let size = Math.max(this.isChunked ? CHUNK_BYTES : 0, this.buf.length * 2);
    while (size < used + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(this.start, this.pos));
    this.buf = next;
    this.start = 0;
    this.pos = used;
  }

  varint(v: number): void {
    this.ensure(10);
    if (v < 0) {
      // Negative int64: ten-byte two's complement.
      let big = BigInt.asUintN(64, BigInt(v));
      while (big >= 0x80n) {
        this.buf[this.pos++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      this.buf[this.pos++] = Number(big);
      return;
    }
    const buf = this.buf;
    let pos = this.pos;
    // Above 2^31 bit operators would truncate: divide until the rest fits in 31 bits.
    while (v > 0x7fffffff) {
      buf[pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** A uint64 field, omitted when 0 (proto3 default). */
  u64(field: number, v: number): void {
    if (v === 0) return;
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  bool(field: number, v: boolean): void {
    if (!v) return;
    this.tag(field, WIRE_VARINT);
    this.varint(1);
  }

  /** A bytes field, omitted when empty. */
  bytes(field: number, v: Uint8Array | undefined): void {
    if (v === undefined || v.length === 0) return;
    this.tag(field, WIRE_LEN);
    this.varint(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** A packed repeated uint64 field, omitted when empty. */
  packed(field: number, vs: readonly number[]): void {
    if (vs.length === 0) return;
    let len = 0;
    for (const v of vs) len += v < 0 ? 10 : varintSize(v);
    this.tag(field, WIRE_LEN);
    this.varint(len);
    for (const v of vs) this.varint(v);
  }

  /** Opens a nested message field (always present, even when empty); `end(mark)` closes it. */
  begin(field: number): number {
    this.tag(field, WIRE_LEN);
    this.ensure(5);
    const mark = this.pos - this.start;
    this.pos += 5;
    return mark;
  }

  /** Closes the nested message `begin` opened: writes its length and moves the body down to it. */
  end(mark: number): void {
    const lenPos = this.start + mark;
    const bodyStart = lenPos + 5;
    const len = this.pos - bodyStart;
    const lenBytes = varintSize(len);
    if (lenBytes > 5) throw new MrkvError(CommonCodes.INVALID_ARGUMENT, 'message too large to encode');
    const buf = this.buf;
    if (lenBytes < 5) buf.copyWithin(lenPos + lenBytes, bodyStart, this.pos);
    // The length goes into the reserved slot itself (no `ensure`: the slot is already there).
    let p = lenPos;
    let v = len;
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
    this.pos = lenPos + lenBytes + len;
  }

  /** A nested message written by `fn`, always present (even when empty). */
  message(field: number, fn: (w: PbWriter) => void): void {
    const mark = this.begin(field);
    fn(this);
    this.end(mark);
  }

  /** A copy of the bytes written (the writer may be reused). */
  finish(): Uint8Array {
    return this.buf.slice(this.start, this.pos);
  }

  /**
   * The bytes written, as a view into this chunked writer's current chunk; the next message
   * starts after them.
   */
  finishView(): Uint8Array {
    invariant(this.isChunked, 'finishView on a writer that reuses its buffer');
    const out = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.start, this.pos - this.start);
    this.start = this.pos;
    return out;
  }
}

/** Thrown for bytes that are not a valid encoding. */
export function malformed(what: string): MrkvError {
  return new MrkvError(CommonCodes.INVALID_ARGUMENT, `malformed ${what}`, { details: { what } });
}

/**
 * A protobuf reader over a byte range.
 *
 * Hot decoders read tags with `next()` (the wire type lands in `wire`) and nested messages with
 * `enter()`/`leave()` on the same reader; `tag()` and `sub()` allocate a tuple or a reader per
 * call and are kept for cold paths.
 */
export class PbReader {
  pos: number;
  /** The wire type of the tag `next()` read last. */
  wire = 0;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    /** Where the current message ends (narrowed by `enter`, widened back by `leave`). */
    public end = buf.length,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    const buf = this.buf;
    if (this.pos < this.end) {
      // One-byte fast path: field tags, small ids, flags.
      const b = buf[this.pos]!;
      if (b < 0x80) {
        this.pos++;
        return b;
      }
    }
    let result = 0;
    let mul = 1;
    const start = this.pos;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw malformed('varint');
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
    // Long form (values of 2^49 and up, negative int64s): exact with BigInt.
    this.pos = start;
    let big = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed('varint');
      const b = buf[this.pos++]!;
      big |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return Number(BigInt.asIntN(64, big));
    }
    throw malformed('varint');
  }

  /** Reads a field tag: returns the field number and leaves the wire type in `wire`. */
  next(): number {
    const t = this.varint();
    const field = Math.floor(t / 8);
    if (field === 0) throw malformed('field tag');
    this.wire = t & 7;
    return field;
  }

  /** Returns [field, wireType] (allocates: hot decoders use `next`). */
  tag(): [number, number] {
    const field = this.next();
    return [field, this.wire];
  }

  /** The [start, end) of a length-delimited field's body, advancing past it. */
  lenRange(): [number, number] {
    const start = this.skipLen();
    return [start, this.pos];
  }

  /** Skips a length-delimited field's body; returns where it started. */
  private skipLen(): number {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (len < 0 || end > this.end) throw malformed('length-delimited field');
    this.pos = end;
    return start;
  }

  /**
   * Narrows the reader to a length-delimited field's body (a nested message); returns the outer
   * limit, which `leave` needs to take the reader past the body and back to the outer message.
   */
  enter(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (len < 0 || end > this.end) throw malformed('length-delimited field');
    const outer = this.end;
    this.end = end;
    return outer;
  }

  /** Leaves the body `enter` opened (whatever of it is unread is skipped). */
  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  bytes(): Uint8Array {
    const s = this.skipLen();
    const len = this.pos - s;
    // A copy (never a view: a Buffer's slice would pin the whole frame).
    const out = new Uint8Array(len);
    const buf = this.buf;
    if (len <= 32) {
      // Keys and ids: a loop is cheaper than the view `set` needs.
      for (let i = 0; i < len; i++) out[i] = buf[s + i]!;
    } else {
      out.set(new Uint8Array(buf.buffer, buf.byteOffset + s, len));
    }
    return out;
  }

  /**
   * Like `bytes`, but returns `prev` itself when the field holds the same bytes: for values that
   * repeat message after message (a region's range keys), callers keep one array instead of a
   * copy each time. Only for values nobody mutates.
   */
  bytesOr(prev: Uint8Array | undefined): Uint8Array {
    if (prev === undefined) return this.bytes();
    const start = this.pos;
    const s = this.skipLen();
    const len = this.pos - s;
    if (len === prev.length) {
      const buf = this.buf;
      let i = 0;
      while (i < len && buf[s + i] === prev[i]) i++;
      if (i === len) return prev;
    }
    this.pos = start;
    return this.bytes();
  }

  sub(): PbReader {
    const s = this.skipLen();
    return new PbReader(this.buf, s, this.pos);
  }

  /** A repeated uint64 field element(s): packed or not. */
  repeatedU64(wire: number, out: number[]): void {
    if (wire === WIRE_LEN) {
      const r = this.sub();
      while (!r.done()) out.push(r.varint());
    } else if (wire === WIRE_VARINT) {
      out.push(this.varint());
    } else {
      throw malformed('repeated uint64');
    }
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        this.pos += 8;
        break;
      case WIRE_LEN:
        this.skipLen();
        return;
      case WIRE_I32:
        this.pos += 4;
        break;
      default:
        throw malformed(`wire type ${wire}`);
    }
    if (this.pos > this.end) throw malformed('fixed-width field');
  }

  expect(wire: number, expected: number, what: string): void {
    if (wire !== expected) throw malformed(what);
  }
}

export const Wire = { VARINT: WIRE_VARINT, LEN: WIRE_LEN } as const;
