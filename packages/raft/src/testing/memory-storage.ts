/**
 * An in-memory LogStorage for tests, tools and the benchmark (etcd `MemoryStorage`). Besides the
 * read interface raft uses, it has the write side a caller needs while handling Readies
 * (`append`, `setHardState`, `applySnapshot`) and the log-maintenance operations
 * (`compact`, `createSnapshot`).
 *
 * It can also act like a store whose entries live on disk: with `asyncFetch` on, reads for
 * sending appends answer TEMPORARILY_UNAVAILABLE and are queued in `pendingFetches` until the test
 * completes them (then calls `RawNode.onEntriesFetched`). With `snapshotUnavailable` on,
 * `snapshot()` answers TEMPORARILY_UNAVAILABLE.
 */
import { RaftCodes, RaftError } from '../errors.js';
import type { FetchContext, LogStorage, RaftState, TemporarilyUnavailable } from '../storage.js';
import { TEMPORARILY_UNAVAILABLE } from '../storage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../types.js';
import { EntryType, emptyConfState, entryPayloadSize } from '../types.js';

function cloneConfState(cs: ConfState): ConfState {
  return {
    voters: cs.voters.slice(),
    learners: cs.learners.slice(),
    votersOutgoing: cs.votersOutgoing.slice(),
    learnersNext: cs.learnersNext.slice(),
    autoLeave: cs.autoLeave,
  };
}

export class MemoryLogStorage implements LogStorage {
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: Snapshot = { data: new Uint8Array(0), metadata: { confState: emptyConfState(), index: 0, term: 0 } };
  /** ents[0] is a dummy entry standing for the snapshot (index and term); real entries follow. */
  private ents: Entry[] = [{ entryType: EntryType.EntryNormal, term: 0, index: 0, data: new Uint8Array(0) }];

  /** Answer TEMPORARILY_UNAVAILABLE to async-capable reads that touch the log. */
  asyncFetch = false;
  /** The reads answered TEMPORARILY_UNAVAILABLE, to complete with `RawNode.onEntriesFetched`. */
  readonly pendingFetches: FetchContext[] = [];
  /** Answer TEMPORARILY_UNAVAILABLE to snapshot requests. */
  snapshotUnavailable = false;
  /** Number of `entries` calls (tests check caching behaviour with it). */
  entriesCalls = 0;

  /** A storage holding a snapshot at (index, term) with `confState`: a bootstrapped group. */
  static bootstrap(confState: ConfState, index = 1, term = 1): MemoryLogStorage {
    const s = new MemoryLogStorage();
    if (index > 0) s.applySnapshot({ data: new Uint8Array(0), metadata: { confState: cloneConfState(confState), index, term } });
    else s.snap.metadata.confState = cloneConfState(confState);
    return s;
  }

