/**
 * The scatter placement choice on its own: even peers and leaders over the stores for a group of
 * regions that all start on the same stores, staying put when that is already even, the seeded
 * tie-break, and the operator steps that realise a placement.
 */
import { describe, expect, it } from 'vitest';
import { SeededRng } from '@mrkv/common';
import { info, peer, region } from '../../__tests__/fixtures.js';
import { scatterOperator, type BuildContext } from '../builder.js';
import { pickScatterPlacement, samePlacement, ScatterGroup, type ScatterPlacement } from './placement.js';

const spread = (counts: number[]) => Math.max(...counts) - Math.min(...counts);

/** Places `n` regions that all sit on `from` (leader on from[0]) into a fresh group. */
function placeAll(n: number, from: number[], stores: number[], seed: number): { group: ScatterGroup; placements: ScatterPlacement[] } {
  const group = new ScatterGroup('', 0);
  const rng = new SeededRng(seed);
  const placements: ScatterPlacement[] = [];
  for (let i = 0; i < n; i++) {
    const p = pickScatterPlacement({ stores: from, leaderStore: from[0]! }, stores, from.length, group, rng)!;
    group.place(p);
    placements.push(p);
  }
  return { group, placements };
}

describe('pickScatterPlacement', () => {
  it('spreads 3 replicas of 8 regions evenly over 5 stores, peers and leaders, for every seed', () => {
    const stores = [1, 2, 3, 4, 5];
    for (let seed = 1; seed <= 200; seed++) {
      const { group, placements } = placeAll(8, [1, 2, 3], stores, seed);
      const peers = stores.map((s) => group.peerCount(s));
      const leaders = stores.map((s) => group.leaderCount(s));
      expect(peers.reduce((a, b) => a + b), `seed ${seed}`).toBe(24);
      expect(spread(peers), `seed ${seed}: peers ${peers.join(',')}`).toBeLessThanOrEqual(1);
      expect(spread(leaders), `seed ${seed}: leaders ${leaders.join(',')}`).toBeLessThanOrEqual(1);
      for (const p of placements) {
        expect(new Set(p.stores).size).toBe(3);
        expect(p.stores).toContain(p.leaderStore);
      }
    }
  });

  it('keeps a fresh group\'s first region where it is, and moves nothing when the stores are all it has', () => {
    const { placements } = placeAll(1, [1, 2, 3], [1, 2, 3, 4, 5], 7);
    expect(placements[0]).toEqual({ stores: [1, 2, 3], leaderStore: 1 });
    // 3 stores, 3 replicas: peers stay, only leaders spread (9 regions → 3 each)
    const { group, placements: all } = placeAll(9, [1, 2, 3], [1, 2, 3], 7);
    expect(all.every((p) => p.stores.join() === '1,2,3')).toBe(true);
    expect([1, 2, 3].map((s) => group.leaderCount(s))).toEqual([3, 3, 3]);
  });

  it('breaks ties with the injected seed: the same seed replays, other seeds choose differently', () => {
    const run = (seed: number) => JSON.stringify(placeAll(8, [1, 2, 3], [1, 2, 3, 4, 5, 6, 7], seed).placements);
    expect(run(11)).toBe(run(11));
    const others = new Set(Array.from({ length: 10 }, (_, i) => run(100 + i)));
    expect(others.size).toBeGreaterThan(1);
  });

  it('does not depend on the order of the candidate list', () => {
    const g1 = new ScatterGroup('', 0);
    const g2 = new ScatterGroup('', 0);
    const cur = { stores: [1, 2, 3], leaderStore: 2 };
    g1.place({ stores: [1, 2, 3], leaderStore: 1 });
    g2.place({ stores: [1, 2, 3], leaderStore: 1 });
    const a = pickScatterPlacement(cur, [5, 3, 1, 4, 2], 3, g1, new SeededRng(3));
    const b = pickScatterPlacement(cur, [1, 2, 3, 4, 5], 3, g2, new SeededRng(3));
    expect(a).toEqual(b);
  });

  it('needs as many candidate stores as replicas', () => {
    expect(pickScatterPlacement({ stores: [1, 2, 3], leaderStore: 1 }, [1, 2], 3, new ScatterGroup('', 0), new SeededRng(1))).toBeUndefined();
  });

  it('compares placements by store set and leader', () => {
    expect(samePlacement({ stores: [3, 1, 2], leaderStore: 1 }, { stores: [1, 2, 3], leaderStore: 1 })).toBe(true);
    expect(samePlacement({ stores: [1, 2, 3], leaderStore: 2 }, { stores: [1, 2, 3], leaderStore: 1 })).toBe(false);
    expect(samePlacement({ stores: [1, 2, 4], leaderStore: 1 }, { stores: [1, 2, 3], leaderStore: 1 })).toBe(false);
  });
});

