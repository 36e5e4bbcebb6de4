/**
 * Checkers and schedulers on constructed cluster states, run to convergence against a toy
 * command executor (sim-store.ts): PD's coordinator ticks, every region heartbeats, the command
 * PD answers is applied, and so on until nothing is left to do.
 */
import { describe, expect, it } from 'vitest';
import { clusterEnv } from '../__tests__/cluster-env.js';
import { info, peer, region } from '../__tests__/fixtures.js';
import { applyCommand, type SimRegion } from '../__tests__/sim-store.js';
import { layout, leaderCounts, only, report, settle, storesOf } from '../__tests__/sim-cluster.js';
import { PlacementDriver } from '../pd.js';
import { MERGE_CHECKER } from './checkers/merge-checker.js';
import { REPLICA_CHECKER } from './checkers/replica-checker.js';
import { BALANCE_LEADER } from './schedulers/balance-leader.js';
import { BALANCE_REGION } from './schedulers/balance-region.js';
import { HOT_REGION } from './schedulers/hot-region.js';

describe('replica checker', () => {
  it('rebuilds the replicas of a store down longer than max-store-down-time on the others', async () => {
    const env = await clusterEnv(4, { maxStoreDownMs: 30_000, storeDisconnectMs: 5_000 });
    await only(env, [REPLICA_CHECKER]);
    const sims = layout(6, [1, 2, 3]);
    await settle(env, sims, [1, 2, 3, 4]);
    expect(sims.map(storesOf)).toEqual(Array(6).fill([1, 2, 3]));
    // store 3 dies; nothing happens while it is only disconnected
    for (let i = 0; i < 10; i++) {
      env.beatStores([1, 2, 4]);
      await env.pd.coordinator.tick();
      expect(await report(env, sims, [1, 2, 4])).toBe(false);
      env.clock.advance(2000);
    }
    expect(env.pd.cluster.storeStatus(3)).toBe('Disconnected');
    env.clock.advance(15_000);
    expect(env.pd.cluster.storeStatus(3)).toBe('Down');
    expect(env.pd.checkRegions('down-peer')).toHaveLength(6);
    await settle(env, sims, [1, 2, 4]);
    expect(sims.map(storesOf)).toEqual(Array(6).fill([1, 2, 4]));
    expect(sims.every((s) => s.meta.peers.every((p) => p.role === 'Voter'))).toBe(true);
    expect(env.pd.health().missPeerRegions).toBe(0);
  });

  it('drains an Offline store, then buries it as Tombstone', async () => {
    const env = await clusterEnv(4);
    await only(env, [REPLICA_CHECKER]);
    const sims = layout(4, [1, 2, 3], () => 3);
    await report(env, sims, [1, 2, 3, 4]);
    await env.pd.cluster.deleteStore(3);
    await settle(env, sims, [1, 2, 3, 4]);
    expect(sims.map(storesOf)).toEqual(Array(4).fill([1, 2, 4]));
    expect(sims.every((s) => s.leader.storeId !== 3)).toBe(true);
    expect(env.pd.cluster.storeStatus(3)).toBe('Tombstone');
  });

  it('adds missing replicas, removes extra ones and promotes stray learners', async () => {
    const env = await clusterEnv(4);
    await only(env, [REPLICA_CHECKER]);
    const one = layout(1, [1])[0]!;
    await settle(env, [one], [1, 2, 3, 4]);
    expect(one.meta.peers.filter((p) => p.role === 'Voter')).toHaveLength(3);

    const env2 = await clusterEnv(4);
    await only(env2, [REPLICA_CHECKER]);
    const four = layout(1, [1, 2, 3, 4])[0]!;
    await settle(env2, [four], [1, 2, 3, 4]);
    expect(four.meta.peers).toHaveLength(3);
    expect(four.meta.peers.some((p) => p.storeId === four.leader.storeId)).toBe(true);

    const env3 = await clusterEnv(3);
    await only(env3, [REPLICA_CHECKER]);
    const withLearner = layout(1, [1, 2])[0]!;
    withLearner.meta.peers.push(peer(199, 3, 'Learner'));
    await report(env3, [withLearner], [1, 2, 3]);
    const ops = await env3.pd.coordinator.patrol();
    expect(ops.map((o) => o.desc)).toEqual(['promote learner of region 1 on store 3']);
  });
});

