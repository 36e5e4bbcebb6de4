/**
 * `LogStorage`: raft's read-only, synchronous view of the stable log (etcd `Storage`, raft-rs
 * `Storage`). The caller owns it and writes to it while handling Ready; raft only reads.
 *
 * Reads are synchronous because the store answers them from memory (its entry cache and the
 * in-memory index of its raft-log engine). When entries are only on disk, `entries` may answer
 * `TEMPORARILY_UNAVAILABLE` for a request whose context allows it (`ctx.canAsync`): the store then
 * loads them on another thread and calls `RawNode.onEntriesFetched(ctx)`, and raft retries the
 * send. `snapshot` may answer the same while a snapshot is generated; the store then calls
 * `RawNode.onSnapshotGenerated(to)`.
 *
 * The contract raft relies on:
 * - the log holds a contiguous range [firstIndex, lastIndex]; `term(firstIndex - 1)` is always
 *   answerable (the term of the last compacted entry or of the snapshot);
 * - raft only asks for indexes inside that range (it checks `firstIndex`/`lastIndex` first);
 * - entries handed out in a Ready become visible here (not necessarily durable) before
 *   `advanceAppend`/`advanceAppendAsync` is called for that Ready, and a snapshot handed out in a
 *   Ready is applied here before the same calls.
 * Out-of-contract requests may throw `RaftError` with `STORE_COMPACTED` / `STORE_UNAVAILABLE`.
 */
import { RaftCodes } from './errors.js';
import type { ConfState, Entry, HardState, Snapshot } from './types.js';

/** The answer of a read that the store will complete asynchronously. */
export const TEMPORARILY_UNAVAILABLE = RaftCodes.STORE_TEMPORARILY_UNAVAILABLE;
export type TemporarilyUnavailable = typeof TEMPORARILY_UNAVAILABLE;

/** The persisted state a node starts from. */
export interface RaftState {
  hardState: HardState;
  confState: ConfState;
}

/** Why raft reads entries; tells the store whether it may answer asynchronously. */
export type FetchContext =
  | {
      /** Entries to send to follower `to` in a MsgApp; may be fetched asynchronously. */
      readonly kind: 'append';
      readonly canAsync: true;
      readonly to: number;
      /** The leader term of the request: a callback at another term is ignored. */
      readonly term: number;
    }
  | {
      /** Committed entries for a Ready, a campaign check or a transfer: must answer now. */
      readonly kind: 'apply' | 'campaign' | 'other';
      readonly canAsync: false;
    };

export const FETCH_APPLY: FetchContext = Object.freeze({ kind: 'apply', canAsync: false });
export const FETCH_CAMPAIGN: FetchContext = Object.freeze({ kind: 'campaign', canAsync: false });
export const FETCH_OTHER: FetchContext = Object.freeze({ kind: 'other', canAsync: false });

export interface LogStorage {
  /** The hard state and configuration to start from. Called once, when the node is created. */
  initialState(): RaftState;
  /**
   * Entries [lo, hi), at least one if lo < hi, and stopping before the total payload passes
   * `maxBytes` (Infinity: no limit). Raft guarantees firstIndex ≤ lo < hi ≤ lastIndex + 1.
   * May return TEMPORARILY_UNAVAILABLE only when `ctx.canAsync`. The returned array is owned by
   * the caller (raft may append to it).
   */
  entries(lo: number, hi: number, maxBytes: number, ctx: FetchContext): Entry[] | TemporarilyUnavailable;
  /** The term of entry `index`, for firstIndex - 1 ≤ index ≤ lastIndex. */
  term(index: number): number;
  /** The first index still in the log (the snapshot index + 1 after compaction). */
  firstIndex(): number;
  /** The last index in the log (the snapshot index when the log is empty). */
  lastIndex(): number;
  /**
   * The latest snapshot, to send to follower `to`. `requestIndex` is the smallest index the
   * snapshot must cover (0: any). May return TEMPORARILY_UNAVAILABLE while it is generated.
   */
  snapshot(requestIndex: number, to: number): Snapshot | TemporarilyUnavailable;
}
