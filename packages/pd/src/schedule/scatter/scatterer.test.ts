/**
 * ScatterRegions through a PlacementDriver on a memory engine: operators go through the operator
 * controller and are run to completion by the toy store (sim-store.ts), after which peers and
 * leaders are even over the stores; regions that cannot move are skipped with a reason; the
 * schedule limit and the request checks hold.
 */
import { describe, expect, it } from 'vitest';
import { SeededRng } from '@mrkv/common';
import { openMemoryKvEngine } from '@mrkv/engine';
import type { Peer } from '@mrkv/proto';
import { clusterEnv, type Env } from '../../__tests__/cluster-env.js';
import { info, peer, region } from '../../__tests__/fixtures.js';
import { applyCommand, type SimRegion } from '../../__tests__/sim-store.js';
import { PdErrorCodes } from '../../errors.js';
import { PlacementDriver } from '../../pd.js';
import { MERGE_CHECKER } from '../checkers/merge-checker.js';
import { REPLICA_CHECKER } from '../checkers/replica-checker.js';
import { BALANCE_LEADER } from '../schedulers/balance-leader.js';
import { BALANCE_REGION } from '../schedulers/balance-region.js';
import { HOT_REGION } from '../schedulers/hot-region.js';
import { SCATTER_GROUP_TTL_MS, SCATTER_SOURCE } from './scatterer.js';

/** `n` regions over the key space, all on `stores`, leader on the first. */
function layout(n: number, stores: number[]): SimRegion[] {
  return Array.from({ length: n }, (_, j) => {
    const i = j + 1;
    const peers: Peer[] = stores.map((s) => peer(i * 100 + s, s));
    const meta = region(i, i === 1 ? '' : `k${String(i).padStart(3, '0')}`, i === n ? '' : `k${String(i + 1).padStart(3, '0')}`, peers, 2, 1);
    return { meta, leader: peers[0]! };
  });
}

/** PD with 5 stores, nothing scheduling on its own, and the regions of `sims` heartbeated in. */
async function env5(sims: SimRegion[], seed = 1): Promise<Env> {
  const env = await clusterEnv(5, {}, openMemoryKvEngine());
  // the same cluster, reopened by a PD whose scatter ties are broken by `seed`
  const pd = await PlacementDriver.open({ engine: env.engine, clock: env.clock, rng: new SeededRng(seed), configOverrides: { splitMergeIntervalMs: 0 } });
  for (const n of [REPLICA_CHECKER, MERGE_CHECKER, BALANCE_LEADER, BALANCE_REGION, HOT_REGION]) await pd.coordinator.setEnabled(n, false);
  const e: Env = { ...env, pd, beat: (r, extra = {}) => pd.regionHeartbeat({ ...info(r), term: 1, ...extra }) };
  e.beatStores();
  for (const s of sims) await e.pd.regionHeartbeat({ ...info(s.meta), leader: s.leader, term: 1 });
  return e;
}

/** Heartbeat → command → apply rounds until no operator runs. */
async function runToEnd(env: Env, sims: SimRegion[]): Promise<void> {
  for (let round = 0; round < 60; round++) {
    env.beatStores();
    for (const s of sims) {
      const { command } = await env.pd.regionHeartbeat({ ...info(s.meta), leader: s.leader, term: 1 });
      if (command !== undefined) applyCommand(s, command);
    }
    await env.pd.coordinator.tick();
    env.clock.advance(500);
    if (env.pd.operators.list().length === 0) return;
  }
  throw new Error(`operators still running: ${env.pd.operators.list().map((o) => o.toString()).join('; ')}`);
}

const perStore = (sims: SimRegion[], pick: (s: SimRegion) => number[]) => [1, 2, 3, 4, 5].map((id) => sims.filter((s) => pick(s).includes(id)).length);
const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);