describe('balance-leader', () => {
  it('spreads leaders until the gap is within the tolerance', async () => {
    const env = await clusterEnv(3);
    await only(env, [BALANCE_LEADER]);
    const sims = layout(9, [1, 2, 3]);
    expect(leaderCounts(sims, [1, 2, 3])).toEqual([9, 0, 0]);
    await settle(env, sims, [1, 2, 3]);
    const counts = leaderCounts(sims, [1, 2, 3]);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('does nothing when disabled, and skips stores that are not Up', async () => {
    const env = await clusterEnv(3, { storeDisconnectMs: 1000 });
    await only(env, []);
    const sims = layout(6, [1, 2, 3]);
    await settle(env, sims, [1, 2, 3]);
    expect(leaderCounts(sims, [1, 2, 3])).toEqual([6, 0, 0]);
    await only(env, [BALANCE_LEADER]);
    env.clock.advance(2000);
    await settle(env, sims, [1, 2]); // store 3 silent: Disconnected
    expect(leaderCounts(sims, [1, 2, 3])).toEqual([3, 3, 0]);
  });
});

describe('balance-region', () => {
  it('moves replicas onto an empty store until region counts are within the tolerance', async () => {
    const env = await clusterEnv(4);
    await only(env, [BALANCE_REGION]);
    const sims = layout(8, [1, 2, 3]);
    await settle(env, sims, [1, 2, 3, 4]);
    const counts = [1, 2, 3, 4].map((id) => sims.filter((s) => s.meta.peers.some((p) => p.storeId === id)).length);
    expect(counts.reduce((a, b) => a + b)).toBe(24);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(2);
    expect(sims.every((s) => s.meta.peers.length === 3 && s.meta.peers.every((p) => p.role === 'Voter'))).toBe(true);
  });
});

describe('balance-region by size', () => {
  it('balances region data, not just counts: big regions weigh more', async () => {
    const env = await clusterEnv(4);
    await only(env, [BALANCE_REGION]);
    // 4 regions on stores 1,2,3 plus 4 on stores 2,3,4: equal counts on 2 and 3, but
    // the first four are 64 MiB each and the others 1 MiB, so store 1 holds far more data than 4
    const big = layout(8, [1, 2, 3]).slice(0, 4);
    const small = layout(8, [2, 3, 4]).slice(4);
    const sims = [...big, ...small];
    const size = (s: SimRegion) => ({ approximateSize: (s.meta.id <= 4 ? 64 : 1) << 20 });
    const dataOn = (id: number) => sims.filter((s) => s.meta.peers.some((p) => p.storeId === id)).reduce((a, s) => a + (s.meta.id <= 4 ? 64 : 1), 0);
    expect([1, 4].map(dataOn)).toEqual([256, 4]);
    await settle(env, sims, [1, 2, 3, 4], 80, size);
    const data = [1, 2, 3, 4].map(dataOn);
    expect(Math.max(...data) - Math.min(...data)).toBeLessThanOrEqual(64 + 2 * 33); // within one big region plus the tolerance
    expect(dataOn(4)).toBeGreaterThanOrEqual(64);
  });
});

describe('hot-region', () => {
  it('moves the leader of a write-hot region off the hottest store', async () => {
    const env = await clusterEnv(3, { hotRegionMinWriteRate: 1000, hotRegionCacheHitsThreshold: 2 });
    await only(env, [HOT_REGION]);
    const sims = layout(4, [1, 2, 3]);
    const hot = new Set([1, 2]);
    const flow = (s: SimRegion) => ({ flow: { bytesWritten: hot.has(s.meta.id) ? 100_000 : 0, bytesRead: 0, keysWritten: 0, keysRead: 0, intervalSeconds: 10 } });
    await settle(env, sims, [1, 2, 3], 20, flow);
    const hotLeaders = sims.filter((s) => hot.has(s.meta.id)).map((s) => s.leader.storeId);
    expect(new Set(hotLeaders).size).toBe(2); // the two hot regions no longer share a leader store
    expect(sims.filter((s) => !hot.has(s.meta.id)).every((s) => s.leader.storeId === 1)).toBe(true);
  });
});

describe('merge checker', () => {
  it('pairs a small region with its neighbour, and waits out split-merge-interval', async () => {
    const env = await clusterEnv(3, { splitMergeIntervalMs: 60_000 });
    await only(env, [MERGE_CHECKER]);
    const sims = layout(3, [1, 2, 3]);
    await report(env, sims, [1, 2, 3]);
    expect(await env.pd.coordinator.patrol()).toHaveLength(0); // PD just started
    env.clock.advance(60_001);
    env.beatStores();
    const ops = await env.pd.coordinator.patrol();
    expect(ops).toHaveLength(1);
    expect(ops[0]!.desc).toBe('merge region 1 into region 2');
    expect(env.pd.operators.get(2)?.steps[0]).toMatchObject({ type: 'mergeRegion', passive: true });
    // the leader of region 1 gets merge{target: region 2}
    const { command } = await env.pd.regionHeartbeat({ ...info(sims[0]!.meta), leader: sims[0]!.leader, term: 1 });
    expect(command?.command).toMatchObject({ kind: 'merge', target: { id: 2 } });
    // region 2 grows over region 1: both operators finish
    const merged = region(2, '', 'k003', sims[1]!.meta.peers, 3, 1);
    await env.pd.regionHeartbeat({ ...info(merged), leader: sims[1]!.leader, term: 1 });
    expect(env.pd.operators.list()).toHaveLength(0);
    expect(env.pd.operators.history().map((o) => o.status)).toEqual(['success', 'success']);
    expect(env.pd.cluster.getRegionById(1)).toBeUndefined();
  });
  it('lines up the peers of two small neighbours on different stores, then merges them', async () => {
    const env = await clusterEnv(4);
    await only(env, [MERGE_CHECKER]);
    // region 1 on stores 1, 2, 3 (leader on store 1, which region 2 lacks); region 2 on 2, 3, 4
    const sims = [...layout(2, [1, 2, 3]).slice(0, 1), layout(2, [2, 3, 4], () => 2)[1]!];
    env.beatStores();
    await report(env, sims, [1, 2, 3, 4]);
    const ops = await env.pd.coordinator.patrol();
    expect(ops).toHaveLength(1);
    expect(ops[0]!.desc).toBe('merge region 1 into region 2 (peers moved first: stores 1 -> 4)');
    expect(ops[0]!.steps.map((s) => s.type)).toEqual(['addLearner', 'promoteLearner', 'transferLeader', 'removePeer', 'mergeRegion']);
    expect(env.pd.operators.get(2)?.steps[0]).toMatchObject({ type: 'mergeRegion', passive: true });

    // Heartbeats carry the operator step by step until the source's leader is asked to merge.
    let merge: Awaited<ReturnType<typeof env.pd.regionHeartbeat>>['command'];
    for (let i = 0; i < 20 && merge === undefined; i++) {
      env.beatStores();
      const { command } = await env.pd.regionHeartbeat({ ...info(sims[0]!.meta), leader: sims[0]!.leader, term: 1 });
      if (command?.command.kind === 'merge') merge = command;
      else if (command !== undefined) applyCommand(sims[0]!, command);
      await env.pd.coordinator.tick();
      env.clock.advance(500);
    }
    expect(merge?.command).toMatchObject({ kind: 'merge', target: { id: 2 } });
    expect(storesOf(sims[0]!)).toEqual([2, 3, 4]);
    expect(sims[0]!.leader.storeId).toBe(4);
    expect(merge?.targetPeer.storeId).toBe(4);
    // region 2 grows over region 1: both operators finish
    await env.pd.regionHeartbeat({ ...info(region(2, '', '', sims[1]!.meta.peers, 3, 1)), leader: sims[1]!.leader, term: 1 });
    expect(env.pd.operators.list()).toHaveLength(0);
    expect(env.pd.operators.history().map((o) => o.status)).toEqual(['success', 'success']);
  });

  it('leaves neighbours alone when the target cannot be matched (a target store is down)', async () => {
    const env = await clusterEnv(4, { storeDisconnectMs: 1_000, maxMergeRegionSizeMib: 1 });
    await only(env, [MERGE_CHECKER]);
    const sims = [...layout(2, [1, 2, 3]).slice(0, 1), layout(2, [2, 3, 4], () => 2)[1]!];
    env.beatStores();
    // region 2 is too big to be a source; region 1 may only merge into it
    await report(env, sims, [1, 2, 3, 4], (x) => ({ approximateSize: x.meta.id === 2 ? 8 << 20 : 1024 }));
    env.clock.advance(5_000);
    env.beatStores([1, 2, 3]);
    expect(await env.pd.coordinator.patrol()).toHaveLength(0);
    // store 4 back: the merge is scheduled, moving region 1's peer from store 1 to store 4
    env.beatStores();
    const ops = await env.pd.coordinator.patrol();
    expect(ops.map((o) => o.desc)).toEqual(['merge region 1 into region 2 (peers moved first: stores 1 -> 4)']);
  });
});

describe('scheduler registry', () => {
  it('switches checkers and schedulers at run time and keeps the choice across restart', async () => {
    const env = await clusterEnv(1);
    expect(env.pd.coordinator.list().every((e) => e.enabled)).toBe(true);
    await env.pd.coordinator.setEnabled(BALANCE_REGION, false);
    await expect(env.pd.coordinator.setEnabled('nope', true)).rejects.toMatchObject({ code: 'PD:schedule:ErrSchedulerNotFound' });
    const again = await PlacementDriver.open({ engine: env.engine, clock: env.clock });
    expect(again.coordinator.list().find((e) => e.name === BALANCE_REGION)?.enabled).toBe(false);
    expect(again.coordinator.list().find((e) => e.name === BALANCE_LEADER)?.enabled).toBe(true);
  });
});