describe('scatterOperator', () => {
  const ctx: BuildContext = { kind: 'scatter', source: 'scatter-region', storeUsable: (id) => id !== 9 };
  const r = info(region(7, 'a', 'b', [peer(71, 1), peer(72, 2), peer(73, 3)]));

  it('adds, promotes, moves the leader off a store being left straight to the target leader, then removes', () => {
    const op = scatterOperator(r, [3, 4, 5], 4, [80, 81], ctx);
    expect(op.kind).toBe('scatter');
    expect(op.steps).toEqual([
      { type: 'addLearner', storeId: 4, peerId: 80 },
      { type: 'promoteLearner', storeId: 4, peerId: 80 },
      { type: 'transferLeader', fromStore: 1, toStore: 4 },
      { type: 'removePeer', storeId: 1, peerId: 71 },
      { type: 'addLearner', storeId: 5, peerId: 81 },
      { type: 'promoteLearner', storeId: 5, peerId: 81 },
      { type: 'removePeer', storeId: 2, peerId: 72 },
    ]);
  });

  it('ends with a transfer when the target leader is added after the old leader store is left', () => {
    const op = scatterOperator(r, [2, 4, 5], 5, [80, 81], ctx);
    expect(op.steps.map((s) => s.type)).toEqual(['addLearner', 'promoteLearner', 'transferLeader', 'removePeer', 'addLearner', 'promoteLearner', 'removePeer', 'transferLeader']);
    expect(op.steps[2]).toEqual({ type: 'transferLeader', fromStore: 1, toStore: 4 });
    expect(op.steps[7]).toEqual({ type: 'transferLeader', fromStore: 4, toStore: 5 });
  });

  it('is a single transfer when only the leader moves', () => {
    expect(scatterOperator(r, [1, 2, 3], 3, [], ctx).steps).toEqual([{ type: 'transferLeader', fromStore: 1, toStore: 3 }]);
  });

  it('refuses what it cannot do', () => {
    expect(() => scatterOperator(r, [1, 2, 3], 1, [], ctx)).toThrow(/already on stores/);
    expect(() => scatterOperator(r, [1, 2, 9], 1, [80], ctx)).toThrow(/store 9 is not Up/);
    expect(() => scatterOperator(r, [1, 2], 1, [], ctx)).toThrow(/3 voters/);
    expect(() => scatterOperator(r, [1, 2, 4], 5, [80], ctx)).toThrow(/not one of the target stores/);
    expect(() => scatterOperator(r, [1, 4, 5], 1, [80], ctx)).toThrow(/needs 2 new peer ids/);
    const withLearner = info(region(8, 'b', 'c', [peer(1, 1), peer(2, 2), peer(3, 3, 'Learner')]));
    expect(() => scatterOperator(withLearner, [1, 2, 4], 1, [80], ctx)).toThrow(/learners/);
    const noLeader = { ...r, leader: undefined };
    expect(() => scatterOperator(noLeader, [1, 2, 4], 1, [80], ctx)).toThrow(/no leader/);
  });
});
