/** The kv engine contract (TiKV `engine_traits::KvEngine`, reduced to one column family). */
import type { WriteBatch, WriteOptions } from './write-batch.js';

/** A key range `[start, end)`. An absent bound is open: the range reaches the end of the key space. */
export interface KeyRange {
  readonly start?: Uint8Array | undefined;
  readonly end?: Uint8Array | undefined;
}

/** A bounded scan: keys in `[start, end)`, in ascending order, or descending with `reverse`. */
export interface ScanOptions extends KeyRange {
  /** At most this many pairs (a positive integer); absent means no limit. */
  readonly limit?: number | undefined;
  /** Descending order: starts at the largest key below `end`. */
  readonly reverse?: boolean | undefined;
  /** Return empty values (saves copying them out of the engine). */
  readonly keysOnly?: boolean | undefined;
}

export interface KvPair {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * A cursor over a scan, reading from the engine in chunks (one native call per chunk, never one
 * per key). Close it when done early; reaching the end closes it. Usable with `for await`.
 */
export interface KvIterator extends AsyncIterable<KvPair> {
  /** The next pair, or undefined at the end. */
  next(): Promise<KvPair | undefined>;
  /** The next pairs as they come from the engine (at least one), or an empty array at the end. */
  nextChunk(): Promise<KvPair[]>;
  /** Releases the cursor (and its snapshot). Idempotent. */
  close(): Promise<void>;
}

/** The read side shared by an engine and its snapshots. */
export interface KvReader {
  /** The value of `key`, or undefined. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** The values of `keys`, positionally (undefined where absent), read at one point in time. */
  multiGet(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>>;
  /** The pairs of a bounded scan, read at one point in time. */
  scan(options: ScanOptions): Promise<KvPair[]>;
  /** A chunked cursor over a scan, reading at one point in time (the moment it was created). */
  iterator(options: ScanOptions): KvIterator;
}

/**
 * A consistent, read-only view of the engine at the moment it was taken: writes after that are
 * invisible to it. Used for raft snapshot generation and consistent reads. Release it when done:
 * it pins old data.
 */
export interface KvSnapshot extends KvReader {
  /** Idempotent. Reads after release fail with `KV:Engine:Closed`. */
  release(): Promise<void>;
}

/** Size of a key range as an engine estimates it (split checks, PD heartbeats). */
export interface RangeStats {
  /** Bytes of keys and values. */
  readonly bytes: number;
  /** Number of keys. */
  readonly keys: number;
  /** True if the numbers were counted, not estimated. */
  readonly exact: boolean;
}

/**
 * A sorted byte-string key-value store with atomic write batches and snapshots. Region data
 * lives under `z` keys, apply and region states under local `01` keys (see keys.ts).
 *
 * Ownership: one engine object is used by one thread. Calls may overlap; writes are applied in
 * the order `write` was called, and a read issued after a write resolved sees that write.
 */
export interface KvEngine extends KvReader {
  /** The directory the engine lives in, or undefined for an in-memory engine. */
  readonly path: string | undefined;
  /** An empty batch for this engine. */
  newWriteBatch(): WriteBatch;
  /** Applies `batch` atomically. Concurrent writes are group-committed, in call order. */
  write(batch: WriteBatch, options?: WriteOptions): Promise<void>;
  /** A consistent view as of now (after every write that has resolved). */
  snapshot(): Promise<KvSnapshot>;
  /**
   * Size and key count of a range: counted exactly for small ranges, estimated from the engine's
   * files beyond `exactUpTo` keys (default 10 000).
   */
  approximateStats(range: KeyRange, options?: { readonly exactUpTo?: number }): Promise<RangeStats>;
  /** Makes every write so far durable (an fsync of the WAL). */
  sync(): Promise<void>;
  /** Waits for writes in flight, releases everything, and unlocks the directory. Idempotent. */
  close(): Promise<void>;
}
