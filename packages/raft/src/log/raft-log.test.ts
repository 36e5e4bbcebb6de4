import { describe, expect, it } from 'vitest';
import { RaftInvariantViolation } from '../errors.js';
import { noopLogger } from '../logger.js';
import { FETCH_APPLY, TEMPORARILY_UNAVAILABLE } from '../storage.js';
import type { FetchContext } from '../storage.js';
import { MemoryLogStorage } from '../testing/memory-storage.js';
import type { Entry } from '../types.js';
import { EntryType, emptyConfState } from '../types.js';
import { COMPACTED, RaftLog } from './raft-log.js';
import { Unstable } from './unstable.js';

const ent = (term: number, index: number, size = 0): Entry => ({ entryType: EntryType.EntryNormal, term, index, data: new Uint8Array(size) });
const ents = (from: number, ...terms: number[]): Entry[] => terms.map((t, i) => ent(t, from + i));
const ids = (es: readonly Entry[]) => es.map((e) => `${e.term}/${e.index}`);
const appendCtx: FetchContext = { kind: 'append', canAsync: true, to: 2, term: 1 };

function logWith(stable: Entry[], unstable: Entry[] = [], snapIndex = 0, snapTerm = 0): RaftLog {
  const s = new MemoryLogStorage();
  if (snapIndex > 0) s.applySnapshot({ data: new Uint8Array(), metadata: { confState: emptyConfState(), index: snapIndex, term: snapTerm } });
  s.append(stable);
  const l = new RaftLog(s, noopLogger);
  if (unstable.length > 0) l.append(unstable);
  return l;
}

describe('Unstable', () => {
  it('answers terms and bounds, including a pending snapshot', () => {
    const u = new Unstable(5);
    expect(u.maybeLastIndex()).toBeUndefined();
    u.truncateAndAppend(ents(5, 1, 1, 2));
    expect(u.maybeLastIndex()).toBe(7);
    expect(u.maybeTerm(7)).toBe(2);
    expect(u.maybeTerm(4)).toBeUndefined();
    expect(u.maybeTerm(8)).toBeUndefined();
    u.restore({ data: new Uint8Array(), metadata: { confState: emptyConfState(), index: 10, term: 3 } });
    expect(u.maybeFirstIndex()).toBe(11);
    expect(u.maybeLastIndex()).toBe(10);
    expect(u.maybeTerm(10)).toBe(3);
    expect(u.length).toBe(0);
  });

  it('truncates a conflicting suffix, replaces everything below offset, and appends', () => {
    const u = new Unstable(5);
    u.truncateAndAppend(ents(5, 1, 1, 1));
    u.truncateAndAppend(ents(6, 2, 2));
    expect(ids(u.all())).toEqual(['1/5', '2/6', '2/7']);
    u.truncateAndAppend(ents(4, 3));
    expect(u.offset).toBe(4);
    expect(ids(u.all())).toEqual(['3/4']);
    u.truncateAndAppend(ents(5, 3));
    expect(ids(u.all())).toEqual(['3/4', '3/5']);
    expect(() => u.truncateAndAppend(ents(9, 3))).toThrow(RaftInvariantViolation);
  });

  it('stableTo drops a written prefix, but not after the entry was replaced (ABA)', () => {
    const u = new Unstable(1);
    u.truncateAndAppend(ents(1, 1, 1, 1));
    u.stableTo(2, 1);
    expect(u.offset).toBe(3);
    expect(ids(u.all())).toEqual(['1/3']);
    u.truncateAndAppend(ents(3, 2));
    u.stableTo(3, 1); // the written 1/3 was replaced by 2/3: ignore
    expect(ids(u.all())).toEqual(['2/3']);
    u.stableTo(3, 2);
    expect(u.length).toBe(0);
    expect(u.offset).toBe(4);
  });

  it('slice honours maxBytes but returns at least one entry', () => {
    const u = new Unstable(1);
    u.truncateAndAppend([ent(1, 1, 10), ent(1, 2, 10), ent(1, 3, 10)]);
    expect(ids(u.slice(1, 4, 25))).toEqual(['1/1', '1/2']);
    expect(ids(u.slice(1, 4, 5))).toEqual(['1/1']);
    expect(ids(u.slice(2, 4, Infinity))).toEqual(['1/2', '1/3']);
  });
});

