/**
 * The npm `rocksdb@5.2.1` binding, typed and promisified. The package is CommonJS with a
 * callback API (toolchain.md §4); `@types/rocksdb` has the wrong default export under NodeNext,
 * so the few calls we make are typed here instead.
 *
 * Open, close and the size/compaction calls go through the package's public LevelDOWN object.
 * The hot calls (batch, multi-get, iterators) go straight to its native `binding` on the same
 * database handle: the public wrappers copy every batch operation into a new object and hand out
 * iterator results one `process.nextTick` per key, while the native calls take the whole batch,
 * and return whole chunks, in one call. NB: `binding` is the package's internal module; the
 * version is pinned exactly (5.2.1), and the functions used are listed in `Binding` below.
 */
import { createRequire } from 'node:module';

/** Options of `LevelDOWN.open` (rocksdb 5.2.1 `db_open`). */
export interface RocksOpenOptions {
  createIfMissing?: boolean;
  errorIfExists?: boolean;
  compression?: boolean;
  readOnly?: boolean;
  cacheSize?: number;
  writeBufferSize?: number;
  blockSize?: number;
  maxOpenFiles?: number;
  maxFileSize?: number;
  infoLogLevel?: 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'header';
}

type Callback = (err?: Error | null) => void;

/** The public LevelDOWN object of the `rocksdb` package (only what we call). */
interface LevelDown {
  /** The native database handle the binding functions take. */
  readonly context: unknown;
  open(options: RocksOpenOptions, cb: Callback): void;
  close(cb: Callback): void;
  approximateSize(start: Buffer, end: Buffer, cb: (err: Error | null | undefined, size: number) => void): void;
  compactRange(start: Buffer, end: Buffer, cb: Callback): void;
  getProperty(name: string): string;
}

/** Native iterator handle. */
export type NativeIterator = { readonly __brand: 'NativeIterator' };

/** Options of `iterator_init`. Bounds are Buffers; `limit` -1 means none. */
export interface NativeIteratorOptions {
  reverse?: boolean;
  keys?: boolean;
  values?: boolean;
  limit?: number;
  gte?: Buffer;
  lt?: Buffer;
  fillCache?: boolean;
  highWaterMark?: number;
}

/** The native functions of `rocksdb/binding.js` that mrkv uses. */
interface Binding {
  /** Applies `{type:'put'|'del', key, value}` ops atomically; copies the bytes before returning. */
  batch_do(ctx: unknown, ops: readonly unknown[], options: { sync: boolean }, cb: Callback): void;
  /** Reads many keys at one snapshot; missing keys come back undefined. */
  db_get_many(ctx: unknown, keys: readonly Buffer[], options: { asBuffer: boolean; fillCache: boolean }, cb: (err: Error | null | undefined, values: Array<Buffer | undefined>) => void): void;
  /** Creates an iterator; takes its RocksDB snapshot synchronously, here. */
  iterator_init(ctx: unknown, options: NativeIteratorOptions): NativeIterator;
  /**
   * Reads the next chunk: a flat array `[valueN, keyN, …, value1, key1]` (reversed, for pop())
   * and whether the iterator is exhausted. The first call after init or seek returns one pair.
   */
  iterator_next(it: NativeIterator, cb: (err: Error | null | undefined, array: Buffer[], finished: boolean) => void): void;
  /** Repositions the iterator (synchronously) at the first key ≥ target (≤ target when reverse). */
  iterator_seek(it: NativeIterator, target: Buffer): void;
  iterator_end(it: NativeIterator, cb: Callback): void;
}

const require = createRequire(import.meta.url);
const LevelDOWN = require('rocksdb') as (location: string) => LevelDown;
const binding = require('rocksdb/binding.js') as Binding;

function done<T>(resolve: (v: T) => void, reject: (e: Error) => void) {
  return (err: Error | null | undefined, v: T) => (err ? reject(err) : resolve(v));
}

/** One open RocksDB database. Errors are the binding's plain `Error`s; callers wrap them. */
export class NativeDb {
  private constructor(
    private readonly db: LevelDown,
    readonly location: string,
  ) {}

  static open(location: string, options: RocksOpenOptions): Promise<NativeDb> {
    const db = LevelDOWN(location);
    return new Promise((resolve, reject) => db.open(options, (err) => (err ? reject(err) : resolve(new NativeDb(db, location)))));
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }

  batch(ops: readonly unknown[], sync: boolean): Promise<void> {
    return new Promise((resolve, reject) => binding.batch_do(this.db.context, ops, { sync }, (err) => (err ? reject(err) : resolve())));
  }

  getMany(keys: readonly Buffer[], fillCache = true): Promise<Array<Buffer | undefined>> {
    return new Promise((resolve, reject) => binding.db_get_many(this.db.context, keys, { asBuffer: true, fillCache }, done(resolve, reject)));
  }

  approximateSize(start: Buffer, end: Buffer): Promise<number> {
    return new Promise((resolve, reject) => this.db.approximateSize(start, end, done(resolve, reject)));
  }

  compactRange(start: Buffer, end: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.db.compactRange(start, end, (err) => (err ? reject(err) : resolve())));
  }

  property(name: string): string {
    return this.db.getProperty(name);
  }

  iteratorInit(options: NativeIteratorOptions): NativeIterator {
    return binding.iterator_init(this.db.context, options);
  }

  static iteratorNext(it: NativeIterator): Promise<{ array: Buffer[]; finished: boolean }> {
    return new Promise((resolve, reject) =>
      binding.iterator_next(it, (err, array, finished) => (err ? reject(err) : resolve({ array, finished }))),
    );
  }

  static iteratorSeek(it: NativeIterator, target: Buffer): void {
    binding.iterator_seek(it, target);
  }

  static iteratorEnd(it: NativeIterator): Promise<void> {
    return new Promise((resolve, reject) => binding.iterator_end(it, (err) => (err ? reject(err) : resolve())));
  }
}
