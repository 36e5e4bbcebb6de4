/**
 * The raft log (etcd `log.go`, raft-rs `raft_log.rs`): the stable part in the caller's
 * LogStorage plus the unstable part in memory, and the three positions that move along it:
 *
 *   applied ≤ min(committed, persisted),  committed ≤ lastIndex,  persisted ≤ lastIndex
 *
 * - `committed`: known committed by a quorum (Raft paper §5.3–5.4).
 * - `persisted`: written durably by the caller here (raft-rs): only entries up to it are handed
 *   out to apply, and a leader counts only its persisted entries towards commit.
 * - `applied`: reported applied by the caller.
 */
import { RaftCodes, RaftError, RaftInvariantViolation, invariant } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FetchContext, LogStorage, TemporarilyUnavailable } from '../storage.js';
import { FETCH_APPLY, TEMPORARILY_UNAVAILABLE } from '../storage.js';
import type { Entry, Snapshot } from '../types.js';
import { Unstable, countWithin } from './unstable.js';

/** A slice that starts before the first index: the entries were compacted away. */
export const COMPACTED = RaftCodes.STORE_COMPACTED;
export type SliceResult = Entry[] | TemporarilyUnavailable | typeof COMPACTED;

export class RaftLog {
  readonly unstable: Unstable;
  committed: number;
  persisted: number;
  applied: number;

