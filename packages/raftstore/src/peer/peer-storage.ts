/**
 * PeerStorage: one peer's raft log as raft sees it (`LogStorage`), answered from memory.
 *
 * The log of a region is `[truncated.index + 1, lastIndex]`. Every entry of it is cached here:
 * entries are appended to the cache when a Ready hands them out (visible before they are
 * durable, as the Ready protocol requires), and dropped when CompactLog applies, which keeps
 * the cache as small as the log (raft log GC, compact-log.ts). Restart loads the log from the
 * raft-log engine before the peer starts (recover.ts).
 *
 * A snapshot to send is generated on the apply side (it needs the kv engine at the applied
 * index): `snapshot()` asks for one through `requestSnapshot` and answers
 * TEMPORARILY_UNAVAILABLE until `onSnapshotGenerated` stores it.
 */
import {
  RaftCodes,
  RaftError,
  TEMPORARILY_UNAVAILABLE,
  type ConfState,
  type Entry,
  type FetchContext,
  type HardState,
  type LogStorage,
  type RaftState,
  type Snapshot,
  type TemporarilyUnavailable,
} from '@mrkv/raft';

export interface TruncatedState {
  index: number;
  term: number;
}

export class PeerStorage implements LogStorage {
  hardState: HardState;
  confState: ConfState;
  truncated: TruncatedState;
  /** Entries `[truncated.index + 1, lastIndex]`, in order. */
  private cache: Entry[];
  /** A generated snapshot, kept until a newer one replaces it. */
  private generated: Snapshot | undefined;
  /** Whether a generation is running. */
  private generating = false;

  /**
   * @param requestSnapshot asks the apply side for a snapshot at its applied index; false if the
   *   request could not be delivered (nothing will come back, the next `snapshot()` asks again).
   */
  constructor(
    init: { hardState: HardState; confState: ConfState; truncated: TruncatedState; entries: Entry[] },
    private readonly requestSnapshot: () => boolean,
  ) {
    this.hardState = { ...init.hardState };
    this.confState = init.confState;
    this.truncated = { ...init.truncated };
    this.cache = init.entries;
  }

  initialState(): RaftState {
    return { hardState: { ...this.hardState }, confState: this.confState };
  }

  firstIndex(): number {
    return this.truncated.index + 1;
  }

  lastIndex(): number {
    return this.truncated.index + this.cache.length;
  }

  term(index: number): number {
    if (index === this.truncated.index) return this.truncated.term;
    const e = this.cache[index - this.truncated.index - 1];
    if (e === undefined) {
      const code = index < this.truncated.index ? RaftCodes.STORE_COMPACTED : RaftCodes.STORE_UNAVAILABLE;
      throw new RaftError(code, `term of index ${index} outside the log [${this.firstIndex()}, ${this.lastIndex()}]`);
    }
    return e.term;
  }

  entries(lo: number, hi: number, maxBytes: number, _ctx: FetchContext): Entry[] {
    if (lo <= this.truncated.index) throw new RaftError(RaftCodes.STORE_COMPACTED, `entries from ${lo} are compacted`);
    if (hi > this.lastIndex() + 1) throw new RaftError(RaftCodes.STORE_UNAVAILABLE, `entries up to ${hi} are not in the log`);
    const off = this.truncated.index + 1;
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.cache[i - off]!;
      size += e.data.length + (e.context?.length ?? 0);
      if (out.length > 0 && size > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** Entries `[lo, hi)` regardless of size (for the apply side). */
  slice(lo: number, hi: number): Entry[] {
    const off = this.truncated.index + 1;
    return this.cache.slice(lo - off, hi - off);
  }

  snapshot(requestIndex: number, to: number): Snapshot | TemporarilyUnavailable {
    const snap = this.generated;
    // A generated snapshot is reused only while it still fits: it covers the requested index and
    // the log's start, and its membership includes the receiver (a peer added after it was made
    // would refuse it).
    if (
      snap !== undefined &&
      snap.metadata.index >= requestIndex &&
      snap.metadata.index >= this.truncated.index &&
      (snap.metadata.confState.voters.includes(to) || snap.metadata.confState.learners.includes(to) || snap.metadata.confState.learnersNext.includes(to))
    ) {
      return snap;
    }
    if (!this.generating) this.generating = this.requestSnapshot();
    return TEMPORARILY_UNAVAILABLE;
  }

  /**
   * True while a snapshot is being generated: its index will be the applied index when the apply
   * side takes the request, so raft log GC must not compact past the log's start meanwhile (or
   * the snapshot would be stale when it arrives; see `snapshotHold` in operation/tick.ts).
   */
  get isGenerating(): boolean {
    return this.generating;
  }

  onSnapshotGenerated(snap: Snapshot | undefined): void {
    this.generating = false;
    if (snap !== undefined) this.generated = snap;
  }

  /** Appends entries handed out by a Ready (replacing a conflicting tail). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const keep = first - this.truncated.index - 1;
    if (keep < 0) throw new RaftError(RaftCodes.STORE_COMPACTED, `append at ${first} below the log start ${this.firstIndex()}`);
    if (keep > this.cache.length) throw new RaftError(RaftCodes.STORE_UNAVAILABLE, `append at ${first} leaves a gap after ${this.lastIndex()}`);
    if (keep < this.cache.length) this.cache.length = keep;
    for (const e of entries) this.cache.push(e);
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  /** A snapshot was installed: the log restarts after it. */
  applySnapshot(snap: Snapshot): void {
    this.cache = [];
    this.truncated = { index: snap.metadata.index, term: snap.metadata.term };
    this.confState = snap.metadata.confState;
    if (this.hardState.commit < snap.metadata.index) this.hardState = { ...this.hardState, commit: snap.metadata.index };
    if (this.hardState.term < snap.metadata.term) this.hardState = { ...this.hardState, term: snap.metadata.term };
  }

  /** Drops the entries up to and including `index` (CompactLog applied). */
  compactTo(index: number): void {
    if (index <= this.truncated.index) return;
    const last = this.lastIndex();
    const upTo = Math.min(index, last);
    const term = this.term(upTo);
    this.cache = this.cache.slice(upTo - this.truncated.index);
    this.truncated = { index: upTo, term };
  }

  /** Bytes of cached entry payloads (metrics). */
  cachedEntries(): number {
    return this.cache.length;
  }
}
