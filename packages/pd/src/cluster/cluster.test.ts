import { ManualClock } from '@mrkv/common';
import { openMemoryKvEngine } from '@mrkv/engine';
import { describe, expect, it } from 'vitest';
import { clusterEnv, ZERO_STATS } from '../__tests__/cluster-env.js';
import { k, peer, region, store } from '../__tests__/fixtures.js';
import { PlacementDriver } from '../pd.js';

describe('Cluster', () => {
  it('bootstraps once and refuses a second bootstrap', async () => {
    const { pd } = await clusterEnv(1);
    expect(pd.cluster.bootstrapped).toBe(true);
    await expect(pd.cluster.bootstrap(store(2), region(9, '', '', [peer(91, 2)]))).rejects.toMatchObject({ code: 'PD:cluster:ErrAlreadyBootstrapped' });
  });

  it('admits exactly one of concurrent bootstraps (stores starting together)', async () => {
    const pd = await PlacementDriver.open({ engine: openMemoryKvEngine(), clock: new ManualClock(0, 1_700_000_000_000), newClusterId: 7 });
    const results = await Promise.allSettled([1, 2, 3, 4].map((id) => pd.cluster.bootstrap(store(id), region(id * 10, '', '', [peer(id * 10 + 1, id)]))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'PD:cluster:ErrAlreadyBootstrapped' });
    const winner = results.findIndex((r) => r.status === 'fulfilled') + 1;
    expect(pd.cluster.regions.all().map((r) => r.meta.id)).toEqual([winner * 10]);
    expect(pd.cluster.allStores().map((s) => s.meta.id)).toEqual([winner]);
  });

  it('validates the bootstrap request', async () => {
    const pd = await PlacementDriver.open({ engine: openMemoryKvEngine(), clock: new ManualClock() });
    await expect(pd.cluster.bootstrap(store(1), region(1, 'a', '', [peer(11, 1)]))).rejects.toMatchObject({ code: 'PD:core:ErrInvalidValue' });
    await expect(pd.cluster.bootstrap(store(1), region(1, '', '', [peer(11, 2)]))).rejects.toMatchObject({ code: 'PD:core:ErrInvalidValue' });
    await expect(pd.cluster.putStore(store(1))).rejects.toMatchObject({ code: 'PD:cluster:ErrNotBootstrapped' });
  });

  it('registers stores, refuses tombstones and duplicate addresses', async () => {
    const { pd } = await clusterEnv(3);
    expect(pd.cluster.allStores().map((s) => s.meta.id)).toEqual([1, 2, 3]);
    await expect(pd.cluster.putStore({ ...store(4), address: store(2).address })).rejects.toMatchObject({ code: 'PD:core:ErrInvalidValue' });
    await pd.cluster.deleteStore(3, true);
    await expect(pd.cluster.putStore(store(3))).rejects.toMatchObject({ code: 'PD:core:ErrStoreTombstone' });
    expect(() => pd.cluster.storeHeartbeat(3, ZERO_STATS)).toThrow(expect.objectContaining({ code: 'PD:core:ErrStoreTombstone' }));
    expect(() => pd.cluster.storeHeartbeat(99, ZERO_STATS)).toThrow(expect.objectContaining({ code: 'PD:core:ErrStoreNotFound' }));
  });

  it('derives store states from heartbeat silence', async () => {
    const env = await clusterEnv(2, { storeDisconnectMs: 1000, maxStoreDownMs: 5000 });
    env.clock.advance(1500);
    env.beatStores([1]);
    expect(env.pd.cluster.storeStatus(1)).toBe('Up');
    expect(env.pd.cluster.storeStatus(2)).toBe('Disconnected');
    env.clock.advance(5000);
    expect(env.pd.cluster.storeStatus(2)).toBe('Down');
    await env.pd.cluster.deleteStore(2);
    expect(env.pd.cluster.storeStatus(2)).toBe('Offline');
  });

  it('applies splits from heartbeats, drops stale ones, and persists across restart', async () => {
    const env = await clusterEnv(1);
    await env.beat(region(1, '', '', [peer(101, 1)]));
    // split: region 2 takes ['', 'm'), region 1 keeps ['m', '') with version 2
    const ids = await env.pd.cluster.askBatchSplit(region(1, '', '', [peer(101, 1)]), 1);
    expect(ids).toHaveLength(1);
    expect(ids[0]!.newPeerIds).toHaveLength(1);
    const left = region(ids[0]!.newRegionId, '', 'm', [peer(ids[0]!.newPeerIds[0]!, 1)], 2);
    await env.pd.cluster.reportBatchSplit([left, region(1, 'm', '', [peer(101, 1)], 2)]);
    expect(env.pd.cluster.getRegionByKey(k('a'))?.meta.id).toBe(left.id);
    expect(env.pd.cluster.getRegionByKey(k('x'))?.meta.id).toBe(1);
    // the pre-split parent comes late: stale
    await expect(env.beat(region(1, '', '', [peer(101, 1)], 1))).rejects.toMatchObject({ code: 'PD:core:ErrRegionStale' });
    await expect(env.pd.cluster.askBatchSplit(region(1, '', '', [peer(101, 1)], 1), 1)).rejects.toMatchObject({ code: 'PD:core:ErrRegionStale' });
    // restart on the same engine
    const again = await PlacementDriver.open({ engine: env.engine, clock: env.clock });
    expect(again.cluster.clusterId).toBe(42);
    expect(again.cluster.regions.all().map((r) => r.meta.id)).toEqual([left.id, 1]);
    expect(again.cluster.allStores().map((s) => s.meta.id)).toEqual([1]);
    expect(await again.ids.alloc()).toBeGreaterThan(ids[0]!.newPeerIds[0]!);
  });

  it('rejects malformed heartbeats with typed errors', async () => {
    const env = await clusterEnv(2);
    await expect(env.beat(region(1, '', '', [peer(101, 1)]), { leader: peer(555, 2) })).rejects.toMatchObject({ code: 'PD:core:ErrInvalidValue' });
    await expect(env.beat(region(1, '', '', [peer(101, 1), peer(102, 1)]))).rejects.toMatchObject({ code: 'PD:core:ErrInvalidValue' });
    await expect(env.beat(region(1, 'b', 'a', [peer(101, 1)]))).rejects.toMatchObject({ code: 'PD:core:ErrInvalidValue' });
  });

  it('keeps config changes across restart and refuses bad values', async () => {
    const env = await clusterEnv(1);
    await env.pd.cluster.setConfig('max-store-down-time', '5s');
    await expect(env.pd.cluster.setConfig('max-replicas', 'lots')).rejects.toMatchObject({ code: 'PD:core:ErrInvalidValue' });
    await expect(env.pd.cluster.setConfig('no-such-key', '1')).rejects.toMatchObject({ code: 'PD:config:ErrUnknownKey' });
    const again = await PlacementDriver.open({ engine: env.engine, clock: env.clock });
    expect(again.cluster.config.maxStoreDownMs).toBe(5000);
  });
});