describe('RaftLog', () => {
  it('starts with committed/applied at the snapshot and everything stored persisted', () => {
    const l = logWith(ents(6, 2, 2), [], 5, 1);
    expect(l.firstIndex()).toBe(6);
    expect(l.lastIndex()).toBe(7);
    expect(l.committed).toBe(5);
    expect(l.applied).toBe(5);
    expect(l.persisted).toBe(7);
    expect(l.term(5)).toBe(1);
    expect(l.maybeTerm(4)).toBeUndefined();
    expect(l.maybeTerm(8)).toBeUndefined();
  });

  it('findConflict finds the first mismatch or new entry', () => {
    const l = logWith(ents(1, 1, 2, 3));
    expect(l.findConflict([])).toBe(0);
    expect(l.findConflict(ents(1, 1, 2, 3))).toBe(0);
    expect(l.findConflict(ents(2, 2, 3, 4, 4))).toBe(4);
    expect(l.findConflict(ents(2, 2, 4))).toBe(3);
    expect(l.findConflict(ents(1, 4, 4))).toBe(1);
  });

  it('findConflictByTerm skips every entry of a higher term', () => {
    // index: 1 2 3 4 5 6 7 ; terms: 1 1 2 2 4 4 4
    const l = logWith(ents(1, 1, 1, 2, 2, 4, 4, 4));
    expect(l.findConflictByTerm(7, 3)).toBe(4);
    expect(l.findConflictByTerm(7, 4)).toBe(7);
    expect(l.findConflictByTerm(7, 1)).toBe(2);
    expect(l.findConflictByTerm(7, 0)).toBe(0);
    expect(l.findConflictByTerm(10, 1)).toBe(10); // beyond the log: unknown term, a possible match
  });

  it('isUpToDate compares (last term, last index) lexicographically (§5.4.1)', () => {
    const l = logWith(ents(1, 1, 2, 3));
    expect(l.isUpToDate(2, 4)).toBe(true);
    expect(l.isUpToDate(3, 3)).toBe(true);
    expect(l.isUpToDate(4, 3)).toBe(true);
    expect(l.isUpToDate(2, 3)).toBe(false);
    expect(l.isUpToDate(9, 2)).toBe(false);
  });

  it('maybeAppend matches, truncates conflicts, lowers persisted and commits to the last new entry', () => {
    const l = logWith(ents(1, 1, 2, 3));
    expect(l.maybeAppend(3, 2, 3, [])).toBe(-1); // term mismatch at 3
    expect(l.maybeAppend(4, 3, 3, [])).toBe(-1); // beyond the log
    expect(l.maybeAppend(3, 3, 2, [])).toBe(3);
    expect(l.committed).toBe(2);
    expect(l.maybeAppend(2, 2, 10, ents(3, 4, 4))).toBe(4);
    expect(l.committed).toBe(4); // min(leader commit, last new)
    expect(l.persisted).toBe(2);
    expect(ids(l.unstable.all())).toEqual(['4/3', '4/4']);
    // An append conflicting with committed entries is refused, changing nothing.
    expect(() => l.maybeAppend(1, 1, 4, ents(2, 5))).toThrow(expect.objectContaining({ code: 'KV:Raft:InvalidMessage' }));
    expect(ids(l.unstable.all())).toEqual(['4/3', '4/4']);
  });

  it('commitTo never goes backwards and never beyond the log', () => {
    const l = logWith(ents(1, 1, 1));
    l.commitTo(2);
    l.commitTo(1);
    expect(l.committed).toBe(2);
    expect(() => l.commitTo(3)).toThrow(/out of range/);
  });

  it('maybeCommit only commits entries of the given term (§5.4.2)', () => {
    const l = logWith(ents(1, 1, 2));
    expect(l.maybeCommit(2, 1)).toBe(false);
    expect(l.maybeCommit(1, 1)).toBe(true);
    expect(l.maybeCommit(2, 2)).toBe(true);
    expect(l.committed).toBe(2);
  });

  it('slices across storage and unstable, honouring maxBytes and compaction', () => {
    const l = logWith([ent(1, 1, 10), ent(1, 2, 10)], [ent(2, 3, 10), ent(2, 4, 10)]);
    expect(ids(l.slice(1, 5, Infinity, FETCH_APPLY) as Entry[])).toEqual(['1/1', '1/2', '2/3', '2/4']);
    expect(ids(l.slice(1, 5, 25, FETCH_APPLY) as Entry[])).toEqual(['1/1', '1/2']);
    expect(ids(l.slice(2, 5, 25, FETCH_APPLY) as Entry[])).toEqual(['1/2', '2/3']);
    expect(ids(l.slice(3, 5, 1, FETCH_APPLY) as Entry[])).toEqual(['2/3']);
    expect(l.entries(5, Infinity, FETCH_APPLY)).toEqual([]);
    (l.storage as MemoryLogStorage).compact(1);
    expect(l.slice(1, 3, Infinity, FETCH_APPLY)).toBe(COMPACTED);
    expect(() => l.slice(2, 6, Infinity, FETCH_APPLY)).toThrow(RaftInvariantViolation);
  });

  it('passes "temporarily unavailable" through for async reads only', () => {
    const l = logWith(ents(1, 1, 1));
    const s = l.storage as MemoryLogStorage;
    s.asyncFetch = true;
    expect(l.slice(1, 3, Infinity, appendCtx)).toBe(TEMPORARILY_UNAVAILABLE);
    expect(s.pendingFetches).toEqual([appendCtx]);
    expect(ids(l.slice(1, 3, Infinity, FETCH_APPLY) as Entry[])).toEqual(['1/1', '1/2']);
  });

  it('hands out committed entries only up to what is persisted, paginated', () => {
    const l = logWith([ent(1, 1, 10), ent(1, 2, 10)], [ent(1, 3, 10)]);
    l.commitTo(3);
    expect(ids(l.nextCommittedEntriesSince(0, Infinity))).toEqual(['1/1', '1/2']);
    expect(ids(l.nextCommittedEntriesSince(0, 5))).toEqual(['1/1']);
    expect(l.hasNextCommittedEntriesSince(2)).toBe(false);
    (l.storage as MemoryLogStorage).append(l.unstable.all());
    l.stableTo(3, 1);
    expect(l.maybePersist(3, 1)).toBe(true);
    expect(ids(l.nextCommittedEntriesSince(2, Infinity))).toEqual(['1/3']);
  });

  it('maybePersist ignores replaced or still-unstable entries', () => {
    const l = logWith(ents(1, 1));
    l.append(ents(2, 1, 1));
    expect(l.maybePersist(3, 1)).toBe(false); // still unstable
    (l.storage as MemoryLogStorage).append(l.unstable.all());
    l.stableTo(3, 1);
    expect(l.maybePersist(3, 2)).toBe(false); // wrong term
    expect(l.maybePersist(3, 1)).toBe(true);
    expect(l.maybePersist(2, 1)).toBe(false); // not beyond persisted
  });

  it('restore replaces the log with a snapshot', () => {
    const l = logWith(ents(1, 1, 1, 1));
    l.commitTo(2);
    l.restore({ data: new Uint8Array(), metadata: { confState: emptyConfState(), index: 10, term: 4 } });
    expect(l.committed).toBe(10);
    expect(l.persisted).toBe(3);
    expect(l.firstIndex()).toBe(11);
    expect(l.lastIndex()).toBe(10);
    expect(l.lastTerm()).toBe(4);
    expect(() => l.restore({ data: new Uint8Array(), metadata: { confState: emptyConfState(), index: 5, term: 4 } })).toThrow(RaftInvariantViolation);
  });

  it('appliedTo stays within [applied, min(committed, persisted)]', () => {
    const l = logWith(ents(1, 1, 1));
    l.commitTo(2);
    l.appliedTo(1);
    expect(l.applied).toBe(1);
    expect(() => l.appliedTo(3)).toThrow(RaftInvariantViolation);
    expect(() => l.appliedTo(0)).not.toThrow();
  });
});

