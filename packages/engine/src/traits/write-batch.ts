/** The write side shared by every engine: an ordered list of mutations applied atomically. */

/** Options of a write. */
export interface WriteOptions {
  /**
   * Wait until the write is on stable storage (fsync of the WAL) before resolving. A synced
   * write also makes every earlier unsynced write of the same engine durable (the WAL is ordered).
   */
  readonly sync?: boolean;
}

/**
 * An ordered batch of puts, deletes and range deletes, applied atomically by `KvEngine.write`:
 * after a crash either all of it is visible or none of it. Later operations win over earlier ones
 * on the same key (a put after a delete-range of its range survives).
 *
 * The batch keeps references to the key and value arrays it is given: do not mutate them until
 * the write that carries the batch has resolved. Keys must be non-empty (TiKV rejects empty keys)
 * and may not start with 0xff (reserved: `[0xff]` is the engine's end-of-keys seek target).
 */
export interface WriteBatch {
  put(key: Uint8Array, value: Uint8Array): this;
  delete(key: Uint8Array): this;
  /** Deletes every key in `[start, end)`. `start == end` is a no-op; `start > end` is refused. */
  deleteRange(start: Uint8Array, end: Uint8Array): this;
  /** Number of operations (a delete-range counts once). */
  readonly count: number;
  /** Bytes of keys and values held, the measure TiKV uses to cut apply batches. */
  readonly dataSize: number;
  isEmpty(): boolean;
  /** Drops every operation and save point, keeping the batch for reuse. */
  clear(): void;
  /** Remembers the current end of the batch (apply wraps each command in one; TiKV `set_save_point`). */
  setSavePoint(): void;
  /** Drops every operation added since the last save point, and that save point. */
  rollbackToSavePoint(): void;
  /** Forgets the last save point, keeping its operations. */
  popSavePoint(): void;
}
