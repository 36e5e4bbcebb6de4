/**
 * The store's gRPC PD adapter against fake `pdpb.PD` servers on loopback: leader discovery and the
 * cluster id, every call a store makes with PD's header errors mapped to typed errors, the region
 * heartbeat stream and its operators, and leader failover.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { isMrkvError } from '@mrkv/common';
import { newStore, type Region, type Store } from '@mrkv/proto';
import type { PdHeartbeatResponse } from '@mrkv/raftstore';
import { fakePdCluster, startFakePdServer, type FakePdCluster } from '../testing/fake-pd-server.js';
import { GrpcStorePd, heartbeatResponseFromWire } from './pd-grpc.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function cluster(): FakePdCluster {
  const c = fakePdCluster(42, 100);
  // Answer every region heartbeat by moving the leader to the region's second peer.
  c.operatorFor = (req) => ({ regionId: req.region!.id, regionEpoch: req.region!.regionEpoch, targetPeer: req.leader, transferLeader: { peer: req.region!.peers[1], peers: [] } });
  return c;
}

async function fakePd(c: FakePdCluster) {
  const s = await startFakePdServer(c);
  cleanups.push(() => s.stop());
  return s;
}

async function deadPort(): Promise<string> {
  const s = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) =>
    s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  s.forceShutdown();
  return `127.0.0.1:${port}`;
}

function store(id: number, state: Store['state'] = 'Up'): Store {
  return newStore(id, `127.0.0.1:2016${id}`, {
    peerAddress: `127.0.0.1:2016${id}`,
    statusAddress: '127.0.0.1:20180',
    state,
    labels: [{ key: 'zone', value: 'z1' }],
    version: '0.1.0',
    startTimestamp: 1_700_000_000,
    deployPath: '/srv',
  });
}

const region: Region = {
  id: 2,
  startKey: new Uint8Array(),
  endKey: new Uint8Array(),
  regionEpoch: { confVer: 1, version: 1 },
  peers: [
    { id: 3, storeId: 1, role: 'Voter' },
    { id: 4, storeId: 2, role: 'Voter' },
  ],
};

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('GrpcStorePd', () => {
  it('finds the leader past a dead endpoint and speaks every store call', async () => {
    const c = cluster();
    const a = await fakePd(c);
    const pd = await GrpcStorePd.connect({ endpoints: [await deadPort(), a.address], timeoutMs: 2000 });
    cleanups.push(() => pd.close());
    expect(pd.clusterId).toBe(42);
    expect(pd.leaderAddress).toBe(a.address);

    expect(await pd.isBootstrapped()).toBe(false);
    expect(await pd.getFirstRegion()).toBeUndefined();
    expect(await pd.allocId()).toBe(100);
    expect(await pd.allocId()).toBe(101);
    expect(await pd.bootstrapCluster(store(1), region)).toBe('bootstrapped');
    expect(await pd.bootstrapCluster(store(1), region)).toBe('alreadyBootstrapped');
    expect((await pd.getFirstRegion())?.peers.map((p) => p.id)).toEqual([3, 4]);

    await pd.putStore(store(2));
    expect(await pd.getStore(2)).toMatchObject({ id: 2, address: '127.0.0.1:20162', labels: [{ key: 'zone', value: 'z1' }] });
    const missing = await pd.getStore(9).catch((e: unknown) => e);
    expect(isMrkvError(missing) && missing.code).toBe('KV:Server:PdFailed');
    expect((missing as Error).message).toMatch(/UNKNOWN invalid store ID 9/);
    await pd.putStore(store(3, 'Tombstone'));
    const tomb = await pd.putStore(store(3)).catch((e: unknown) => e);
    expect(isMrkvError(tomb) && tomb.code).toBe('KV:Server:StoreTombstone');

    await pd.storeHeartbeat({
      storeId: 1, capacity: 1000, available: 600, usedSize: 10, regionCount: 3, sendingSnapCount: 0, receivingSnapCount: 1, applyingSnapCount: 0,
      startTime: 1_700_000_000, bytesWritten: 5, keysWritten: 1, bytesRead: 0, keysRead: 0, isBusy: false, intervalStart: 10, intervalEnd: 20,
    });
    expect(c.storeHeartbeats[0]).toMatchObject({ storeId: '1', capacity: '1000', available: '600', regionCount: 3, receivingSnapCount: 1, interval: { startTimestamp: '10', endTimestamp: '20' } });

    const split = await pd.askBatchSplit(region, 2);
    expect(split).toHaveLength(2);
    expect(split[0]!.newPeerIds).toHaveLength(2);
    await pd.reportBatchSplit([region]);
    expect(c.badHeaders).toBe(0);
  });

  it('streams region heartbeats and hands operators to the raftstore', async () => {
    const c = cluster();
    const a = await fakePd(c);
    const pd = await GrpcStorePd.connect({ endpoints: [a.address] });
    cleanups.push(() => pd.close());
    const ops: PdHeartbeatResponse[] = [];
    pd.onHeartbeatResponse((r) => ops.push(r));
    pd.regionHeartbeat({
      region, leader: region.peers[0]!, term: 6, downPeers: [{ peer: region.peers[1]!, downSeconds: 30 }], pendingPeers: [],
      bytesWritten: 1, keysWritten: 1, bytesRead: 0, keysRead: 0, approximateSize: 1 << 20, approximateKeys: 10, intervalStart: 1, intervalEnd: 2,
    });
    await until(() => ops.length === 1, 'an operator');
    expect(c.regionHeartbeats[0]).toMatchObject({ term: '6', approximateSize: '1048576', downPeers: [{ downSeconds: '30' }], header: { clusterId: '42' } });
    expect(ops[0]).toEqual({
      regionId: 2,
      regionEpoch: { confVer: 1, version: 1 },
      targetPeer: { id: 3, storeId: 1, role: 'Voter' },
      operator: { kind: 'transferLeader', peer: { id: 4, storeId: 2, role: 'Voter' }, peers: [] },
    });
  });

  it('follows the leader to another PD member and reopens the heartbeat stream there', async () => {
    const c = cluster();
    const a = await fakePd(c);
    const b = await fakePd(c);
    const pd = await GrpcStorePd.connect({ endpoints: [a.address, b.address], timeoutMs: 2000 });
    cleanups.push(() => pd.close());
    const ops: PdHeartbeatResponse[] = [];
    pd.onHeartbeatResponse((r) => ops.push(r));
    const hb = {
      region, leader: region.peers[0]!, term: 6, downPeers: [], pendingPeers: [],
      bytesWritten: 0, keysWritten: 0, bytesRead: 0, keysRead: 0, approximateSize: 0, approximateKeys: 0, intervalStart: 1, intervalEnd: 2,
    };
    pd.regionHeartbeat(hb);
    await until(() => ops.length === 1, 'an operator from the first leader');

    a.stop();
    c.leader = b.address;
    expect(await pd.allocId()).toBe(100);
    expect(pd.leaderAddress).toBe(b.address);
    await until(() => {
      pd.regionHeartbeat(hb);
      return ops.length >= 2;
    }, 'an operator from the new leader');
  });

  it('fails with PdFailed when no endpoint answers', async () => {
    const err = await GrpcStorePd.connect({ endpoints: [await deadPort()], timeoutMs: 500 }).catch((e: unknown) => e);
    expect(isMrkvError(err) && err.code).toBe('KV:Server:PdFailed');
  });

  it('converts every operator kind and skips keep-alives', () => {
    const base = { header: null, regionId: '2', regionEpoch: { confVer: '1', version: '3' }, targetPeer: { id: '3', storeId: '1', role: 'Voter' as const, isWitness: false } };
    const none = { changePeer: null, transferLeader: null, merge: null, splitRegion: null, changePeerV2: null, switchWitnesses: null, changeSplit: null };
    const peer = { id: '5', storeId: '3', role: 'Learner' as const, isWitness: false };
    expect(heartbeatResponseFromWire({ ...base, ...none })).toBeUndefined();
    expect(heartbeatResponseFromWire({ ...base, ...none, changePeer: { peer, changeType: 'AddLearnerNode' } })?.operator).toEqual({
      kind: 'changePeer', changeType: 'AddLearnerNode', peer: { id: 5, storeId: 3, role: 'Learner' },
    });
    expect(heartbeatResponseFromWire({ ...base, ...none, changePeerV2: { changes: [{ peer, changeType: 'RemoveNode' }] } })?.operator.kind).toBe('changePeerV2');
    expect(heartbeatResponseFromWire({ ...base, ...none, splitRegion: { policy: 'USEKEY', keys: [Buffer.from('m')] } })?.operator).toEqual({
      kind: 'splitRegion', policy: 'USEKEY', keys: [Uint8Array.from(Buffer.from('m'))],
    });
    const target = { id: '7', startKey: Buffer.from(''), endKey: Buffer.from('z'), regionEpoch: { confVer: '1', version: '2' }, peers: [], isInFlashback: false, flashbackStartTs: '0' };
    expect(heartbeatResponseFromWire({ ...base, ...none, merge: { target } })?.operator.kind).toBe('merge');
  });
});
