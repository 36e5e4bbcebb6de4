/**
 * Stores low on disk space (`isLowSpace`: available at the store's reserve, or past
 * `low-space-ratio`) take no new replicas from the replica checker, balance-region or scatter,
 * while replicas still move off them and leaders still move onto them.
 */
import { describe, expect, it } from 'vitest';
import { clusterEnv, ZERO_STATS, type Env } from '../__tests__/cluster-env.js';
import { layout, leaderCounts, only, report, settle, storesOf } from '../__tests__/sim-cluster.js';
import { isLowSpace } from '../core/store-info.js';
import { REPLICA_CHECKER } from './checkers/replica-checker.js';
import { BALANCE_LEADER } from './schedulers/balance-leader.js';
import { BALANCE_REGION } from './schedulers/balance-region.js';

const GiB = 1024 ** 3;
/** At or below its reserve: the store reports nothing available. */
const FULL = { capacity: 100 * GiB, available: 0 };
/** 90 % used, 10 GiB free, and past the 100-region grace of a new cluster. */
const NINETY_PERCENT_USED = { capacity: 100 * GiB, available: 10 * GiB, regionCount: 500 };

const peersOn = (sims: ReturnType<typeof layout>, id: number) => sims.filter((s) => storesOf(s).includes(id)).length;

async function withLowSpace(n: number, low: Record<number, object>, config = {}): Promise<Env> {
  const env = await clusterEnv(n, config);
  for (const [id, stats] of Object.entries(low)) env.statsOverrides.set(Number(id), stats);
  env.beatStores();
  return env;
}

