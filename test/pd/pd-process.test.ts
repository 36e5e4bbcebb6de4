/**
 * mrkv-pd as a real process: bootstrap and heartbeats over gRPC, SIGTERM and SIGKILL restarts on
 * the same data directory (regions, stores and the cluster id kept; TSO never goes backwards),
 * /metrics, and wire compatibility with the store's own PD client (GrpcStorePd).
 */
import { GrpcStorePd } from '@mrkv/store-server';
import { createPdAdminClient, newStore, type pdadmin, type pdpb } from '@mrkv/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdProcess } from './pd-process.js';
import { eventually, SimCluster, storeMeta, unary, waitFor } from './sim-store.js';

function tsoValues(sim: SimCluster, n: number): Promise<bigint[]> {
  return new Promise((resolve, reject) => {
    const s = sim.client.Tso();
    const out: bigint[] = [];
    s.on('data', (r: pdpb.TsoResponse__Output) => {
      out.push((BigInt(r.timestamp!.physical) << 18n) | BigInt(r.timestamp!.logical));
      if (out.length === n) {
        s.end();
        resolve(out);
      }
    });
    s.on('error', reject);
    for (let i = 0; i < n; i++) s.write({ header: sim.header, count: 1 });
  });
}

describe('mrkv-pd process', () => {
  let pd: PdProcess;
  beforeAll(async () => {
    pd = await PdProcess.start();
  });
  afterAll(() => pd?.cleanup());

  it('keeps regions, stores and the cluster id across SIGTERM and SIGKILL restarts; TSO never goes backwards', async () => {
    let sim = new SimCluster(pd.addr);
    await sim.connect();
    const clusterId = sim.clusterId;
    const first = await sim.bootstrap(1);
    for (const id of [2, 3]) await sim.putStore(id);
    // split the first region into three by report, then heartbeat one with a leader
    const ids = await unary<pdpb.AskBatchSplitResponse__Output>(sim.client, 'AskBatchSplit', { header: sim.header, region: first, splitCount: 2 });
    const ep = { confVer: 1, version: 3 };
    const regions = [
      { id: Number(ids.ids[0]!.newRegionId), startKey: Buffer.from(''), endKey: Buffer.from('g'), regionEpoch: ep, peers: [{ id: Number(ids.ids[0]!.newPeerIds[0]), storeId: 1 }] },
      { id: Number(ids.ids[1]!.newRegionId), startKey: Buffer.from('g'), endKey: Buffer.from('p'), regionEpoch: ep, peers: [{ id: Number(ids.ids[1]!.newPeerIds[0]), storeId: 1 }] },
      { ...first!, startKey: Buffer.from('p'), regionEpoch: ep },
    ];
    await unary(sim.client, 'ReportBatchSplit', { header: sim.header, regions });
    const before = await tsoValues(sim, 20);
    for (let i = 1; i < before.length; i++) expect(before[i]! > before[i - 1]!).toBe(true);
    const scanBefore = await unary<pdpb.ScanRegionsResponse__Output>(sim.client, 'ScanRegions', { header: sim.header, startKey: Buffer.alloc(0) });
    expect(scanBefore.regions).toHaveLength(3);
    sim.close();

    expect(await pd.stop()).toEqual({ code: 0, signal: null });
    expect(pd.logs().some((l) => l.msg === 'mrkv-pd stopped')).toBe(true);
    pd = await pd.restart();
    sim = new SimCluster(pd.addr);
    await sim.connect();
    expect(sim.clusterId).toBe(clusterId);
    const afterTerm = await tsoValues(sim, 5);
    expect(afterTerm[0]! > before[before.length - 1]!).toBe(true);
    const scan = await unary<pdpb.ScanRegionsResponse__Output>(sim.client, 'ScanRegions', { header: sim.header, startKey: Buffer.alloc(0) });
    expect(scan.regions.map((r) => [r.region!.id, Buffer.from(r.region!.startKey).toString(), r.region!.regionEpoch])).toEqual(
      scanBefore.regions.map((r) => [r.region!.id, Buffer.from(r.region!.startKey).toString(), r.region!.regionEpoch]),
    );
    const stores = await unary<pdpb.GetAllStoresResponse__Output>(sim.client, 'GetAllStores', { header: sim.header });
    expect(stores.stores.map((s) => s.id).sort()).toEqual(['1', '2', '3']);
    const idAfter = await sim.allocId();
    expect(idAfter).toBeGreaterThan(Number(ids.ids[1]!.newPeerIds[0]));
    sim.close();

    // a crash: the persisted TSO bound still keeps time moving forward
    await pd.kill();
    pd = await pd.restart();
    sim = new SimCluster(pd.addr);
    await sim.connect();
    const afterCrash = await tsoValues(sim, 3);
    expect(afterCrash[0]! > afterTerm[afterTerm.length - 1]!).toBe(true);
    expect((await unary<pdpb.ScanRegionsResponse__Output>(sim.client, 'ScanRegions', { header: sim.header, startKey: Buffer.alloc(0) })).regions).toHaveLength(3);
    sim.close();

    const metrics = await pd.http('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^mrkv_pd_regions 3$/m);
    const status = JSON.parse((await pd.http('/status')).body) as { clusterId: string; bootstrapped: boolean };
    expect(status).toMatchObject({ clusterId, bootstrapped: true });
  });

  it('speaks the protocol the store\'s own PD client expects (GrpcStorePd)', async () => {
    const store = await GrpcStorePd.connect({ endpoints: [pd.addr] });
    try {
      expect(await store.isBootstrapped()).toBe(true);
      const storeId = await store.allocId();
      await store.putStore({ ...storeFromMeta(storeId) });
      expect((await store.getStore(storeId)).address).toBe(storeMeta(storeId)!.address);
      const again = await store.bootstrapCluster(storeFromMeta(storeId), { id: 999_999, startKey: new Uint8Array(), endKey: new Uint8Array(), regionEpoch: { confVer: 1, version: 1 }, peers: [{ id: 999_998, storeId, role: 'Voter' }] });
      expect(again).toBe('alreadyBootstrapped');
      const firstRegion = await store.getFirstRegion();
      expect(firstRegion?.startKey).toEqual(new Uint8Array());
      await store.storeHeartbeat({ storeId, capacity: 1, available: 1, usedSize: 0, regionCount: 0, sendingSnapCount: 0, receivingSnapCount: 0, applyingSnapCount: 0, startTime: 0, bytesWritten: 0, keysWritten: 0, bytesRead: 0, keysRead: 0, isBusy: false, intervalStart: 0, intervalEnd: 10 });
      // report the first region on this client's heartbeat stream, then add a peer by admin:
      // the command comes back through GrpcStorePd's conversion (heartbeatResponseFromWire)
      const region = firstRegion!;
      const got: Array<{ regionId: number; operator: { kind: string; peer?: { storeId: number } } }> = [];
      store.onHeartbeatResponse((r) => got.push(r as (typeof got)[number]));
      const admin = createPdAdminClient(pd.addr);
      try {
        // only the admin operator may act on the region (the replica checker would add peers too)
        await unary(admin, 'SetScheduler', { name: 'replica-checker', enabled: false });
        store.regionHeartbeat({ region, leader: { ...region.peers[0]! }, term: 2, downPeers: [], pendingPeers: [], bytesWritten: 0, keysWritten: 0, bytesRead: 0, keysRead: 0, approximateSize: 0, approximateKeys: 0, intervalStart: 0, intervalEnd: 10 });
        await eventually(() => unary<pdadmin.RegionView__Output>(admin, 'GetRegion', { regionId: region.id }), (v) => v.leader != null, 10_000, 'the heartbeat to be processed');
        await unary(admin, 'AddOperator', { addPeer: { regionId: region.id, storeId } });
        await waitFor(() => got.some((r) => r.operator.peer?.storeId === storeId), 10_000, 'an operator through GrpcStorePd');
        expect(got.find((r) => r.operator.peer?.storeId === storeId)).toMatchObject({
          regionId: region.id,
          targetPeer: region.peers[0],
          operator: { kind: 'changePeer', changeType: 'AddLearnerNode', peer: { storeId, role: 'Learner' } },
        });
      } finally {
        admin.close();
      }
    } finally {
      store.close();
    }
  });
});

function storeFromMeta(id: number) {
  return newStore(id, storeMeta(id)!.address!, { version: '0.1.0' });
}