  initialState(): RaftState {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  /** Sets the configuration reported by initialState (after applying conf changes, for restarts). */
  setConfState(cs: ConfState): void {
    this.snap.metadata.confState = cloneConfState(cs);
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  getHardState(): HardState {
    return { ...this.hardState };
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new RaftError(RaftCodes.STORE_COMPACTED, `term(${i}): compacted (first index ${offset + 1})`);
    if (i - offset >= this.ents.length) throw new RaftError(RaftCodes.STORE_UNAVAILABLE, `term(${i}): beyond the last index ${this.lastIndex()}`);
    return this.ents[i - offset]!.term;
  }

  entries(lo: number, hi: number, maxBytes: number, ctx: FetchContext): Entry[] | TemporarilyUnavailable {
    this.entriesCalls++;
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new RaftError(RaftCodes.STORE_COMPACTED, `entries(${lo}, ${hi}): compacted (first index ${offset + 1})`);
    if (hi > this.lastIndex() + 1) throw new RaftError(RaftCodes.STORE_UNAVAILABLE, `entries(${lo}, ${hi}): beyond the last index ${this.lastIndex()}`);
    if (this.asyncFetch && ctx.canAsync) {
      this.pendingFetches.push(ctx);
      return TEMPORARILY_UNAVAILABLE;
    }
    const from = lo - offset;
    const to = hi - offset;
    if (to - from <= 1 || maxBytes === Infinity) return this.ents.slice(from, to);
    let size = entryPayloadSize(this.ents[from]!);
    let end = from + 1;
    for (; end < to; end++) {
      size += entryPayloadSize(this.ents[end]!);
      if (size > maxBytes) break;
    }
    return this.ents.slice(from, end);
  }

  snapshot(_requestIndex: number, _to: number): Snapshot | TemporarilyUnavailable {
    if (this.snapshotUnavailable) return TEMPORARILY_UNAVAILABLE;
    return this.snap;
  }

  /** The latest snapshot (regardless of `snapshotUnavailable`). */
  latestSnapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces everything with `snap`; throws STORE_SNAPSHOT_OUT_OF_DATE for an older snapshot. */
  applySnapshot(snap: Snapshot): void {
    const idx = snap.metadata.index;
    if (idx <= this.snap.metadata.index && !(idx === 0 && this.snap.metadata.index === 0)) {
      throw new RaftError(RaftCodes.STORE_SNAPSHOT_OUT_OF_DATE, `snapshot at ${idx} is not newer than ${this.snap.metadata.index}`);
    }
    this.snap = { data: snap.data, metadata: { index: idx, term: snap.metadata.term, confState: cloneConfState(snap.metadata.confState) } };
    this.ents = [{ entryType: EntryType.EntryNormal, term: snap.metadata.term, index: idx, data: new Uint8Array(0) }];
    if (this.hardState.commit < idx) this.hardState = { ...this.hardState, commit: idx };
  }

  /** Makes a snapshot at `index` (≤ lastIndex) with the given config and data. */
  createSnapshot(index: number, confState: ConfState | undefined, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw new RaftError(RaftCodes.STORE_SNAPSHOT_OUT_OF_DATE, `snapshot at ${index} is not newer than ${this.snap.metadata.index}`);
    }
    if (index > this.lastIndex()) throw new RaftError(RaftCodes.STORE_UNAVAILABLE, `snapshot index ${index} is beyond the last index ${this.lastIndex()}`);
    const offset = this.ents[0]!.index;
    this.snap = {
      data,
      metadata: { index, term: this.ents[index - offset]!.term, confState: cloneConfState(confState ?? this.snap.metadata.confState) },
    };
    return this.snap;
  }

  /** Discards entries up to `index` (keeping its term as the dummy). */
  compact(index: number): void {
    const offset = this.ents[0]!.index;
    if (index <= offset) throw new RaftError(RaftCodes.STORE_COMPACTED, `compact(${index}): already compacted to ${offset}`);
    if (index > this.lastIndex()) throw new RaftError(RaftCodes.STORE_UNAVAILABLE, `compact(${index}): beyond the last index ${this.lastIndex()}`);
    const i = index - offset;
    const dummy: Entry = { entryType: EntryType.EntryNormal, term: this.ents[i]!.term, index, data: new Uint8Array(0) };
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /**
   * Appends entries, replacing any conflicting suffix. Entries before the first index are
   * ignored; a gap after the last index is an error.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    let ents = entries;
    if (first > entries[0]!.index) ents = entries.slice(first - entries[0]!.index);
    const offset = ents[0]!.index - this.ents[0]!.index;
    if (offset > this.ents.length) {
      throw new RaftError(RaftCodes.STORE_UNAVAILABLE, `append leaves a gap: last index ${this.lastIndex()}, appending from ${ents[0]!.index}`);
    }
    if (offset < this.ents.length) this.ents.length = offset;
    for (const e of ents) this.ents.push(e);
  }

  /** An independent copy (for simulated crashes: what was durable survives). */
  clone(): MemoryLogStorage {
    const c = new MemoryLogStorage();
    c.hardState = { ...this.hardState };
    c.snap = { data: this.snap.data, metadata: { ...this.snap.metadata, confState: cloneConfState(this.snap.metadata.confState) } };
    c.ents = this.ents.slice();
    return c;
  }

  /** All entries from the first index (for tests). */
  allEntries(): Entry[] {
    return this.ents.slice(1);
  }
}
