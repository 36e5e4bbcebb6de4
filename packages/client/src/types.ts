/**
 * The public shapes of @mrkv/client's RawKV API: what `createRawClient` returns and what its
 * calls take and give. Tools (the benchmark harness, the ctl) code against `RawClient` only, so
 * a test double or another transport can stand in for the gRPC client.
 *
 * Keys and values are bytes (`Uint8Array`); every argument also accepts a string, encoded as
 * UTF-8. Results are always bytes (`bytesToString` in ./bytes.ts turns them back into text).
 */

/** A key or value as the caller gives it: bytes, or a string encoded as UTF-8. */
export type BytesLike = Uint8Array | string;

/** One key-value pair of a result. `value` is empty for `keyOnly` scans. */
export interface KvPair {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** A pair as the caller gives it to `batchPut`. */
export interface KvPairInput {
  readonly key: BytesLike;
  readonly value: BytesLike;
}

/** Options every call takes. */
export interface CallOptions {
  /**
   * Cancels the call: it rejects with `ClientError` code `CANCELLED` (the signal's reason as
   * `cause`). A write cancelled after it was sent may still be applied.
   */
  readonly signal?: AbortSignal;
  /**
   * Per-call deadline in milliseconds, covering every retry and backoff of the call; past it the
   * call rejects with `DEADLINE_EXCEEDED`. Default: the client's `timeoutMs`.
   */
  readonly timeoutMs?: number;
}

/** Options of read calls (get, batchGet, scan). */
export interface ReadOptions extends CallOptions {
  /**
   * Read from a follower through ReadIndex (`kvrpcpb.Context.replica_read`): requests go to a
   * peer picked round-robin among the region's voters. Default: the client's `replicaRead`.
   */
  readonly replicaRead?: boolean;
}

/** Options of `scan`. The range is always `[startKey, endKey)`, whatever the direction. */
export interface ScanOptions extends ReadOptions {
  /** At most this many pairs in all (across regions). Default: unlimited. */
  readonly limit?: number;
  /** Leave values empty (`key_only`). */
  readonly keyOnly?: boolean;
  /** Walk from the top of the range downward. */
  readonly reverse?: boolean;
  /** Pairs fetched per RawScan request (capped by `limit`). Default: the client's `scanBatchSize`. */
  readonly batchSize?: number;
}

/** What `compareAndSwap` saw and did (kvrpcpb.RawCASResponse). */
export interface CasResult {
  /** True if the swap was applied. */
  readonly succeeded: boolean;
  /** The value before the call; `null` if the key did not exist. */
  readonly previousValue: Uint8Array | null;
}

/**
 * A RawKV client of an mrkv (or TiKV) cluster. Every call routes by key through the region
 * cache, retries region errors under the call's deadline, and rejects with a `ClientError`.
 */
export interface RawClient {
  /** The value of `key`, or `undefined` if it does not exist. */
  get(key: BytesLike, options?: ReadOptions): Promise<Uint8Array | undefined>;
  /** The pairs that exist among `keys`, in the order of `keys` (missing keys are left out). */
  batchGet(keys: readonly BytesLike[], options?: ReadOptions): Promise<KvPair[]>;
  /** Writes `key` = `value`. */
  put(key: BytesLike, value: BytesLike, options?: CallOptions): Promise<void>;
  /** Writes all pairs; grouped per region and sent concurrently (atomic per region only). */
  batchPut(pairs: readonly KvPairInput[], options?: CallOptions): Promise<void>;
  /** Deletes `key` (no error if it does not exist). */
  delete(key: BytesLike, options?: CallOptions): Promise<void>;
  /** Deletes all `keys`; grouped per region and sent concurrently. */
  batchDelete(keys: readonly BytesLike[], options?: CallOptions): Promise<void>;
  /**
   * The pairs of `[startKey, endKey)` in key order (descending with `reverse`), fetched region by
   * region in batches as the iterator is consumed. An empty `endKey` means +infinity. Breaking
   * out of the loop stops fetching.
   */
  scan(startKey: BytesLike, endKey: BytesLike, options?: ScanOptions): AsyncIterable<KvPair>;
  /** `scan` collected into an array (give a `limit` for large ranges). */
  scanAll(startKey: BytesLike, endKey: BytesLike, options?: ScanOptions): Promise<KvPair[]>;
  /** Deletes every key in `[startKey, endKey)` (empty `endKey` = +infinity), one request per region. */
  deleteRange(startKey: BytesLike, endKey: BytesLike, options?: CallOptions): Promise<void>;
  /**
   * Atomically: if the current value of `key` equals `expected` (`null`: the key must not exist),
   * set it to `next` (`null`: delete it). Reports what it saw either way.
   */
  compareAndSwap(key: BytesLike, expected: BytesLike | null, next: BytesLike | null, options?: CallOptions): Promise<CasResult>;
  /**
   * Closes connections and streams. Calls in flight reject with `CLOSED`; later calls reject at
   * once. Idempotent.
   */
  close(): Promise<void>;
}