describe('MemoryLogStorage', () => {
  it('compacts, snapshots, appends with truncation, and clones', () => {
    const s = new MemoryLogStorage();
    s.append(ents(1, 1, 1, 2, 2));
    expect(s.lastIndex()).toBe(4);
    s.append(ents(3, 3));
    expect(ids(s.allEntries())).toEqual(['1/1', '1/2', '3/3']);
    const snap = s.createSnapshot(2, { voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }, new Uint8Array([7]));
    expect(snap.metadata).toMatchObject({ index: 2, term: 1 });
    s.compact(2);
    expect(s.firstIndex()).toBe(3);
    expect(s.term(2)).toBe(1);
    expect(() => s.term(1)).toThrow(expect.objectContaining({ code: 'KV:Raft:StoreCompacted' }));
    expect(() => s.compact(2)).toThrow(expect.objectContaining({ code: 'KV:Raft:StoreCompacted' }));
    expect(() => s.createSnapshot(1, undefined, new Uint8Array())).toThrow(expect.objectContaining({ code: 'KV:Raft:StoreSnapshotOutOfDate' }));
    expect(() => s.append(ents(9, 3))).toThrow(expect.objectContaining({ code: 'KV:Raft:StoreUnavailable' }));
    const c = s.clone();
    s.append(ents(4, 3));
    expect(c.lastIndex()).toBe(3);
    expect(s.lastIndex()).toBe(4);
  });
});
