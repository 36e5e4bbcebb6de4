/**
 * Parsing of scalar wire values into mrkv's domain representation, shared by the domain and
 * region-error converters. Gateway code: every function validates and throws a typed
 * {@link ProtoError} instead of letting a bad value through.
 *
 * Conventions (see load.ts): decoded 64-bit integers arrive as decimal strings, but objects built
 * in code may hold numbers, and a Long from another protobuf user is accepted too. Ids, indexes,
 * terms and sizes become JS numbers (safe below 2^53); values that may use all 64 bits
 * (timestamps) become bigints. Enums arrive as names, or numbers in hand-built objects.
 */
import { u64FromWire } from '@mrkv/common';
import { ProtoCodes, ProtoError } from './errors.js';

/** A 64-bit integer as any protobuf user may hold it. */
export type WireInt = number | string | bigint | { toString(): string } | null | undefined;

/** A bytes field as any protobuf user may hold it (a string is base64, as in protobufjs). */
export type WireBytes = Uint8Array | string | null | undefined;

function intText(v: WireInt): string | number | bigint | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'bigint') return v;
  return v.toString(); // a Long
}

/** An unsigned id/index/size; throws `KV:Proto:IntegerOutOfRange` at or beyond 2^53. */
export function wireU64(v: WireInt, field: string): number {
  try {
    return u64FromWire(intText(v));
  } catch (cause) {
    throw new ProtoError(ProtoCodes.INTEGER_OUT_OF_RANGE, `${field}: ${String(intText(v))} is not an unsigned integer below 2^53`, {
      cause,
      details: { field },
    });
  }
}

/** A signed 64-bit value that mrkv keeps as a number (unix seconds); must be a safe integer. */
export function wireI64(v: WireInt, field: string): number {
  const t = intText(v);
  const n = t === undefined || t === '' ? 0 : Number(t);
  if (!Number.isSafeInteger(n)) {
    throw new ProtoError(ProtoCodes.INTEGER_OUT_OF_RANGE, `${field}: ${String(t)} is not a safe integer`, {
      details: { field },
    });
  }
  return n;
}

/** A full-range unsigned 64-bit value (timestamps). */
export function wireU64Big(v: WireInt, field: string): bigint {
  const t = intText(v);
  let b: bigint;
  try {
    b = t === undefined || t === '' ? 0n : BigInt(t);
  } catch (cause) {
    throw new ProtoError(ProtoCodes.INTEGER_OUT_OF_RANGE, `${field}: ${String(t)} is not an integer`, { cause, details: { field } });
  }
  if (b < 0n || b >= 1n << 64n) {
    throw new ProtoError(ProtoCodes.INTEGER_OUT_OF_RANGE, `${field}: ${b} is outside uint64`, { details: { field } });
  }
  return b;
}

/** A full-range signed 64-bit value (unix nanoseconds). */
export function wireI64Big(v: WireInt, field: string): bigint {
  const t = intText(v);
  let b: bigint;
  try {
    b = t === undefined || t === '' ? 0n : BigInt(t);
  } catch (cause) {
    throw new ProtoError(ProtoCodes.INTEGER_OUT_OF_RANGE, `${field}: ${String(t)} is not an integer`, { cause, details: { field } });
  }
  if (b < -(1n << 63n) || b >= 1n << 63n) {
    throw new ProtoError(ProtoCodes.INTEGER_OUT_OF_RANGE, `${field}: ${b} is outside int64`, { details: { field } });
  }
  return b;
}

/** A copy of a bytes field as a plain Uint8Array (decoded Buffers may share a larger allocation). */
export function wireBytes(v: WireBytes): Uint8Array {
  if (v === null || v === undefined) return new Uint8Array(0);
  if (typeof v === 'string') return new Uint8Array(Buffer.from(v, 'base64'));
  return new Uint8Array(v); // copies, and is a plain Uint8Array even when v is a Buffer
}

/**
 * An enum value by name, given the enum's names in number order (`names[n]` is value n).
 * Accepts the name or the number; anything else throws `KV:Proto:UnknownEnumValue`.
 */
export function wireEnum<T extends string>(names: readonly T[], v: string | number | null | undefined, field: string): T {
  if (v === null || v === undefined) return names[0]!;
  const name = typeof v === 'number' ? names[v] : names.find((n) => n === v);
  if (name === undefined) {
    throw new ProtoError(ProtoCodes.UNKNOWN_ENUM_VALUE, `${field}: unknown value ${String(v)}`, { details: { field, value: v } });
  }
  return name;
}
