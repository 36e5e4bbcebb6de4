/**
 * Hand-written framing for the store-to-store raft streams, so that the main thread never decodes
 * or re-encodes a RaftMessage: the raftstore hands the transport encoded `raft_serverpb.RaftMessage`
 * bytes, and the receiving store hands the same bytes to its raft workers, which decode them.
 *
 * - `tikvpb.BatchRaftMessage { repeated raft_serverpb.RaftMessage msgs = 1; }`: a frame is, per
 *   message, the tag byte 0x0A (field 1, wire type 2), a varint length and the message bytes.
 *   That is exactly what protobuf encoders write, so frames are wire-identical to TiKV's, and a
 *   frame from any protobuf encoder (with unknown fields, e.g. kvproto's `last_observed_time = 13`)
 *   splits back into its messages.
 * - `raft_serverpb.SnapshotChunk { RaftMessage message = 1; bytes data = 2; }`: the first chunk of
 *   a Snapshot stream carries the message, the later ones data.
 *
 * Decoders are gateway code: they take bytes from the network and throw `StoreError`
 * (`KV:Server:MalformedFrame`) for anything that is not a valid encoding; the caller (grpc-js)
 * turns that into an error status for the stream. Decoded slices are views into the frame.
 */
import { StoreError, StoreErrorCodes } from '../errors.js';

const TAG_MSGS = 0x0a; // field 1, wire type 2 (BatchRaftMessage.msgs, SnapshotChunk.message)
const TAG_DATA = 0x12; // field 2, wire type 2 (SnapshotChunk.data)

/** Bytes a varint of `n` (0 ≤ n < 2^53) takes. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** Encoded size of a message as one field-1 entry of a BatchRaftMessage frame. */
export function framedSize(msgLen: number): number {
  return 1 + varintSize(msgLen) + msgLen;
}

/** Encodes a `tikvpb.BatchRaftMessage` from already-encoded RaftMessages (one copy, no re-encoding). */
export function encodeBatchRaftFrame(msgs: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const m of msgs) total += framedSize(m.length);
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const m of msgs) {
    buf[pos++] = TAG_MSGS;
    pos = writeVarint(buf, pos, m.length);
    buf.set(m, pos);
    pos += m.length;
  }
  return buf;
}

/** Encodes a `raft_serverpb.SnapshotChunk`: the head chunk (`message`) or a data chunk (`data`). */
export function encodeSnapshotChunk(chunk: SnapshotChunkParts): Buffer {
  const parts: Array<[number, Uint8Array]> = [];
  if (chunk.message !== undefined) parts.push([TAG_MSGS, chunk.message]);
  // proto3: an empty `data` is the default and is not written.
  if (chunk.data !== undefined && chunk.data.length > 0) parts.push([TAG_DATA, chunk.data]);
  let total = 0;
  for (const [, b] of parts) total += framedSize(b.length);
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const [tag, b] of parts) {
    buf[pos++] = tag;
    pos = writeVarint(buf, pos, b.length);
    buf.set(b, pos);
    pos += b.length;
  }
  return buf;
}

/** The two fields of a SnapshotChunk, as raw bytes (the message stays encoded). */
export interface SnapshotChunkParts {
  /** The encoded RaftMessage carrying the snapshot metadata (first chunk only). */
  message?: Uint8Array | undefined;
  /** Snapshot file data. */
  data?: Uint8Array | undefined;
}

/** A cursor over a frame that reads protobuf wire primitives and fails with MalformedFrame. */
class WireReader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  fail(why: string): never {
    throw new StoreError(StoreErrorCodes.MALFORMED_FRAME, `malformed ${this.what} at byte ${this.pos}: ${why}`, {
      details: { at: this.pos, length: this.buf.length },
    });
  }

  /** A varint of at most 10 bytes; values past 2^53 lose precision, which only skipped fields may have. */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** A length-delimited field body, as a view. */
  bytes(): Uint8Array {
    const len = this.varint();
    if (len > this.buf.length - this.pos) this.fail(`length ${len} runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        this.fail(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (n > this.buf.length - this.pos) this.fail('truncated fixed-width field');
    this.pos += n;
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wireType: number } {
    const key = this.varint();
    const field = Math.floor(key / 8);
    if (field === 0) this.fail('field number 0');
    return { field, wireType: key % 8 };
  }
}

/**
 * Splits a BatchRaftMessage frame into its encoded RaftMessages (views into `frame`, no copies).
 * Unknown fields are skipped, as any protobuf decoder does. Throws MalformedFrame.
 */
export function splitBatchRaftFrame(frame: Uint8Array): Uint8Array[] {
  const r = new WireReader(frame, 'BatchRaftMessage');
  const msgs: Uint8Array[] = [];
  while (!r.done) {
    const { field, wireType } = r.tag();
    if (field === 1) {
      if (wireType !== 2) r.fail(`msgs has wire type ${wireType}, expected 2`);
      msgs.push(r.bytes());
    } else {
      r.skip(wireType);
    }
  }
  return msgs;
}

/**
 * Decodes a SnapshotChunk into its raw parts. Several occurrences of `message` are concatenated
 * (protobuf merges repeated occurrences of a message field, and the concatenation of encodings is
 * the encoding of the merge); for `data` the last occurrence wins. Throws MalformedFrame.
 */
export function decodeSnapshotChunk(frame: Uint8Array): SnapshotChunkParts {
  const r = new WireReader(frame, 'SnapshotChunk');
  let message: Uint8Array | undefined;
  let data: Uint8Array | undefined;
  while (!r.done) {
    const { field, wireType } = r.tag();
    if (field === 1 || field === 2) {
      if (wireType !== 2) r.fail(`field ${field} has wire type ${wireType}, expected 2`);
      const b = r.bytes();
      if (field === 1) message = message === undefined ? b : Buffer.concat([message, b]);
      else data = b;
    } else {
      r.skip(wireType);
    }
  }
  return { message, data };
}
