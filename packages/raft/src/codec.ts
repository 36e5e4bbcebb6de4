/**
 * Conf changes travel inside log entries (`EntryConfChange` / `EntryConfChangeV2`), so they need a
 * byte form. We use the protobuf wire encoding of eraftpb's messages, which makes the bytes of an
 * mrkv conf-change entry identical to TiKV's and lets `raft-dump` and the store decode them with
 * any protobuf library:
 *
 *   ConfChange       { 1 id: uint64, 2 change_type: enum, 3 node_id: uint64, 4 context: bytes }
 *   ConfChangeSingle { 1 change_type: enum, 2 node_id: uint64 }
 *   ConfChangeV2     { 1 transition: enum, 2 changes: repeated ConfChangeSingle, 3 context: bytes }
 *
 * proto3 rules: zero values are omitted on encode; unknown fields are skipped on decode; empty
 * bytes decode to the default message (an empty ConfChangeV2 means "leave joint"). Decoding
 * validates everything and throws `RaftError(CODEC_ERROR)` on bad bytes; it never reads out of
 * bounds. Numbers above 2^53 - 1 are refused rather than rounded.
 */
import { RaftCodes, RaftError } from './errors.js';
import type { ConfChange, ConfChangeSingle, ConfChangeTransition, ConfChangeType, ConfChangeV2 } from './types.js';

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

class Writer {
  private buf = new Uint8Array(32);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

class Reader {
  pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what: string,
    readonly end = buf.length,
  ) {}

  fail(reason: string): never {
    throw new RaftError(RaftCodes.CODEC_ERROR, `cannot decode ${this.what}: ${reason}`, {
      details: { offset: this.pos },
    });
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (result > Number.MAX_SAFE_INTEGER) this.fail('integer above 2^53 - 1');
        return result;
      }
      mul *= 0x80;
    }
    return this.fail('varint longer than 10 bytes');
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (n > this.end - this.pos) this.fail(`length ${n} runs past the end`);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Returns [field, wireType]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8);
    if (field === 0) this.fail('field number 0');
    return [field, t % 8];
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.advance(this.varint());
        return;
      case WIRE_I32:
        this.advance(4);
        return;
      default:
        this.fail(`unsupported wire type ${wire}`);
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) this.fail('field runs past the end');
    this.pos += n;
  }

  expectWire(got: number, want: number, field: string): void {
    if (got !== want) this.fail(`field ${field} has wire type ${got}, expected ${want}`);
  }
}

function changeType(r: Reader, v: number): ConfChangeType {
  if (v !== 0 && v !== 1 && v !== 2) r.fail(`unknown ConfChangeType ${v}`);
  return v as ConfChangeType;
}

function transition(r: Reader, v: number): ConfChangeTransition {
  if (v !== 0 && v !== 1 && v !== 2) r.fail(`unknown ConfChangeTransition ${v}`);
  return v as ConfChangeTransition;
}

function checkU64(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RaftError(RaftCodes.CODEC_ERROR, `cannot encode ${what}: ${v} is not a non-negative safe integer`);
  }
}

/** Encodes a ConfChange (V1) as eraftpb protobuf bytes. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  checkU64(cc.id, 'ConfChange.id');
  checkU64(cc.nodeId, 'ConfChange.nodeId');
  const w = new Writer();
  if (cc.id !== 0) {
    w.tag(1, WIRE_VARINT);
    w.varint(cc.id);
  }
  if (cc.changeType !== 0) {
    w.tag(2, WIRE_VARINT);
    w.varint(cc.changeType);
  }
  if (cc.nodeId !== 0) {
    w.tag(3, WIRE_VARINT);
    w.varint(cc.nodeId);
  }
  if (cc.context.length > 0) {
    w.tag(4, WIRE_LEN);
    w.bytes(cc.context);
  }
  return w.finish();
}

/** Decodes eraftpb ConfChange bytes; throws RaftError(CODEC_ERROR) on bad input. */
export function decodeConfChange(b: Uint8Array): ConfChange {
  const r = new Reader(b, 'ConfChange');
  const cc: ConfChange = { id: 0, changeType: 0, nodeId: 0, context: new Uint8Array(0) };
  while (!r.done()) {
    const [f, wire] = r.tag();
    switch (f) {
      case 1:
        r.expectWire(wire, WIRE_VARINT, 'id');
        cc.id = r.varint();
        break;
      case 2:
        r.expectWire(wire, WIRE_VARINT, 'change_type');
        cc.changeType = changeType(r, r.varint());
        break;
      case 3:
        r.expectWire(wire, WIRE_VARINT, 'node_id');
        cc.nodeId = r.varint();
        break;
      case 4:
        r.expectWire(wire, WIRE_LEN, 'context');
        cc.context = r.bytes();
        break;
      default:
        r.skip(wire);
    }
  }
  return cc;
}

/** Encodes a ConfChangeV2 as eraftpb protobuf bytes (the empty leave-joint change encodes to 0 bytes). */
export function encodeConfChangeV2(cc: ConfChangeV2): Uint8Array {
  const w = new Writer();
  if (cc.transition !== 0) {
    w.tag(1, WIRE_VARINT);
    w.varint(cc.transition);
  }
  for (const c of cc.changes) {
    checkU64(c.nodeId, 'ConfChangeSingle.nodeId');
    const inner = new Writer();
    if (c.changeType !== 0) {
      inner.tag(1, WIRE_VARINT);
      inner.varint(c.changeType);
    }
    if (c.nodeId !== 0) {
      inner.tag(2, WIRE_VARINT);
      inner.varint(c.nodeId);
    }
    w.tag(2, WIRE_LEN);
    w.bytes(inner.finish());
  }
  if (cc.context.length > 0) {
    w.tag(3, WIRE_LEN);
    w.bytes(cc.context);
  }
  return w.finish();
}

/** Decodes eraftpb ConfChangeV2 bytes; throws RaftError(CODEC_ERROR) on bad input. */
export function decodeConfChangeV2(b: Uint8Array): ConfChangeV2 {
  const r = new Reader(b, 'ConfChangeV2');
  const cc: ConfChangeV2 = { transition: 0, changes: [], context: new Uint8Array(0) };
  while (!r.done()) {
    const [f, wire] = r.tag();
    switch (f) {
      case 1:
        r.expectWire(wire, WIRE_VARINT, 'transition');
        cc.transition = transition(r, r.varint());
        break;
      case 2: {
        r.expectWire(wire, WIRE_LEN, 'changes');
        cc.changes.push(decodeSingle(r.bytes()));
        break;
      }
      case 3:
        r.expectWire(wire, WIRE_LEN, 'context');
        cc.context = r.bytes();
        break;
      default:
        r.skip(wire);
    }
  }
  return cc;
}

function decodeSingle(b: Uint8Array): ConfChangeSingle {
  const r = new Reader(b, 'ConfChangeSingle');
  const c: ConfChangeSingle = { changeType: 0, nodeId: 0 };
  while (!r.done()) {
    const [f, wire] = r.tag();
    if (f === 1) {
      r.expectWire(wire, WIRE_VARINT, 'change_type');
      c.changeType = changeType(r, r.varint());
    } else if (f === 2) {
      r.expectWire(wire, WIRE_VARINT, 'node_id');
      c.nodeId = r.varint();
    } else {
      r.skip(wire);
    }
  }
  return c;
}