  constructor(
    readonly storage: LogStorage,
    private readonly logger: Logger,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    invariant(first >= 1 && last >= first - 1, 'storage reports an impossible range', { first, last });
    this.unstable = new Unstable(last + 1);
    // Everything up to the last compaction is committed and applied; everything in storage is
    // persisted.
    this.committed = first - 1;
    this.applied = first - 1;
    this.persisted = last;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** The term of entry `i`, or undefined when `i` is compacted or beyond the log. */
  maybeTerm(i: number): number | undefined {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    // The valid range is [the dummy entry before firstIndex, lastIndex].
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined;
    if (i >= this.unstable.offset) return undefined; // beyond the pending snapshot
    return this.storage.term(i);
  }

  /** The term of entry `i`, or 0 when unknown (etcd `zeroTermOnOutOfBounds`). */
  term(i: number): number {
    return this.maybeTerm(i) ?? 0;
  }

  lastTerm(): number {
    const t = this.maybeTerm(this.lastIndex());
    invariant(t !== undefined, 'the term of the last entry is unknown', { lastIndex: this.lastIndex() });
    return t;
  }

  matchTerm(i: number, term: number): boolean {
    return this.maybeTerm(i) === term;
  }

  /**
   * Raft paper §5.4.1: a candidate's log is at least as up-to-date as ours if its last term is
   * higher, or equal with an index at least ours.
   */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Handles the entries of a MsgApp whose previous entry is (prevIndex, prevTerm). Returns the
   * index of the last new entry, or -1 when our log does not contain (prevIndex, prevTerm).
   * Conflicting entries (same index, different term) and all that follow them are replaced
   * (Raft paper §5.3). Commit advances to min(committed, last new entry).
   */
  maybeAppend(prevIndex: number, prevTerm: number, committed: number, ents: readonly Entry[]): number {
    if (!this.matchTerm(prevIndex, prevTerm)) return -1;
    const lastNew = prevIndex + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        // A leader never sends entries conflicting with what we committed (Log Matching,
        // Leader Completeness): refuse the message rather than lose committed entries.
        throw new RaftError(RaftCodes.INVALID_MESSAGE, `entry ${ci} conflicts with committed entry [committed(${this.committed})]`, {
          details: { conflict: ci, committed: this.committed },
        });
      }
      const from = ci - (prevIndex + 1);
      this.append(from === 0 ? ents : ents.slice(from));
      // Entries from ci on changed: whatever was persisted there no longer counts.
      if (this.persisted > ci - 1) this.persisted = ci - 1;
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /**
   * Appends entries after truncating the log at the first new index. Returns the last index.
   * Invariant: nothing committed is truncated.
   */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) throw new RaftInvariantViolation('append would truncate committed entries', { after, committed: this.committed });
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry of `ents` whose term differs from ours at that index (or that
   * is beyond our log), or 0 when all of them are already here. Entries are contiguous.
   */
  findConflict(ents: readonly Entry[]): number {
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i]!;
      if (!this.matchTerm(e.index, e.term)) {
        if (e.index <= this.lastIndex() && this.logger.isLevelEnabled?.('info')) {
          const existing = this.term(e.index);
          this.logger.info({ index: e.index, term: e.term, existingTerm: existing }, `found conflict at index ${e.index} [existing term: ${existing}, conflicting term: ${e.term}]`);
        }
        return e.index;
      }
    }
    return 0;
  }

  /**
   * The largest index ≤ `index` whose term is ≤ `term` (or an index whose term is unknown, as a
   * possible match). Used for fast backtracking: a rejection hint skips a whole term at once.
   */
  findConflictByTerm(index: number, term: number): number {
    for (; index > 0; index--) {
      const ours = this.maybeTerm(index);
      if (ours === undefined || ours <= term) return index;
    }
    return 0;
  }

  /** Advances `committed`. Invariant: the entry exists (else our log lost acknowledged data). */
  commitTo(toCommit: number): void {
    if (this.committed >= toCommit) return;
    if (this.lastIndex() < toCommit) throw new RaftInvariantViolation(`tocommit ${toCommit} is out of range [lastIndex ${this.lastIndex()}]. Was the raft log corrupted, truncated, or lost?`, {
      toCommit,
      lastIndex: this.lastIndex(),
    });
    this.committed = toCommit;
  }

  /** Commits `maxIndex` if it is beyond `committed` and its entry is of `term` (§5.4.2). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.maybeTerm(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** Records that entries up to `index` are applied. */
  appliedTo(index: number): void {
    if (index === 0) return;
    if (!(index >= this.applied && index <= Math.min(this.committed, this.persisted))) throw new RaftInvariantViolation(`applied(${index}) is out of range [prevApplied(${this.applied}), min(committed(${this.committed}), persisted(${this.persisted}))]`);
    this.applied = index;
  }

  /**
   * Records that the entries up to (index, term) are durable. Ignored when the entry there has
   * since been replaced, or is still unstable (a later write overwrote the range).
   */
  maybePersist(index: number, term: number): boolean {
    const firstUpdate = this.unstable.snapshot !== undefined ? this.unstable.snapshot.metadata.index : this.unstable.offset;
    if (index > this.persisted && index < firstUpdate && index >= this.storage.firstIndex() - 1 && index <= this.storage.lastIndex() && this.storage.term(index) === term) {
      this.persisted = index;
      return true;
    }
    return false;
  }

  /** Records that the snapshot at `index` is durable. */
  maybePersistSnap(index: number): boolean {
    if (index > this.persisted) {
      this.persisted = index;
      return true;
    }
    return false;
  }

  /** Entries from `lo` to the end, at most `maxBytes` (at least one). */
  entries(lo: number, maxBytes: number, ctx: FetchContext): SliceResult {
    const last = this.lastIndex();
    if (lo > last) return [];
    return this.slice(lo, last + 1, maxBytes, ctx);
  }

  /**
   * Entries [lo, hi), at most `maxBytes` (at least one), read from storage then the unstable
   * part. COMPACTED when lo is before the first index; TEMPORARILY_UNAVAILABLE when the storage
   * is fetching (only for contexts that allow it).
   */
  slice(lo: number, hi: number, maxBytes: number, ctx: FetchContext): SliceResult {
    if (lo < this.firstIndex()) return COMPACTED;
    if (!(lo <= hi && hi <= this.lastIndex() + 1)) throw new RaftInvariantViolation('slice out of bounds', { lo, hi, lastIndex: this.lastIndex() });
    if (lo === hi) return [];
    const uOffset = this.unstable.offset;
    if (lo >= uOffset) return this.unstable.slice(lo, hi, maxBytes);
    const stableHi = Math.min(hi, uOffset);
    const stored = this.storage.entries(lo, stableHi, maxBytes, ctx);
    if (stored === TEMPORARILY_UNAVAILABLE) {
      invariant(ctx.canAsync, 'storage answered "temporarily unavailable" to a synchronous read', { lo, hi: stableHi, kind: ctx.kind });
      return stored;
    }
    if (!(Array.isArray(stored) && (stored.length > 0 || stableHi === lo))) throw new RaftInvariantViolation('storage returned no entries', { lo, hi: stableHi });
    // The storage stopped early because of maxBytes: done.
    if (stored.length < stableHi - lo || hi <= uOffset) return stored;
    const rest = this.unstable.slice(uOffset, hi, Infinity);
    for (let i = 0; i < rest.length; i++) stored.push(rest[i]!);
    if (maxBytes === Infinity) return stored;
    const n = countWithin(stored, 0, stored.length, maxBytes);
    if (n < stored.length) stored.length = n;
    return stored;
  }

  /** True when committed, persisted entries after `since` wait to be applied. */
  hasNextCommittedEntriesSince(since: number): boolean {
    const lo = Math.max(since + 1, this.firstIndex());
    return Math.min(this.committed, this.persisted) + 1 > lo;
  }

  /** Committed, persisted entries after `since`, at most `maxBytes` (at least one), or []. */
  nextCommittedEntriesSince(since: number, maxBytes: number): Entry[] {
    const lo = Math.max(since + 1, this.firstIndex());
    const hi = Math.min(this.committed, this.persisted) + 1;
    if (hi <= lo) return [];
    const ents = this.slice(lo, hi, maxBytes, FETCH_APPLY);
    if (typeof ents === 'string') throw new RaftInvariantViolation('committed entries are unavailable', { lo, hi, result: ents });
    return ents;
  }

  /** The snapshot to send a follower: the pending one, else the storage's. */
  snapshot(requestIndex: number, to: number): Snapshot | TemporarilyUnavailable {
    return this.unstable.snapshot ?? this.storage.snapshot(requestIndex, to);
  }

  /** Replaces the log with a snapshot from the leader. */
  restore(s: Snapshot): void {
    const index = s.metadata.index;
    invariant(index >= this.committed, 'restoring a snapshot below the commit index', { index, committed: this.committed });
    if (this.persisted > index) this.persisted = index;
    this.committed = index;
    this.unstable.restore(s);
  }

  /** The caller wrote entries up to (index, term) to storage. */
  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  /** The caller applied the pending snapshot at `index` to storage. */
  stableSnap(index: number): void {
    this.unstable.stableSnap(index);
  }

  /** "committed=5 applied=3 persisted=5 unstable.offset=6 len(unstable)=0" */
  toString(): string {
    return `committed=${this.committed} applied=${this.applied} persisted=${this.persisted} unstable.offset=${this.unstable.offset} len(unstable)=${this.unstable.length}`;
  }
}
