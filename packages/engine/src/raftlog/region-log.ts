/**
 * The in-memory index of one region's log: hard state, bounds and term runs. It mirrors the
 * region's state record exactly, so `term()` and the bounds never need I/O. Immutable: every
 * change returns a new value, so a write builds the next states aside and installs them only
 * once the write is durable.
 *
 * Invariants (checked when a record is loaded, kept by every transition):
 * - `first ≥ 1` and `first ≤ last + 1`;
 * - runs are `(start, term)` pairs with strictly increasing starts and non-decreasing terms;
 * - if the log or its predecessor is known (`last ≥ first - 1 ≥ 1`), the first run starts at or
 *   before `first - 1` and the last run starts at or before `last`.
 */
import { invalidArgument } from '../errors.js';
import { raftStateKey } from '../keys.js';
import type { HardState, RaftEntry, RaftLogState } from '../traits/index.js';
import type { StateRecord } from './record.js';

const ZERO_HARD_STATE: HardState = { term: 0, vote: 0, commit: 0 };

export class RegionLog {
  private constructor(
    readonly regionId: number,
    readonly hardState: HardState,
    /** First index held; `last + 1` when the log is empty. */
    readonly first: number,
    /** Last index held, or the index the log was reset to. */
    readonly last: number,
    /** Flat term runs `[start0, term0, start1, term1, …]`. */
    readonly runs: readonly number[],
    /** `raftStateKey(regionId)`, built once per region and shared by its successive states. */
    readonly stateKey: Buffer,
  ) {}

  /** A region never written: empty log starting at index 1, zero hard state. */
  static empty(regionId: number): RegionLog {
    return new RegionLog(regionId, ZERO_HARD_STATE, 1, 0, [], raftStateKey(regionId));
  }

  /** Loads a decoded state record, or says why it is inconsistent. */
  static fromRecord(regionId: number, r: StateRecord): RegionLog | string {
    if (r.firstIndex < 1 || r.firstIndex > r.lastIndex + 1) return `first index ${r.firstIndex} and last index ${r.lastIndex} are inconsistent`;
    for (let i = 2; i < r.runs.length; i += 2) {
      if (r.runs[i]! <= r.runs[i - 2]! || r.runs[i + 1]! < r.runs[i - 1]!) return `term runs are not ascending at run ${i / 2}`;
    }
    if (r.runs.length > 0 && r.runs[r.runs.length - 2]! > r.lastIndex) return `term run starts at ${r.runs[r.runs.length - 2]} beyond last index ${r.lastIndex}`;
    if (r.lastIndex >= r.firstIndex && (r.runs.length === 0 || r.runs[0]! > r.firstIndex)) return `term runs do not cover the log from index ${r.firstIndex}`;
    return new RegionLog(regionId, r.hardState, r.firstIndex, r.lastIndex, r.runs, raftStateKey(regionId));
  }

  toRecord(): StateRecord {
    return { hardState: this.hardState, firstIndex: this.first, lastIndex: this.last, runs: this.runs };
  }

  /** The term at `index`, if `index` is in `[first - 1, last]` and covered; 0 for index 0. */
  termOf(index: number): number | undefined {
    if (index === 0) return 0;
    if (index < this.first - 1 || index > this.last) return undefined;
    const runs = this.runs;
    // Binary search for the last run starting at or before `index`.
    let lo = 0;
    let hi = runs.length / 2 - 1;
    if (hi < 0 || runs[0]! > index) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (runs[2 * mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return runs[2 * lo + 1];
  }

  get lastTerm(): number {
    return this.termOf(this.last) ?? 0;
  }

  toState(): RaftLogState {
    return { regionId: this.regionId, hardState: this.hardState, firstIndex: this.first, lastIndex: this.last, lastTerm: this.lastTerm };
  }

  withHardState(hs: HardState): RegionLog {
    return new RegionLog(this.regionId, hs, this.first, this.last, this.runs, this.stateKey);
  }

  /**
   * The log after appending `entries` (already checked to be contiguous with non-decreasing
   * terms). Refuses a gap after the last index, an append below the first index, and a first
   * term below the term of the entry before it.
   */
  withAppend(entries: readonly RaftEntry[]): RegionLog {
    const head = entries[0]!;
    const tail = entries[entries.length - 1]!;
    const r = this.regionId;
    if (head.index > this.last + 1) throw invalidArgument(`region ${r}: append at index ${head.index} leaves a gap after last index ${this.last}`, { regionId: r, index: head.index, lastIndex: this.last });
    if (head.index < this.first) throw invalidArgument(`region ${r}: append at index ${head.index} is below first index ${this.first} (compacted)`, { regionId: r, index: head.index, firstIndex: this.first });
    const prevTerm = this.termOf(head.index - 1);
    if (prevTerm !== undefined && head.term < prevTerm) {
      throw invalidArgument(`region ${r}: entry ${head.index} has term ${head.term}, below term ${prevTerm} of entry ${head.index - 1}`, { regionId: r, index: head.index });
    }
    const runs: number[] = [];
    for (let i = 0; i < this.runs.length; i += 2) {
      if (this.runs[i]! >= head.index) break;
      runs.push(this.runs[i]!, this.runs[i + 1]!);
    }
    for (const e of entries) {
      if (runs.length === 0 || runs[runs.length - 1] !== e.term) runs.push(e.index, e.term);
    }
    return new RegionLog(r, this.hardState, this.first, tail.index, runs, this.stateKey);
  }

  /** The log without the entries below `compactTo` (a no-op at or below the first index). */
  withCompact(compactTo: number): RegionLog {
    const r = this.regionId;
    if (compactTo <= this.first) return this;
    if (compactTo > this.last + 1) throw invalidArgument(`region ${r}: cannot compact to ${compactTo}, beyond last index ${this.last} + 1`, { regionId: r, compactTo, lastIndex: this.last });
    // Keep the run covering compactTo - 1, the new predecessor of the log.
    let from = 0;
    while (from + 2 < this.runs.length && this.runs[from + 2]! <= compactTo - 1) from += 2;
    return new RegionLog(r, this.hardState, compactTo, this.last, this.runs.slice(from), this.stateKey);
  }

  /** An empty log continuing after `index` of term `term` (snapshot applied, or initialisation). */
  withReset(index: number, term: number): RegionLog {
    return new RegionLog(this.regionId, this.hardState, index + 1, index, index === 0 ? [] : [index, term], this.stateKey);
  }
}
