/**
 * Bytes at the API edge: strings are UTF-8 encoded on the way in, results are always bytes.
 */
import { ClientError, ClientErrorCodes } from './errors.js';
import type { BytesLike } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bytes of a key or value (a string is encoded as UTF-8; bytes are used as they are). */
export function toBytes(v: BytesLike): Uint8Array {
  if (typeof v === 'string') return encoder.encode(v);
  if (v instanceof Uint8Array) return v;
  throw new ClientError(ClientErrorCodes.INVALID_ARGUMENT, `expected a Uint8Array or a string, got ${describe(v)}`);
}

/** Decodes UTF-8 bytes (a result's key or value) into a string. */
export function bytesToString(b: Uint8Array): string {
  return decoder.decode(b);
}

/** A non-empty key: the API rejects empty keys where TiKV does (get, put, delete, CAS). */
export function toKey(v: BytesLike, what = 'key'): Uint8Array {
  const k = toBytes(v);
  if (k.length === 0) throw new ClientError(ClientErrorCodes.INVALID_ARGUMENT, `${what} is empty`);
  return k;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
