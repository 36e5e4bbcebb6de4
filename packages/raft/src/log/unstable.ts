/**
 * The unstable part of the log (etcd `log_unstable.go`, raft-rs `log_unstable.rs`): entries and
 * possibly a snapshot that raft has accepted but the caller has not yet written to LogStorage.
 * They are handed out in a Ready and dropped from here once the caller reports them written
 * (`stableTo`, `stableSnap`).
 *
 * Representation: an array whose live part starts at position `start`; `offset` is the log
 * index of `entries[start]`. Dropping a written prefix only moves `start`, so the common
 * append → Ready → advance cycle never shifts arrays.
 *
 * Invariant: when a snapshot is pending, `offset` = snapshot index + 1 until entries follow it.
 */
import { RaftInvariantViolation, invariant } from '../errors.js';
import type { Entry, Snapshot } from '../types.js';
import { entryPayloadSize } from '../types.js';

export class Unstable {
  /** A snapshot received from the leader and not yet applied to storage. */
  snapshot: Snapshot | undefined = undefined;
  private entries: Entry[] = [];
  private start = 0;
  /** The log index of the first unstable entry (or of the next one to arrive). */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** Number of unstable entries. */
  get length(): number {
    return this.entries.length - this.start;
  }

  /** The first log index if a snapshot is pending (the log starts after it); else undefined. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  /** The last index held here, if any. */
  maybeLastIndex(): number | undefined {
    const n = this.entries.length - this.start;
    if (n > 0) return this.offset + n - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  /** The term of entry `i` if this part knows it. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      const s = this.snapshot;
      return s !== undefined && s.metadata.index === i ? s.metadata.term : undefined;
    }
    const pos = this.start + (i - this.offset);
    if (pos >= this.entries.length) return undefined;
    return this.entries[pos]!.term;
  }

  /**
   * The caller wrote entries up to `index` (whose term was `term`). Ignored if the entry there
   * has since been replaced (a term change truncated the log in between: the ABA case).
   */
  stableTo(index: number, term: number): void {
    if (index < this.offset) return;
    const pos = this.start + (index - this.offset);
    if (pos >= this.entries.length || this.entries[pos]!.term !== term) return;
    this.start = pos + 1;
    this.offset = index + 1;
    if (this.start === this.entries.length) {
      this.entries = [];
      this.start = 0;
    } else if (this.start > 256 && this.start * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
  }

  /** The caller applied the pending snapshot at `index`. */
  stableSnap(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === index) this.snapshot = undefined;
  }

  /** Replaces everything with a snapshot from the leader. */
  restore(s: Snapshot): void {
    this.entries = [];
    this.start = 0;
    this.offset = s.metadata.index + 1;
    this.snapshot = s;
  }

  /**
   * Appends entries, truncating any unstable entries at or after the first new index.
   * `ents` must be contiguous and non-empty; the first index must be ≤ offset + length
   * (the raft log routes appends below `offset` here only after checking the stable part).
   */
  truncateAndAppend(ents: readonly Entry[]): void {
    const after = ents[0]!.index;
    const n = this.entries.length - this.start;
    if (after === this.offset + n) {
      // Plain append.
    } else if (after <= this.offset) {
      // Replaces everything here, and the log below offset is truncated by the caller's storage
      // when it writes these entries.
      this.offset = after;
      this.entries = [];
      this.start = 0;
    } else {
      invariant(after < this.offset + n, 'unstable append leaves a gap', { after, offset: this.offset, length: n });
      this.entries.length = this.start + (after - this.offset);
    }
    for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]!);
  }

  /**
   * Entries [lo, hi) (offset ≤ lo ≤ hi ≤ offset + length), cut to at most `maxBytes` payload
   * bytes but never fewer than one entry. A fresh array.
   */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (!(lo >= this.offset && lo <= hi && hi <= this.offset + this.length)) throw new RaftInvariantViolation('unstable slice out of bounds', {
      lo,
      hi,
      offset: this.offset,
      length: this.length,
    });
    const from = this.start + (lo - this.offset);
    let to = this.start + (hi - this.offset);
    if (maxBytes !== Infinity && to - from > 1) to = from + countWithin(this.entries, from, to, maxBytes);
    return this.entries.slice(from, to);
  }

  /** All unstable entries (a fresh array): what a Ready hands out to persist. */
  all(): Entry[] {
    return this.start === 0 ? this.entries.slice() : this.entries.slice(this.start);
  }
}

/** How many entries of ents[from, to) fit in `maxBytes` (at least one). */
export function countWithin(ents: readonly Entry[], from: number, to: number, maxBytes: number): number {
  let size = entryPayloadSize(ents[from]!);
  let i = from + 1;
  for (; i < to; i++) {
    size += entryPayloadSize(ents[i]!);
    if (size > maxBytes) break;
  }
  return i - from;
}
