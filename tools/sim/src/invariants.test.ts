import { describe, expect, it } from 'vitest';
import { EntryType, StateRole, type Entry } from '@mrkv/raft';
import type { Region } from '@mrkv/proto';
import type { Raftstore, RaftstoreObserver } from '@mrkv/raftstore';
import { InvariantChecker } from './invariants.js';

/** A store stand-in that only records the observer it is given (no peers). */
function fakeStore(): { store: Raftstore; hooks: () => RaftstoreObserver } {
  let o: RaftstoreObserver | undefined;
  const store = { observe: (x: RaftstoreObserver) => ((o = x), () => undefined), peers: new Map() } as unknown as Raftstore;
  return { store, hooks: () => o! };
}

const entry = (index: number, term: number, data: string): Entry => ({ index, term, entryType: EntryType.EntryNormal, data: Buffer.from(data) }) as Entry;

const region = (id: number, version: number, confVer = 1): Region => ({
  id,
  startKey: new Uint8Array(),
  endKey: new Uint8Array(),
  regionEpoch: { version, confVer },
  peers: [{ id: id * 10 + 1, storeId: 1, role: 'Voter' }],
});

function setup() {
  const checker = new InvariantChecker(() => ({ atMs: 0, event: 0 }));
  const a = fakeStore();
  const b = fakeStore();
  checker.attach(1, a.store);
  checker.attach(2, b.store);
  return { checker, a: a.hooks(), b: b.hooks() };
}

describe('InvariantChecker', () => {
  it('accepts replicas that apply the same entries, in any interleaving, and restarts from the region chain', () => {
    const { checker, a, b } = setup();
    for (let i = 6; i <= 9; i++) a.postApply!(7, entry(i, 2, `cmd${i}`), true);
    for (let i = 6; i <= 8; i++) b.postApply!(7, entry(i, 2, `cmd${i}`), true);
    // Store 1 restarts with applied index 7 and re-applies 8 and 9: still the same chain.
    a.postApply!(7, entry(8, 2, 'cmd8'), true);
    b.postApply!(7, entry(9, 2, 'cmd9'), true);
    expect(checker.violations).toEqual([]);
  });

  it('catches a replica that applied different data, a different term, or a different outcome at an index', () => {
    for (const bad of [entry(7, 2, 'other'), entry(7, 3, 'cmd7')]) {
      const { checker, a, b } = setup();
      a.postApply!(7, entry(6, 2, 'cmd6'), true);
      a.postApply!(7, entry(7, 2, 'cmd7'), true);
      b.postApply!(7, entry(6, 2, 'cmd6'), true);
      b.postApply!(7, bad, true);
      expect(checker.violations.map((v) => v.kind)).toEqual(['apply-divergence']);
    }
    const { checker, a, b } = setup();
    a.postApply!(7, entry(6, 2, 'cmd6'), true);
    b.postApply!(7, entry(6, 2, 'cmd6'), false);
    expect(checker.violations.map((v) => v.kind)).toEqual(['apply-divergence']);
  });

  it('catches two leaders in one term of a region, but not leaders of different terms or regions', () => {
    const { checker, a, b } = setup();
    a.onRoleChange!(7, 71, StateRole.Leader, 3, 71);
    b.onRoleChange!(7, 72, StateRole.Leader, 4, 72);
    b.onRoleChange!(8, 82, StateRole.Leader, 3, 82);
    a.onRoleChange!(7, 71, StateRole.Follower, 4, 72);
    expect(checker.failed).toBe(false);
    b.onRoleChange!(7, 72, StateRole.Leader, 3, 72);
    expect(checker.violations.map((v) => v.kind)).toEqual(['two-leaders']);
  });

  it('catches an epoch that goes back on a store', () => {
    const { checker, a, b } = setup();
    a.onRegionChange!(region(7, 3), 'update');
    b.onRegionChange!(region(7, 1), 'create'); // another store may lag: fine
    a.onRegionChange!(region(7, 3, 2), 'update');
    expect(checker.failed).toBe(false);
    a.onRegionChange!(region(7, 2, 2), 'update');
    expect(checker.violations.map((v) => v.kind)).toEqual(['epoch-regress']);
  });
});

/** A peer stand-in with what the sweep reads; its fields can be changed between sweeps. */
interface FakePeer {
  regionId: number;
  peerId: number;
  destroyed: boolean;
  isLeader: boolean;
  term: number;
  region: Region;
  readonly isInitialized: boolean;
  rawNode: { commitIndex: number };
  storage: { firstIndex(): number; lastIndex(): number; term(i: number): number };
}

function fakePeer(regionId: number, peerId: number, r: Region, terms: number[]): FakePeer {
  // terms[i] is the term of index 6 + i (the log starts after index 5).
  return {
    regionId,
    peerId,
    destroyed: false,
    isLeader: false,
    term: 1,
    region: r,
    get isInitialized() {
      return this.region.peers.length > 0;
    },
    rawNode: { commitIndex: 5 + terms.length },
    storage: { firstIndex: () => 6, lastIndex: () => 5 + terms.length, term: (i) => terms[i - 6]! },
  };
}

