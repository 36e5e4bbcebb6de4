/**
 * balance-leader does not move a leader back and forth: transfers in flight count on their
 * targets (no overshoot while heartbeats lag), a region whose leader just changed stores is left
 * alone for a while, and the tolerance never lets one leader be swapped between two stores and
 * grows with the counts.
 */
import { describe, expect, it } from 'vitest';
import { clusterEnv } from '../../__tests__/cluster-env.js';
import { info, peer, region } from '../../__tests__/fixtures.js';
import type { SimRegion } from '../../__tests__/sim-store.js';
import { layout, leaderCounts, only, report, settle } from '../../__tests__/sim-cluster.js';
import { BALANCE_LEADER, LEADER_MOVE_COOLDOWN_MS } from './balance-leader.js';

describe('balance-leader without ping-pong', () => {
  it('counts a transfer in flight on its target: no second move while heartbeats lag, none back afterwards', async () => {
    const env = await clusterEnv(3);
    await only(env, [BALANCE_LEADER]);
    const sims = layout(3, [1, 2, 3]);
    env.beatStores();
    await report(env, sims, [1, 2, 3]);
    const first = await env.pd.coordinator.runSchedulers();
    expect(first.map((o) => o.desc)).toEqual(['transfer leader of region 1 from store 1 to store 3', 'transfer leader of region 2 from store 1 to store 2']);
    // no heartbeat has shown either transfer yet: the tree still says [3, 0, 0]
    env.clock.advance(1000);
    expect(await env.pd.coordinator.runSchedulers()).toEqual([]);

    // the transfers land; from here on nothing more moves, and nothing moves back
    await settle(env, sims, [1, 2, 3]);
    expect(leaderCounts(sims, [1, 2, 3])).toEqual([1, 1, 1]);
    const moved = env.pd.operators.history().filter((o) => o.kind === 'leader');
    expect(moved.map((o) => [o.regionId, o.status]).sort()).toEqual([[1, 'success'], [2, 'success']]);
  });

  it('leaves a region whose leader just changed stores alone during the cool-down; another region goes instead', async () => {
    const env = await clusterEnv(3);
    await only(env, [BALANCE_LEADER]);
    // leaders [2, 1, 1]: balanced
    const sims = layout(4, [1, 2, 3], (i) => (i === 1 ? 2 : i === 4 ? 3 : 1));
    env.beatStores();
    await report(env, sims, [1, 2, 3]);
    expect(await env.pd.coordinator.runSchedulers()).toEqual([]);
    // region 1's leader moves 2 -> 1 (an election, or a transfer): [3, 0, 1]
    sims[0]!.leader = sims[0]!.meta.peers.find((p) => p.storeId === 1)!;
    await report(env, sims, [1, 2, 3]);
    const ops = await env.pd.coordinator.runSchedulers();
    expect(ops.map((o) => o.desc)).toEqual(['transfer leader of region 2 from store 1 to store 2']);
  });

  it('moves a cooled-down region again once the cool-down has passed', async () => {
    const env = await clusterEnv(2);
    await only(env, [BALANCE_LEADER]);
    const sims = layout(2, [1, 2], (i) => (i === 1 ? 2 : 1));
    env.beatStores();
    await report(env, sims, [1, 2]);
    // region 1's leader moves 2 -> 1: [2, 0], and region 2 is the only other candidate
    sims[0]!.leader = sims[0]!.meta.peers.find((p) => p.storeId === 1)!;
    await report(env, sims, [1, 2]);
    const first = await env.pd.coordinator.runSchedulers();
    expect(first.map((o) => o.regionId)).toEqual([2]);
    env.pd.operators.cancel(2);
    env.clock.advance(LEADER_MOVE_COOLDOWN_MS - 1000);
    env.beatStores();
    // region 2 has an operator no more, region 1 is still cooling down: region 2 again
    expect((await env.pd.coordinator.runSchedulers()).map((o) => o.regionId)).toEqual([2]);
    env.pd.operators.cancel(2);
    // make region 2 unmovable (pending peer on store 2): only region 1 is left, after the cool-down
    await env.pd.regionHeartbeat({ ...info(sims[1]!.meta), leader: sims[1]!.leader, term: 1, pendingPeers: [sims[1]!.meta.peers.find((p) => p.storeId === 2)!] });
    expect(await env.pd.coordinator.runSchedulers()).toEqual([]);
    env.clock.advance(1001);
    env.beatStores();
    expect((await env.pd.coordinator.runSchedulers()).map((o) => o.regionId)).toEqual([1]);
  });

  it('never swaps a single leader between two stores, even with leader-balance-tolerance 0', async () => {
    const env = await clusterEnv(2, { leaderBalanceTolerance: 0, maxReplicas: 2 });
    await only(env, [BALANCE_LEADER]);
    const sims = layout(3, [1, 2], (i) => (i === 3 ? 2 : 1)); // [2, 1]
    const rounds = await settle(env, sims, [1, 2], 20);
    expect(rounds).toBe(1);
    expect(leaderCounts(sims, [1, 2])).toEqual([2, 1]);
    expect(env.pd.operators.history()).toHaveLength(0);
  });

  it('tolerates a gap relative to the region count: 4 leaders of 800 regions is noise', async () => {
    const env = await clusterEnv(2, { maxReplicas: 2 });
    await only(env, [BALANCE_LEADER]);
    const sims = layout(800, [1, 2], (i) => (i <= 402 ? 1 : 2)); // [402, 398]
    env.beatStores();
    await report(env, sims, [1, 2]);
    expect(await env.pd.coordinator.runSchedulers()).toEqual([]);
    // a gap of 6 is past 800 × 0.005 = 4: one move per round narrows it
    sims[402]!.leader = sims[402]!.meta.peers.find((p) => p.storeId === 1)!;
    await report(env, sims, [1, 2]);
    expect(leaderCounts(sims, [1, 2])).toEqual([403, 397]);
    expect(await env.pd.coordinator.runSchedulers()).toHaveLength(1);
  });

  it('closes a gap no single move narrows in two hops through a middle store', async () => {
    // The layout a pre-split left in CI: leaders [2, 3, 2, 1] on stores 1..4, and none of the
    // regions led by store 2 has a peer on store 4.
    const env = await clusterEnv(4);
    await only(env, [BALANCE_LEADER]);
    const spec: Array<[number[], number]> = [
      [[1, 3, 4], 3],
      [[2, 1, 4], 1],
      [[2, 3, 4], 3],
      [[2, 3, 4], 4],
      [[1, 3, 4], 1],
      [[2, 1, 3], 2],
      [[2, 1, 3], 2],
      [[2, 1, 3], 2],
    ];
    const sims: SimRegion[] = spec.map(([stores, leader], k) => {
      const i = k + 1;
      const peers = stores.map((s) => peer(i * 100 + s, s));
      const meta = region(i, i === 1 ? '' : `k${i}`, i === spec.length ? '' : `k${i + 1}`, peers, 2, 1);
      return { meta, leader: peers.find((p) => p.storeId === leader)! };
    });
    expect(leaderCounts(sims, [1, 2, 3, 4])).toEqual([2, 3, 2, 1]);
    await settle(env, sims, [1, 2, 3, 4]);
    expect(leaderCounts(sims, [1, 2, 3, 4]).sort()).toEqual([2, 2, 2, 2]);
    // two transfers did it: store 2 -> a middle store, and that store -> store 4
    const moved = env.pd.operators.history().filter((o) => o.kind === 'leader');
    expect(moved).toHaveLength(2);
    expect(moved.every((o) => o.status === 'success')).toBe(true);
  });
});
