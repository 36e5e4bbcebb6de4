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
