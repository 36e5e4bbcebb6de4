/**
 * A minimal protobuf writer and reader for the hot-path messages of the raft transport
 * (`raft_serverpb.RaftMessage` and what it nests). Generic decoding through protobufjs costs
 * about 9 µs per RaftMessage and yields 64-bit ids as strings; this codec is byte-compatible with
 * it (pinned by raft-message.test.ts) and produces mrkv's domain shapes directly.
 *
 * Integers are JS numbers: ids, terms and indexes stay below 2^53 (a store would need to write
 * a billion entries a second for a century to get there).
 */
import { MrkvError, CommonCodes } from '@mrkv/common';

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** A growable byte buffer with protobuf field writers. */
export class PbWriter {
  private buf: Uint8Array;
  pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /**
   * A writer over a buffer shared by every top-level encode of this thread (encoding is
   * synchronous, and `finish` copies the bytes out): no allocation per message but the result.
   * Profiles showed a fresh zero-filled buffer per raft message as the largest self time.
   */
  static shared(sizeHint: number): PbWriter {
    const w = SHARED;
    w.pos = 0;
    if (w.buf.length < sizeHint) w.buf = Buffer.allocUnsafe(Math.max(sizeHint, w.buf.length * 2));
    return w;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
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
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
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
    const inner = new PbWriter(vs.length * 4 + 8);
    for (const v of vs) inner.varint(v);
    this.bytes(field, inner.finish());
  }

  /** A nested message written by `fn`, always present (even when empty). */
  message(field: number, fn: (w: PbWriter) => void): void {
    this.tag(field, WIRE_LEN);
    // Reserve a length slot: write the body after a 5-byte gap, then move it if shorter.
    this.ensure(5);
    const lenPos = this.pos;
    this.pos += 5;
    const start = this.pos;
    fn(this);
    const len = this.pos - start;
    let lenBytes = 1;
    for (let x = len; x >= 0x80; x = Math.floor(x / 0x80)) lenBytes++;
    if (lenBytes > 5) throw new MrkvError(CommonCodes.INVALID_ARGUMENT, 'message too large to encode');
    this.buf.copyWithin(lenPos + lenBytes, start, this.pos);
    this.pos = lenPos;
    this.varint(len);
    this.pos = lenPos + lenBytes + len;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    return out;
  }
}

const SHARED = new PbWriter(64 * 1024);

/** Thrown for bytes that are not a valid encoding. */
export function malformed(what: string): MrkvError {
  return new MrkvError(CommonCodes.INVALID_ARGUMENT, `malformed ${what}`, { details: { what } });
}

/** A protobuf reader over a byte range. */
export class PbReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    const start = this.pos;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw malformed('varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
    // Long form (values of 2^49 and up, negative int64s): exact with BigInt.
    this.pos = start;
    let big = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed('varint');
      const b = this.buf[this.pos++]!;
      big |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return Number(BigInt.asIntN(64, big));
    }
    throw malformed('varint');
  }

  /** Returns [field, wireType]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8);
    if (field === 0) throw malformed('field tag');
    return [field, t & 7];
  }

  /** The [start, end) of a length-delimited field's body, advancing past it. */
  lenRange(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (len < 0 || end > this.end) throw malformed('length-delimited field');
    this.pos = end;
    return [start, end];
  }

  bytes(): Uint8Array {
    const [s, e] = this.lenRange();
    // A copy (never a view: a Buffer's slice would pin the whole frame).
    const out = new Uint8Array(e - s);
    out.set(this.buf.subarray(s, e));
    return out;
  }

  sub(): PbReader {
    const [s, e] = this.lenRange();
    return new PbReader(this.buf, s, e);
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
        this.lenRange();
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
