/**
 * Big-endian unsigned 64-bit codecs for keys. Ids, terms and indexes are JS numbers throughout
 * mrkv (safe below 2^53, far beyond any id or index a store reaches); the codecs check that.
 * Big-endian so that byte order equals numeric order inside RocksDB keys.
 */

const TWO_32 = 0x1_0000_0000;

/** Writes `v` (an integer in [0, 2^53)) as 8 big-endian bytes at `off`. */
export function writeU64BE(buf: Uint8Array, off: number, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`u64 out of safe range: ${v}`);
  const hi = Math.floor(v / TWO_32);
  const lo = v >>> 0;
  buf[off] = hi >>> 24;
  buf[off + 1] = (hi >>> 16) & 0xff;
  buf[off + 2] = (hi >>> 8) & 0xff;
  buf[off + 3] = hi & 0xff;
  buf[off + 4] = lo >>> 24;
  buf[off + 5] = (lo >>> 16) & 0xff;
  buf[off + 6] = (lo >>> 8) & 0xff;
  buf[off + 7] = lo & 0xff;
}

/** Reads 8 big-endian bytes at `off` as a safe integer; throws if the value is ≥ 2^53. */
export function readU64BE(buf: Uint8Array, off: number): number {
  if (off + 8 > buf.length) throw new RangeError(`readU64BE: need 8 bytes at ${off}, have ${buf.length - off}`);
  const hi = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
  const lo = ((buf[off + 4]! << 24) | (buf[off + 5]! << 16) | (buf[off + 6]! << 8) | buf[off + 7]!) >>> 0;
  const v = hi * TWO_32 + lo;
  if (!Number.isSafeInteger(v)) throw new RangeError(`u64 beyond 2^53 at offset ${off}`);
  return v;
}

/** 8 big-endian bytes of `v`. */
export function encodeU64BE(v: number): Uint8Array {
  const b = new Uint8Array(8);
  writeU64BE(b, 0, v);
  return b;
}

/** `bigint` variants for values that may use all 64 bits (TSO timestamps, checksums). */
export function encodeU64BEBig(v: bigint): Uint8Array {
  if (v < 0n || v >= 1n << 64n) throw new RangeError(`u64 out of range: ${v}`);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, false);
  return b;
}

export function decodeU64BEBig(buf: Uint8Array, off = 0): bigint {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(off, false);
}

/** Parses a uint64 that protobuf loaded as a decimal string (proto-loader `longs: String`). */
export function u64FromWire(v: string | number | bigint | null | undefined): number {
  if (v === null || v === undefined || v === '') return 0;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`uint64 not representable: ${String(v)}`);
  return n;
}

/** Lexicographic comparison of byte strings (the order of keys everywhere in mrkv). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** Concatenates byte arrays. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
