import { describe, expect, it } from 'vitest';
import { clusterEnv } from './__tests__/cluster-env.js';
import { k, peer, region } from './__tests__/fixtures.js';
import { REPLICA_CHECKER } from './schedule/checkers/replica-checker.js';

describe('PlacementDriver', () => {
  it('finishes a split operator on the split report, with leaders taken from the parent', async () => {
    const env = await clusterEnv(3);
    const r = region(1, '', '', [peer(101, 1), peer(102, 2), peer(103, 3)], 1, 3);
    await env.beat(r, { leader: peer(102, 2) });
    const op = await env.pd.addAdminOperator({ type: 'split', regionId: 1, policy: 'USEKEY', keys: [k('m')] });
    const { command } = await env.beat(r, { leader: peer(102, 2) });
    expect(command?.command).toEqual({ kind: 'splitRegion', policy: 'USEKEY', keys: [k('m')] });
    const ids = await env.pd.cluster.askBatchSplit(r, 1);
    const left = region(ids[0]!.newRegionId, '', 'm', ids[0]!.newPeerIds.map((id, i) => peer(id, i + 1)), 2, 3);
    await env.pd.reportBatchSplit([left, region(1, 'm', '', r.peers, 2, 3)]);
    expect(op.status).toBe('success');
    expect(env.pd.cluster.getRegionByKey(k('a'))?.leader?.storeId).toBe(2);
    expect(env.pd.cluster.getRegionByKey(k('z'))?.leader?.storeId).toBe(2);
  });

  it('refuses admin operators that make no sense, with reasons', async () => {
    const env = await clusterEnv(3);
    await env.pd.coordinator.setEnabled(REPLICA_CHECKER, false);
    const r = region(1, '', '', [peer(101, 1), peer(102, 2)], 1, 2);
    await env.beat(r);
    await expect(env.pd.addAdminOperator({ type: 'transfer-leader', regionId: 1, toStore: 1 })).rejects.toThrow(/already on store 1/);
    await expect(env.pd.addAdminOperator({ type: 'transfer-leader', regionId: 1, toStore: 3 })).rejects.toThrow(/no peer on store 3/);
    await expect(env.pd.addAdminOperator({ type: 'add-peer', regionId: 1, storeId: 2 })).rejects.toThrow(/already has a peer on store 2/);
    await expect(env.pd.addAdminOperator({ type: 'add-peer', regionId: 1, storeId: 9 })).rejects.toMatchObject({ code: 'PD:core:ErrStoreNotFound' });
    await expect(env.pd.addAdminOperator({ type: 'remove-peer', regionId: 7, storeId: 2 })).rejects.toMatchObject({ code: 'PD:core:ErrRegionNotFound' });
    await expect(env.pd.addAdminOperator({ type: 'split', regionId: 1, policy: 'USEKEY', keys: [] })).rejects.toThrow(/needs at least one key/);
    await expect(env.pd.addAdminOperator({ type: 'merge', sourceId: 1, targetId: 1 })).rejects.toThrow(/not adjacent/);
    const rm = await env.pd.addAdminOperator({ type: 'remove-peer', regionId: 1, storeId: 1 });
    expect(rm.steps.map((s) => s.type)).toEqual(['transferLeader', 'removePeer']);
  });

  it('summarizes health and region checks', async () => {
    const env = await clusterEnv(3, { storeDisconnectMs: 1000, maxStoreDownMs: 5000 });
    await env.pd.coordinator.setEnabled(REPLICA_CHECKER, false);
    await env.beat(region(1, '', 'm', [peer(101, 1), peer(102, 2)], 2, 2), { pendingPeers: [peer(102, 2)] });
    await env.beat(region(2, 'm', '', [peer(201, 1), peer(202, 2), peer(203, 3, 'Learner')], 2, 3));
    expect(env.pd.checkRegions('miss-peer').map((r) => r.meta.id)).toEqual([1, 2]);
    expect(env.pd.checkRegions('pending-peer').map((r) => r.meta.id)).toEqual([1]);
    expect(env.pd.checkRegions('learner-peer').map((r) => r.meta.id)).toEqual([2]);
    env.clock.advance(6000);
    env.beatStores([1, 2]);
    expect(env.pd.checkRegions('down-peer').map((r) => r.meta.id)).toEqual([2]);
    const h = env.pd.health();
    expect(h.healthy).toBe(false);
    expect(h.storeStates).toEqual({ Up: 2, Disconnected: 0, Down: 1, Offline: 0, Tombstone: 0 });
    expect(h.problems).toEqual(expect.arrayContaining(['1 store(s) Down', '2 region(s) missing replicas']));
  });
});
