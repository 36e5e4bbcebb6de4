import * as grpc from '@grpc/grpc-js';
import { regionInfoFromMeta } from '@mrkv/pd';
import type { pdadmin, pdpb } from '@mrkv/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, startInProcessPd, waitFor, type InProcessPd } from './__tests__/in-process.js';

const enc = (s: string) => Buffer.from(s);
const storeW = (id: number) => ({ id, address: `127.0.0.1:${20160 + id}`, version: '0.1.0' });

describe('pdpb.PD service', () => {
  let pd: InProcessPd;
  let h: { clusterId: string };
  beforeEach(async () => {
    pd = await startInProcessPd();
    h = { clusterId: pd.clusterId };
  });
  afterEach(async () => {
    await pd.close();
  });

  async function bootstrap(): Promise<void> {
    const storeId = (await call<pdpb.AllocIDResponse__Output>(pd.client, 'AllocID', { header: h })).id;
    // a block of two ids: the region id and the peer id (AllocID answers the last one)
    const last = Number((await call<pdpb.AllocIDResponse__Output>(pd.client, 'AllocID', { header: h, count: 2 })).id);
    const region = { id: last - 1, startKey: enc(''), endKey: enc(''), regionEpoch: { confVer: 1, version: 1 }, peers: [{ id: last, storeId: Number(storeId) }] };
    const r = await call<pdpb.BootstrapResponse__Output>(pd.client, 'Bootstrap', { header: h, store: storeW(Number(storeId)), region });
    expect(r.header?.error).toBeNull();
  }

  it('answers GetMembers without a cluster id and refuses a wrong one with FAILED_PRECONDITION', async () => {
    const m = await call<pdpb.GetMembersResponse__Output>(pd.client, 'GetMembers', { header: {} });
    expect(m.header?.clusterId).toBe(pd.clusterId);
    expect(m.leader?.clientUrls).toEqual([`http://${pd.running.address}`]);
    await expect(call(pd.client, 'IsBootstrapped', { header: { clusterId: 12345 } })).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    await expect(call(pd.client, 'AllocID', { header: {} })).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
  });

  it('allocates id blocks (the last id), bootstraps once, and answers domain errors in the header', async () => {
    const a = await call<pdpb.AllocIDResponse__Output>(pd.client, 'AllocID', { header: h, count: 5 });
    const b = await call<pdpb.AllocIDResponse__Output>(pd.client, 'AllocID', { header: h });
    expect(Number(b.id)).toBe(Number(a.id) + 1);
    expect(a.count).toBe(5);
    expect((await call<pdpb.GetRegionResponse__Output>(pd.client, 'GetRegion', { header: h, regionKey: enc('a') })).header?.error?.type).toBe('NOT_BOOTSTRAPPED');
    expect((await call<pdpb.IsBootstrappedResponse__Output>(pd.client, 'IsBootstrapped', { header: h })).bootstrapped).toBe(false);
    await bootstrap();
    expect((await call<pdpb.IsBootstrappedResponse__Output>(pd.client, 'IsBootstrapped', { header: h })).bootstrapped).toBe(true);
    const again = await call<pdpb.BootstrapResponse__Output>(pd.client, 'Bootstrap', { header: h, store: storeW(9), region: { id: 9, regionEpoch: {}, peers: [{ id: 10, storeId: 9 }] } });
    expect(again.header?.error?.type).toBe('ALREADY_BOOTSTRAPPED');
    expect((await call<pdpb.GetStoreResponse__Output>(pd.client, 'GetStore', { header: h, storeId: 777 })).header?.error?.type).toBe('UNKNOWN');
    const bad = await call<pdpb.PutStoreResponse__Output>(pd.client, 'PutStore', { header: h, store: { id: 0, address: 'x:1' } });
    expect(bad.header?.error?.type).toBe('INVALID_VALUE');
  });

  it('serves stores, regions, splits and a TSO stream', async () => {
    await bootstrap();
    await call(pd.client, 'PutStore', { header: h, store: storeW(50) });
    const all = await call<pdpb.GetAllStoresResponse__Output>(pd.client, 'GetAllStores', { header: h });
    expect(all.stores.map((s) => s.id).sort()).toEqual(['1', '50']);
    const hb = await call<pdpb.StoreHeartbeatResponse__Output>(pd.client, 'StoreHeartbeat', { header: h, stats: { storeId: 50, capacity: 100, available: 50 } });
    expect(hb.header?.error).toBeNull();
    const first = await call<pdpb.GetRegionResponse__Output>(pd.client, 'GetRegion', { header: h, regionKey: enc('') });
    expect(first.region?.peers).toHaveLength(1);
    const split = await call<pdpb.AskBatchSplitResponse__Output>(pd.client, 'AskBatchSplit', { header: h, region: first.region, splitCount: 2 });
    expect(split.ids).toHaveLength(2);
    const [left, mid] = split.ids;
    const peerStore = first.region!.peers[0]!.storeId;
    const epoch = { confVer: 1, version: 3 };
    const regions = [
      { id: left!.newRegionId, startKey: enc(''), endKey: enc('g'), regionEpoch: epoch, peers: [{ id: left!.newPeerIds[0], storeId: peerStore }] },
      { id: mid!.newRegionId, startKey: enc('g'), endKey: enc('p'), regionEpoch: epoch, peers: [{ id: mid!.newPeerIds[0], storeId: peerStore }] },
      { ...first.region!, startKey: enc('p'), endKey: enc(''), regionEpoch: epoch },
    ];
    await call(pd.client, 'ReportBatchSplit', { header: h, regions });
    const scan = await call<pdpb.ScanRegionsResponse__Output>(pd.client, 'ScanRegions', { header: h, startKey: enc('h'), limit: 0 });
    expect(scan.regions.map((r) => r.region?.id)).toEqual([mid!.newRegionId, first.region!.id]);
    expect(scan.regionMetas).toHaveLength(2);
    const prev = await call<pdpb.GetRegionResponse__Output>(pd.client, 'GetPrevRegion', { header: h, regionKey: enc('h') });
    expect(prev.region?.id).toBe(left!.newRegionId);
    const byId = await call<pdpb.GetRegionResponse__Output>(pd.client, 'GetRegionByID', { header: h, regionId: mid!.newRegionId });
    expect(Buffer.from(byId.region!.startKey).toString()).toBe('g');

    const tso = pd.client.Tso();
    const got: pdpb.TsoResponse__Output[] = [];
    tso.on('data', (r: pdpb.TsoResponse__Output) => got.push(r));
    for (let i = 0; i < 5; i++) tso.write({ header: h, count: 3 });
    await waitFor(() => got.length === 5, 15_000, 'tso responses');
    const values = got.map((r) => (BigInt(r.timestamp!.physical) << 18n) | BigInt(r.timestamp!.logical));
    for (let i = 1; i < values.length; i++) expect(values[i]! - values[i - 1]!).toBeGreaterThanOrEqual(3n);
    tso.end();
  });

  it('streams region heartbeats, drops stale ones, and delivers operators to the leader store', async () => {
    // only the admin operator below may act on the region (the replica checker would add peers too)
    await call(pd.admin, 'SetScheduler', { name: 'replica-checker', enabled: false });
    await bootstrap();
    const first = (await call<pdpb.GetRegionResponse__Output>(pd.client, 'GetRegion', { header: h, regionKey: enc('') })).region!;
    const s1 = Number(first.peers[0]!.storeId);
    await call(pd.client, 'PutStore', { header: h, store: storeW(60) });
    await call(pd.client, 'StoreHeartbeat', { header: h, stats: { storeId: 60 } });
    await call(pd.client, 'StoreHeartbeat', { header: h, stats: { storeId: s1 } });
    const stream = pd.client.RegionHeartbeat();
    const got: pdpb.RegionHeartbeatResponse__Output[] = [];
    stream.on('data', (r: pdpb.RegionHeartbeatResponse__Output) => got.push(r));
    stream.on('error', () => undefined);
    stream.write({ header: h, region: first, leader: first.peers[0], term: 5 });
    await waitFor(() => pd.running.pd.cluster.getRegionById(Number(first.id))?.term === 5, 15_000, 'heartbeat processed');
    // a stale heartbeat (older version) is refused in a header
    stream.write({ header: h, region: { ...first, regionEpoch: { confVer: 1, version: 0 } }, leader: first.peers[0], term: 5 });
    await waitFor(() => got.some((r) => r.header?.error?.type === 'UNKNOWN'), 15_000, 'stale refusal');
    // ctl-style admin operator: add a peer on store 60 → change_peer AddLearnerNode pushed at once
    const op = await call<pdadmin.OperatorView__Output>(pd.admin, 'AddOperator', { addPeer: { regionId: first.id, storeId: 60 } });
    expect(op.steps).toHaveLength(2);
    await waitFor(() => got.some((r) => r.changePeer != null), 15_000, 'operator on the stream');
    const cmd = got.find((r) => r.changePeer != null)!;
    expect(cmd.changePeer).toMatchObject({ changeType: 'AddLearnerNode', peer: { storeId: '60', role: 'Learner' } });
    expect(cmd.regionId).toBe(first.id);
    expect(cmd.targetPeer?.id).toBe(first.peers[0]!.id);
    expect(cmd.regionEpoch).toEqual({ confVer: '1', version: '1' });
    // a heartbeat with the learner added: next step (promote) comes back
    const withLearner = { ...first, regionEpoch: { confVer: 2, version: 1 }, peers: [...first.peers, cmd.changePeer!.peer!] };
    stream.write({ header: h, region: withLearner, leader: first.peers[0], term: 5 });
    await waitFor(() => got.some((r) => r.changePeer?.changeType === 'AddNode'), 15_000, 'promote step');
    stream.end();
  });

  it('scatters regions over pdpb ScatterRegion and mrkv.pdadmin ScatterRegions', async () => {
    for (const name of ['replica-checker', 'merge-checker', 'balance-leader-scheduler', 'balance-region-scheduler', 'balance-hot-region-scheduler']) {
      await call(pd.admin, 'SetScheduler', { name, enabled: false });
    }
    await bootstrap();
    const p = pd.running.pd;
    const s1 = p.cluster.allStores()[0]!.meta.id;
    for (const id of [60, 61, 62, 63]) await call(pd.client, 'PutStore', { header: h, store: storeW(id) });
    for (const id of [s1, 60, 61, 62, 63]) await call(pd.client, 'StoreHeartbeat', { header: h, stats: { storeId: id } });
    // four regions a..d, all on stores s1, 60, 61 (the bootstrap region replaced by them)
    const keys = ['', 'b', 'c', 'd', ''];
    for (let i = 0; i < 4; i++) {
      const peers = [s1, 60, 61].map((storeId, j) => ({ id: 1000 + i * 10 + j, storeId, role: 'Voter' as const }));
      const meta = { id: 900 + i, startKey: enc(keys[i]!), endKey: enc(keys[i + 1]!), regionEpoch: { confVer: 1, version: 5 }, peers };
      await p.regionHeartbeat({ ...regionInfoFromMeta(meta, peers[0]), term: 1 });
    }
    const scatter = (req: object) => call<pdpb.ScatterRegionResponse__Output>(pd.client, 'ScatterRegion', { header: h, ...req });
    // a fresh group keeps its first region in place; the next time the group moves it
    expect(await scatter({ regionId: 900, group: 'g' })).toMatchObject({ header: { error: null }, finishedPercentage: '100' });
    expect(p.operators.get(900)).toBeUndefined();
    expect((await scatter({ regionId: 900, group: 'g' })).finishedPercentage).toBe('100');
    expect(p.operators.get(900)?.kind).toBe('scatter');
    const busy = await scatter({ regionId: 900, group: 'g' });
    expect(busy.header?.error).toMatchObject({ type: 'UNKNOWN', message: expect.stringMatching(/^region 900 not scattered: already has an operator/) });
    expect((await scatter({ regionId: 999 })).header?.error?.type).toBe('REGION_NOT_FOUND');
    expect((await scatter({})).header?.error?.type).toBe('INVALID_VALUE');
    expect((await scatter({ regionsId: [901, 902, 999], group: 'g' })).finishedPercentage).toBe('66');

    const out = await call<pdadmin.ScatterRegionsResponse__Output>(pd.admin, 'ScatterRegions', { startKey: enc(''), endKey: enc('') });
    expect(out.group).toBe('');
    const skipped = Object.fromEntries(out.skipped.map((x) => [x.regionId, x.code]));
    expect(skipped).toMatchObject({ 900: 'has-operator' });
    expect(out.operators.length + out.skipped.length).toBe(4);
    for (const o of out.operators) expect(o).toMatchObject({ kind: 'scatter', source: 'scatter-region', status: 'running' });
    await expect(call(pd.admin, 'ScatterRegions', { startKey: enc('a'), regionIds: [900] })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'PD:core:ErrInvalidValue: scatter takes a key range or region ids, not both',
    });
  });
});
