/**
 * The write batch both engines use: a plain list of operations, in the shape the RocksDB binding
 * takes (`{ type: 'put' | 'del', key, value }`), so a batch without range deletes goes to RocksDB
 * as is, in one native call.
 */
import { compareBytes } from '@mrkv/common';
import { invalidArgument } from './errors.js';
import type { WriteBatch } from './traits/index.js';

/** One operation of a batch. Keys and values are Buffers (views of what the caller passed). */
export type BatchOp =
  | { readonly type: 'put'; readonly key: Buffer; readonly value: Buffer }
  | { readonly type: 'del'; readonly key: Buffer }
  | { readonly type: 'deleteRange'; readonly start: Buffer; readonly end: Buffer };

/** A Buffer view of `u8` (no copy). */
export function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/**
 * Keys may not start with this byte: `[0xff]` is the engine's "end of the key space" (a seek
 * target above every key). mrkv's own keys start with 0x01 (local) or 'z' (data).
 */
export const RESERVED_KEY_PREFIX = 0xff;
/** A key above every key an engine can hold. */
export const END_OF_KEYS: Buffer = Buffer.from([RESERVED_KEY_PREFIX]);

function checkKey(key: unknown, what: string): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) throw invalidArgument(`${what} must be a Uint8Array`);
  if (key.length === 0) throw invalidArgument(`${what} must not be empty`);
}

function checkWriteKey(key: unknown): asserts key is Uint8Array {
  checkKey(key, 'key');
  if (key[0] === RESERVED_KEY_PREFIX) throw invalidArgument('keys starting with 0xff are reserved by the engine');
}

/** The `WriteBatch` of both engines. */
export class OpWriteBatch implements WriteBatch {
  /** The operations, in order. Engines read this; callers use the methods. */
  readonly ops: BatchOp[] = [];
  /** True if `ops` holds a delete-range (the engine must expand or apply it specially). */
  hasDeleteRange = false;
  private bytes = 0;
  private readonly savePoints: Array<{ count: number; bytes: number; hasDeleteRange: boolean }> = [];

  put(key: Uint8Array, value: Uint8Array): this {
    checkWriteKey(key);
    if (!(value instanceof Uint8Array)) throw invalidArgument('value must be a Uint8Array');
    this.ops.push({ type: 'put', key: asBuffer(key), value: asBuffer(value) });
    this.bytes += key.length + value.length;
    return this;
  }

  /**
   * `put` without argument checks, for keys and values this package built itself (raft-log
   * records under keys.ts keys): the hot path of the raft-log engine. Gateway code uses `put`.
   */
  putTrusted(key: Buffer, value: Buffer): void {
    this.ops.push({ type: 'put', key, value });
    this.bytes += key.length + value.length;
  }

  /** `delete` without argument checks (see `putTrusted`). */
  deleteTrusted(key: Buffer): void {
    this.ops.push({ type: 'del', key });
    this.bytes += key.length;
  }

  delete(key: Uint8Array): this {
    checkWriteKey(key);
    this.ops.push({ type: 'del', key: asBuffer(key) });
    this.bytes += key.length;
    return this;
  }

  deleteRange(start: Uint8Array, end: Uint8Array): this {
    checkKey(start, 'range start');
    checkKey(end, 'range end');
    const c = compareBytes(start, end);
    if (c > 0) throw invalidArgument('delete-range start is after its end', { startLength: start.length, endLength: end.length });
    if (c === 0) return this;
    this.ops.push({ type: 'deleteRange', start: asBuffer(start), end: asBuffer(end) });
    this.bytes += start.length + end.length;
    this.hasDeleteRange = true;
    return this;
  }

  get count(): number {
    return this.ops.length;
  }

  get dataSize(): number {
    return this.bytes;
  }

  isEmpty(): boolean {
    return this.ops.length === 0;
  }

  clear(): void {
    this.ops.length = 0;
    this.savePoints.length = 0;
    this.bytes = 0;
    this.hasDeleteRange = false;
  }

  setSavePoint(): void {
    this.savePoints.push({ count: this.ops.length, bytes: this.bytes, hasDeleteRange: this.hasDeleteRange });
  }

  rollbackToSavePoint(): void {
    const sp = this.savePoints.pop();
    if (sp === undefined) throw invalidArgument('rollbackToSavePoint without a save point');
    this.ops.length = sp.count;
    this.bytes = sp.bytes;
    this.hasDeleteRange = sp.hasDeleteRange;
  }

  popSavePoint(): void {
    if (this.savePoints.pop() === undefined) throw invalidArgument('popSavePoint without a save point');
  }
}

/** The ops of a batch this package created; refuses foreign implementations. */
export function opsOf(batch: WriteBatch): OpWriteBatch {
  if (!(batch instanceof OpWriteBatch)) throw invalidArgument('write batch was not created by an @mrkv/engine engine');
  return batch;
}