describe('RegionScatterer through the PlacementDriver', () => {
  it('spreads 8 regions on stores 1-3 over 5 stores: peers and leaders even once the operators ran', async () => {
    for (const seed of [1, 2, 3]) {
      const sims = layout(8, [1, 2, 3]);
      const env = await env5(sims, seed);
      const out = await env.pd.scatterRegions({});
      expect(out.group).toBe('');
      expect(out.operators.length + out.skipped.length).toBe(8);
      expect(out.skipped.every((s) => s.code === 'in-place'), JSON.stringify(out.skipped)).toBe(true);
      expect(out.operators.every((o) => o.kind === 'scatter' && o.source === SCATTER_SOURCE)).toBe(true);
      expect(new Set(out.operators.map((o) => o.regionId)).size).toBe(out.operators.length);
      await runToEnd(env, sims);
      expect(env.pd.operators.history().filter((o) => o.kind === 'scatter').every((o) => o.status === 'success')).toBe(true);
      const peers = perStore(sims, (s) => s.meta.peers.map((p) => p.storeId));
      const leaders = perStore(sims, (s) => [s.leader.storeId]);
      expect(sims.every((s) => s.meta.peers.length === 3 && s.meta.peers.every((p) => p.role === 'Voter'))).toBe(true);
      expect(spread(peers), `seed ${seed} peers ${peers.join(',')}`).toBeLessThanOrEqual(1);
      expect(spread(leaders), `seed ${seed} leaders ${leaders.join(',')}`).toBeLessThanOrEqual(1);
      // PD's own map agrees with the toy stores
      const loads = env.pd.cluster.storeLoads();
      expect([1, 2, 3, 4, 5].map((id) => loads.get(id)!.regionCount)).toEqual(peers);
    }
  });

  it('skips regions that cannot move now, with a reason each, and scatters the rest', async () => {
    const sims = layout(7, [1, 2, 3]);
    const env = await env5(sims);
    // region 1: an operator runs; 2: a pending peer; 3: a learner; 4: a down peer; 5: 2 voters
    await env.pd.addAdminOperator({ type: 'transfer-leader', regionId: 1, toStore: 2 });
    await env.pd.regionHeartbeat({ ...info(sims[1]!.meta), leader: sims[1]!.leader, term: 1, pendingPeers: [sims[1]!.meta.peers[2]!] });
    sims[2]!.meta = { ...sims[2]!.meta, peers: [...sims[2]!.meta.peers, peer(399, 4, 'Learner')], regionEpoch: { version: 2, confVer: 2 } };
    await env.pd.regionHeartbeat({ ...info(sims[2]!.meta), leader: sims[2]!.leader, term: 1 });
    await env.pd.regionHeartbeat({ ...info(sims[3]!.meta), leader: sims[3]!.leader, term: 1, downPeers: [{ peer: sims[3]!.meta.peers[1]!, downSeconds: 30 }] });
    sims[4]!.meta = { ...sims[4]!.meta, peers: sims[4]!.meta.peers.slice(0, 2), regionEpoch: { version: 2, confVer: 2 } };
    await env.pd.regionHeartbeat({ ...info(sims[4]!.meta), leader: sims[4]!.leader, term: 1 });
    const out = await env.pd.scatterRegions({ regionIds: [1, 2, 3, 4, 5, 6, 7, 77] });
    const codes = Object.fromEntries(out.skipped.map((s) => [s.regionId, s.code]));
    expect(codes).toMatchObject({ 1: 'has-operator', 2: 'pending-peer', 3: 'learner', 4: 'down-peer', 5: 'replica-count', 77: 'not-found' });
    expect(out.skipped.find((s) => s.regionId === 5)!.reason).toBe('has 2 voters, max-replicas is 3');
    expect(out.skipped.find((s) => s.regionId === 1)!.reason).toMatch(/^already has an operator: transfer leader/);
    expect(out.skipped.find((s) => s.regionId === 2)!.reason).toBe('has a pending peer 203 on store 3');
    // 6 is the group's first region and stays; 7 moves
    expect(codes[6]).toBe('in-place');
    expect(out.operators.map((o) => o.regionId)).toEqual([7]);
    // the running operator was left alone (scatter never replaces one)
    expect(env.pd.operators.get(1)!.source).toBe('admin');
  });

  it('stops at region-schedule-limit running scatter operators', async () => {
    const sims = layout(8, [1, 2, 3]);
    const env = await env5(sims);
    await env.pd.cluster.setConfig('region-schedule-limit', '2');
    const out = await env.pd.scatterRegions({ startKey: new Uint8Array(0), endKey: new Uint8Array(0) });
    expect(out.operators).toHaveLength(2);
    expect(out.skipped.filter((s) => s.code === 'limit').length).toBeGreaterThan(0);
    expect(out.skipped.find((s) => s.code === 'limit')!.reason).toBe('region-schedule-limit reached (2 scatter operators running)');
  });

  it('continues a named group across calls: one region per call spreads as evenly as one call', async () => {
    const sims = layout(8, [1, 2, 3]);
    const env = await env5(sims, 5);
    for (const s of sims) await env.pd.scatterRegions({ regionIds: [s.meta.id], group: 'import-1' });
    expect(env.pd.scatterer.group('import-1')!.placed).toBe(8);
    await runToEnd(env, sims);
    expect(spread(perStore(sims, (s) => s.meta.peers.map((p) => p.storeId)))).toBeLessThanOrEqual(1);
    expect(spread(perStore(sims, (s) => [s.leader.storeId]))).toBeLessThanOrEqual(1);
    // an idle group is forgotten
    env.clock.advance(SCATTER_GROUP_TTL_MS + 1);
    await env.pd.scatterRegions({ regionIds: [1], group: 'other' });
    expect(env.pd.scatterer.group('import-1')).toBeUndefined();
  });

  it('scatters only the regions overlapping the key range', async () => {
    const sims = layout(8, [1, 2, 3]);
    const env = await env5(sims);
    const enc = (s: string) => new TextEncoder().encode(s);
    const out = await env.pd.scatterRegions({ startKey: enc('k003'), endKey: enc('k005') });
    expect([...out.operators.map((o) => o.regionId), ...out.skipped.map((s) => s.regionId)].sort()).toEqual([3, 4]);
  });

  it('refuses malformed requests with INVALID_VALUE', async () => {
    const env = await env5(layout(2, [1, 2, 3]));
    const enc = (s: string) => new TextEncoder().encode(s);
    const bad = [
      { regionIds: [1], startKey: enc('a') },
      { startKey: enc('b'), endKey: enc('a') },
      { regionIds: [0] },
      { regionIds: [1.5] },
      { regionIds: Array.from({ length: 10_001 }, (_, i) => i + 1) },
    ];
    for (const req of bad) await expect(env.pd.scatterRegions(req)).rejects.toMatchObject({ code: PdErrorCodes.INVALID_VALUE });
  });
});
