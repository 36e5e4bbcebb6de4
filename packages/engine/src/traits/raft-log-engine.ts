/**
 * The raft-log engine contract (TiKV `engine_traits::RaftEngine`): the raft logs and hard states
 * of many regions, written in one batch with one fsync per poll round (group commit).
 */
import type { WriteOptions } from './write-batch.js';

/**
 * One raft log entry as the engine stores it (the fields of eraftpb `Entry`; structurally the
 * same as `@mrkv/raft`'s `Entry`, which this package does not depend on).
 */
export interface RaftEntry {
  readonly index: number;
  readonly term: number;
  /** eraftpb `EntryType` (0 normal, 1 conf change, 2 conf change v2); any value in [0, 255]. */
  readonly entryType: number;
  readonly data: Uint8Array;
  readonly context?: Uint8Array | undefined;
}

/** Raft's durable vote and commit (eraftpb `HardState`). */
export interface HardState {
  readonly term: number;
  readonly vote: number;
  readonly commit: number;
}

/**
 * The persisted state of one region's log (TiKV `RaftLocalState` plus the first index). The log
 * holds exactly the entries `[firstIndex, lastIndex]`; `firstIndex == lastIndex + 1` means empty.
 */
export interface RaftLogState {
  readonly regionId: number;
  readonly hardState: HardState;
  readonly firstIndex: number;
  readonly lastIndex: number;
  /** Term of the entry at `lastIndex` (or of the snapshot the log was reset to; 0 for a new log). */
  readonly lastTerm: number;
}

/**
 * Mutations of many regions' logs, applied atomically by `RaftLogEngine.write`, in order. Every
 * method validates against the state the log will have when the write runs, so a bad batch is
 * refused whole (`KV:Engine:InvalidArgument`) and nothing of it is written.
 */
export interface RaftLogBatch {
  /**
   * Appends `entries` (contiguous indexes, non-decreasing terms). The first index may be at or
   * below the current last index: the entries from there on are replaced and any entries beyond
   * the new last index are deleted (raft's conflicting append). It may not leave a gap or reach
   * below the first index.
   */
  append(regionId: number, entries: readonly RaftEntry[]): this;
  /** Records raft's hard state. */
  setHardState(regionId: number, hardState: HardState): this;
  /** Deletes the entries below `compactTo` (log GC); the first index becomes `compactTo`. */
  compact(regionId: number, compactTo: number): this;
  /**
   * Drops the whole log and restarts it after `index` (term `term`): a snapshot was applied, or
   * a region is initialised at index 5 / term 5 (TiKV RAFT_INIT_LOG_INDEX).
   */
  reset(regionId: number, index: number, term: number): this;
  /** Deletes the region's log and state (the peer was destroyed). */
  removeRegion(regionId: number): this;
  /** Number of region operations queued. */
  readonly count: number;
  isEmpty(): boolean;
}

/**
 * Raft logs and hard states of the regions of one raft worker.
 *
 * Every entry record carries a CRC-32C checksum and every write also rewrites the region's state
 * record, atomically with its entries, so the state's `lastIndex` is the durable end of the log:
 * a record beyond it is a torn write (deleted at open, it was never acknowledged); a bad record
 * at or below it is corruption (the engine refuses to open with `KV:Engine:Corruption`).
 *
 * Bounds and terms of every region's log are kept in memory, so `state` and `term` need no I/O.
 */
export interface RaftLogEngine {
  /** The directory the engine lives in, or undefined for an in-memory engine. */
  readonly path: string | undefined;
  newBatch(): RaftLogBatch;
  /** Applies `batch` in one atomic write (one fsync with `sync`). Concurrent writes group-commit. */
  write(batch: RaftLogBatch, options?: WriteOptions): Promise<void>;
  /** Regions with a log or hard state, ascending. */
  regionIds(): number[];
  /** The durable state of a region's log (after writes that resolved), or undefined. */
  state(regionId: number): RaftLogState | undefined;
  /**
   * The term of the entry at `index`, for `index` in `[firstIndex - 1, lastIndex]`, with no I/O.
   * Index 0 has term 0. Throws `EntriesCompacted` below and `EntriesUnavailable` above that range.
   */
  term(regionId: number, index: number): number;
  /**
   * Entries `[low, high)`, at most `maxBytes` of data and context (but always at least one entry,
   * as raft's `limitSize`). Throws `EntriesCompacted` if `low < firstIndex`, `EntriesUnavailable`
   * if `high > lastIndex + 1`, and `Corruption` if a record fails its checksum.
   */
  entries(regionId: number, low: number, high: number, maxBytes?: number): Promise<RaftEntry[]>;
  /** Makes every write so far durable. */
  sync(): Promise<void>;
  /** Waits for writes in flight and closes the underlying store. Idempotent. */
  close(): Promise<void>;
}