describe('low disk space in scheduling', () => {
  it('replica checker: the missing replica goes to a store with space, not to the emptier full one', async () => {
    const env = await withLowSpace(4, { 3: FULL });
    await only(env, [REPLICA_CHECKER]);
    // store 4 holds 3 regions and store 3 none: on counts alone, store 3 would take the replica
    const sims = layout(4, [1, 2, 4]);
    const one = sims[0]!;
    one.meta = { ...one.meta, peers: one.meta.peers.filter((p) => p.storeId !== 4) };
    await settle(env, sims, [1, 2, 3, 4]);
    expect(storesOf(one)).toEqual([1, 2, 4]);
  });

  it('replica checker: no target at all while the only candidate is low on space, then one once it has space', async () => {
    const env = await withLowSpace(3, { 3: NINETY_PERCENT_USED });
    await only(env, [REPLICA_CHECKER]);
    const one = layout(1, [1, 2])[0]!;
    await report(env, [one], [1, 2, 3]);
    expect(await env.pd.coordinator.patrol()).toEqual([]);
    // low-space-ratio 0.95 makes 90 % used fine
    await env.pd.cluster.setConfig('low-space-ratio', '0.95');
    expect((await env.pd.coordinator.patrol()).map((o) => o.desc)).toEqual(['add peer on store 3 to region 1']);
  });

  it('an add-peer running towards a store that became low on space is cancelled, and not made again', async () => {
    const env = await withLowSpace(3, {});
    await only(env, [REPLICA_CHECKER]);
    const one = layout(1, [1, 2])[0]!;
    await report(env, [one], [1, 2, 3]);
    const [op] = await env.pd.coordinator.patrol();
    expect(op?.desc).toBe('add peer on store 3 to region 1');
    // store 3 fills up before the learner's snapshot is in
    env.statsOverrides.set(3, FULL);
    env.beatStores();
    await env.pd.coordinator.tick();
    expect(env.pd.operators.list()).toEqual([]);
    const [ended] = env.pd.operators.history();
    expect(ended?.status).toBe('cancelled');
    expect(ended?.reason).toContain('store 3 is low on disk space');
    expect(await env.pd.coordinator.patrol()).toEqual([]);
  });

  it('balance-region: never moves a replica onto a low-space store, but moves them off one', async () => {
    // store 4 is empty but full: nothing moves there
    const env = await withLowSpace(4, { 4: FULL });
    await only(env, [BALANCE_REGION]);
    const sims = layout(8, [1, 2, 3]);
    await settle(env, sims, [1, 2, 3, 4]);
    expect(peersOn(sims, 4)).toBe(0);
    expect(env.pd.operators.history()).toHaveLength(0);

    // store 1 is full and holds every region; store 4 has space: replicas leave store 1
    const env2 = await withLowSpace(4, { 1: FULL });
    await only(env2, [BALANCE_REGION]);
    const sims2 = layout(8, [1, 2, 3]);
    await settle(env2, sims2, [1, 2, 3, 4]);
    expect(peersOn(sims2, 4)).toBeGreaterThan(0);
    expect(peersOn(sims2, 1)).toBeLessThan(8);
  });

  it('balance-leader still moves leaders onto a low-space store (a leader takes no space), but not onto one with nothing left', async () => {
    const env = await withLowSpace(3, { 2: NINETY_PERCENT_USED, 3: NINETY_PERCENT_USED });
    await only(env, [BALANCE_LEADER]);
    const sims = layout(6, [1, 2, 3]);
    await settle(env, sims, [1, 2, 3]);
    expect(leaderCounts(sims, [1, 2, 3])).toEqual([2, 2, 2]);
    // at its reserve a store refuses leadership (as TiKV): balance-leader does not try
    const full = await withLowSpace(3, { 2: FULL, 3: FULL });
    await only(full, [BALANCE_LEADER]);
    const sims2 = layout(6, [1, 2, 3]);
    await settle(full, sims2, [1, 2, 3]);
    expect(leaderCounts(sims2, [1, 2, 3])).toEqual([6, 0, 0]);
    expect(full.pd.operators.history()).toHaveLength(0);
  });

  it('scatter: a low-space store gets no new peer; one the region already has there may stay', async () => {
    const env = await withLowSpace(5, { 4: FULL, 5: FULL });
    await only(env, []);
    const sims = layout(6, [1, 2, 5]);
    await report(env, sims, [1, 2, 3, 4, 5]);
    const out = await env.pd.scatterRegions({ regionIds: sims.map((s) => s.meta.id) });
    for (const op of out.operators) {
      for (const step of op.steps) if (step.type === 'addLearner') expect([4, 5]).not.toContain(step.storeId);
    }
    expect(out.operators.length + out.skipped.filter((s) => s.code === 'in-place').length).toBe(6);
  });

  it('isLowSpace reads the reported stats: reserve reached, ratio passed, grace for a new cluster, unknown', () => {
    const at = (stats: object | undefined) => ({ meta: { id: 1 } as never, stats: stats === undefined ? undefined : { ...ZERO_STATS, ...stats }, lastHeartbeatMs: 0 });
    expect(isLowSpace(at(FULL), 0.8)).toBe(true);
    expect(isLowSpace(at(NINETY_PERCENT_USED), 0.8)).toBe(true);
    expect(isLowSpace(at(NINETY_PERCENT_USED), 0.95)).toBe(false);
    expect(isLowSpace(at({ ...NINETY_PERCENT_USED, regionCount: 10 }), 0.8)).toBe(false); // few regions, > 8 GiB free
    expect(isLowSpace(at({ capacity: 100 * GiB, available: 5 * GiB, regionCount: 10 }), 0.8)).toBe(true);
    expect(isLowSpace(at({ capacity: 100 * GiB, available: 30 * GiB, regionCount: 500 }), 0.8)).toBe(false);
    expect(isLowSpace(at(undefined), 0.8)).toBe(false);
    expect(isLowSpace(at({ capacity: 0, available: 0 }), 0.8)).toBe(false);
  });

  it('low-space-ratio is a decimal config key in 0..1; integer keys still refuse decimals', async () => {
    const env = await clusterEnv(1);
    expect(env.pd.cluster.config.lowSpaceRatio).toBe(0.8);
    await env.pd.cluster.setConfig('low-space-ratio', '0.9');
    expect(env.pd.cluster.config.lowSpaceRatio).toBe(0.9);
    for (const bad of ['1.5', 'x', '-0.1', '0.9.1']) {
      await expect(env.pd.cluster.setConfig('low-space-ratio', bad)).rejects.toMatchObject({ code: 'PD:core:ErrInvalidValue' });
    }
    await expect(env.pd.cluster.setConfig('max-replicas', '2.5')).rejects.toMatchObject({ code: 'PD:core:ErrInvalidValue' });
  });
});
