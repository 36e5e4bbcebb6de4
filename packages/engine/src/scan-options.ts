/** Validation of read arguments, shared by both engines (gateway checks; engines trust the result). */
import { invalidArgument } from './errors.js';
import type { KeyRange, ScanOptions } from './traits/index.js';
import { asBuffer } from './write-batch.js';

/** A validated scan: Buffer bounds, a numeric limit (Infinity for none). */
export interface Scan {
  readonly start: Buffer | undefined;
  readonly end: Buffer | undefined;
  readonly limit: number;
  readonly reverse: boolean;
  readonly keysOnly: boolean;
}

export function checkKeyArg(key: unknown, what = 'key'): Buffer {
  if (!(key instanceof Uint8Array)) throw invalidArgument(`${what} must be a Uint8Array`);
  if (key.length === 0) throw invalidArgument(`${what} must not be empty`);
  return asBuffer(key);
}

function bound(v: Uint8Array | undefined, what: string): Buffer | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof Uint8Array)) throw invalidArgument(`${what} must be a Uint8Array`);
  // An empty bound means "unbounded", as TiKV's empty start/end keys do.
  return v.length === 0 ? undefined : asBuffer(v);
}

/** Validates a range: bounds are byte strings, and start is not after end. */
export function checkRange(range: KeyRange): { start: Buffer | undefined; end: Buffer | undefined } {
  if (typeof range !== 'object' || range === null) throw invalidArgument('range must be an object');
  const start = bound(range.start, 'range start');
  const end = bound(range.end, 'range end');
  if (start !== undefined && end !== undefined && Buffer.compare(start, end) > 0) {
    throw invalidArgument('range start is after its end', { startLength: start.length, endLength: end.length });
  }
  return { start, end };
}

export function checkScan(o: ScanOptions): Scan {
  const { start, end } = checkRange(o);
  const limit = o.limit ?? Infinity;
  if (limit !== Infinity && (!Number.isSafeInteger(limit) || limit < 0)) throw invalidArgument(`scan limit must be a non-negative integer, got ${String(limit)}`);
  return { start, end, limit, reverse: o.reverse === true, keysOnly: o.keysOnly === true };
}

export function checkKeys(keys: readonly Uint8Array[]): Buffer[] {
  if (!Array.isArray(keys)) throw invalidArgument('keys must be an array');
  return keys.map((k, i) => checkKeyArg(k, `keys[${i}]`));
}