/** A running store stand-in for the sweep: its peers, and its region index (key order). */
function sweptStore(peers: FakePeer[], index: Region[] = peers.map((p) => p.region)): Raftstore {
  return { peers: new Map(peers.map((p) => [p.regionId, p])), ctx: { meta: { index: { all: () => index } } } } as unknown as Raftstore;
}

const ranged = (id: number, start: string, end: string, version = 1): Region => ({
  ...region(id, version),
  startKey: Buffer.from(start),
  endKey: Buffer.from(end),
});

describe('InvariantChecker.sweep', () => {
  it('passes a consistent cluster on every sweep, and catches changes made between sweeps to the same peers', () => {
    const checker = new InvariantChecker(() => ({ atMs: 0, event: 0 }));
    const left = ranged(1, '', 'm');
    const right = ranged(2, 'm', '');
    const a1 = fakePeer(1, 11, left, [1, 1]);
    const a2 = fakePeer(2, 21, right, [1]);
    const b1 = fakePeer(1, 12, left, [1, 1]);
    const stores = new Map([
      [1, sweptStore([a1, a2])],
      [2, sweptStore([b1], [left])],
    ]);
    a1.isLeader = true;
    for (let i = 0; i < 3; i++) checker.sweep(stores);
    expect(checker.violations).toEqual([]);

    // A second leader in the same term, seen only by the sweep.
    b1.isLeader = true;
    checker.sweep(stores);
    expect(checker.violations.map((v) => v.kind)).toEqual(['two-leaders']);
  });

  it('catches a committed index whose term changed, after the peer was swept unchanged before', () => {
    const checker = new InvariantChecker(() => ({ atMs: 0, event: 0 }));
    const r = ranged(1, '', '');
    const terms = [1, 1];
    const a = fakePeer(1, 11, r, terms);
    const b = fakePeer(1, 12, r, [1]);
    const stores = new Map([
      [1, sweptStore([a])],
      [2, sweptStore([b])],
    ]);
    checker.sweep(stores);
    checker.sweep(stores);
    expect(checker.failed).toBe(false);
    // b commits index 7 with a term other than the one a committed there.
    terms.length = 0;
    b.storage = { firstIndex: () => 6, lastIndex: () => 7, term: (i) => (i === 6 ? 1 : 2) };
    b.rawNode.commitIndex = 7;
    checker.sweep(stores);
    expect(checker.violations.map((v) => v.kind)).toEqual(['committed-divergence']);
  });

  it('catches an epoch that goes back when the peer gets an older region object', () => {
    const checker = new InvariantChecker(() => ({ atMs: 0, event: 0 }));
    const a = fakePeer(1, 11, ranged(1, '', '', 3), [1]);
    const stores = new Map([[1, sweptStore([a])]]);
    checker.sweep(stores);
    a.region = ranged(1, '', '', 4);
    checker.sweep(stores);
    expect(checker.failed).toBe(false);
    a.region = ranged(1, '', '', 2);
    checker.sweep(stores);
    expect(checker.violations.map((v) => v.kind)).toEqual(['epoch-regress']);
  });

  it('catches a gap in the tiling and overlapping local regions once region objects change', () => {
    const checker = new InvariantChecker(() => ({ atMs: 0, event: 0 }));
    const a1 = fakePeer(1, 11, ranged(1, '', 'm'), [1]);
    const a2 = fakePeer(2, 21, ranged(2, 'm', ''), [1]);
    const store = sweptStore([a1, a2]);
    const stores = new Map([[1, store]]);
    checker.sweep(stores);
    checker.sweep(stores);
    expect(checker.failed).toBe(false);
    // Region 2 now starts at "p" (newer version): ["m", "p") is covered by nobody.
    a2.region = ranged(2, 'p', '', 2);
    checker.sweep(new Map([[1, sweptStore([a1, a2])]]));
    expect(checker.violations.map((v) => v.kind)).toEqual(['tiling']);

    const c = new InvariantChecker(() => ({ atMs: 0, event: 0 }));
    const index = [ranged(1, '', 'm'), ranged(2, 'm', '')];
    const b1 = fakePeer(1, 11, index[0]!, [1]);
    const b2 = fakePeer(2, 21, index[1]!, [1]);
    const s = new Map([[1, sweptStore([b1, b2], index)]]);
    c.sweep(s);
    expect(c.failed).toBe(false);
    // The same index array, edited in place: region 1 now reaches past "m".
    index[0] = ranged(1, '', 'q', 2);
    c.sweep(s);
    expect(c.violations.map((v) => v.kind)).toContain('region-overlap');
  });
});
