/**
 * Retries on each region error kind, as client-go reacts (reference §1.4): the cache is updated
 * precisely (a NotLeader hint or EpochNotMatch's current regions need no PD round trip), others
 * reload from PD, busy stores are backed off, and final errors reach the caller.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DiskFullError,
  EpochNotMatchError,
  KeyNotInRegionError,
  NotLeaderError,
  RaftEntryTooLargeError,
  RegionNotFoundError,
  ServerIsBusyError,
  StaleCommandError,
  StoreNotMatchError,
  UndeterminedResultError,
  cloneRegion,
} from '@mrkv/proto';
import { SimCluster, peerOn } from './__tests__/sim-cluster.js';
import { bytesToString } from './bytes.js';
import { ClientErrorCodes } from './errors.js';
import { createRawClient, type RawClientInternals, type RawClientOptions } from './raw-client.js';

/** Short backoff curves so that retry tests take milliseconds. */
const FAST: RawClientOptions['backoff'] = {
  tikvRpc: { baseMs: 5, capMs: 20 },
  pdRpc: { baseMs: 5, capMs: 20 },
  serverBusy: { baseMs: 5, capMs: 20 },
};

let c: SimCluster;
let client: RawClientInternals;

beforeEach(async () => {
  c = await SimCluster.start({ stores: 3, splits: ['g', 'n', 't'] });
  client = createRawClient({ pdEndpoints: c.pdEndpoints, timeoutMs: 5000, backoff: FAST });
});
afterEach(async () => {
  await client.close();
  await c.close();
});

const pdLookups = (): number => (c.pdCalls.get('GetRegion') ?? 0) + (c.pdCalls.get('GetRegionByID') ?? 0) + (c.pdCalls.get('ScanRegions') ?? 0);
const text = async (k: string): Promise<string | undefined> => {
  const v = await client.get(k);
  return v === undefined ? undefined : bytesToString(v);
};

describe('NotLeader', () => {
  it('with a hint: switches to the hinted leader and retries at once, without asking PD', async () => {
    await client.put('hello', 'world');
    const region = c.regionOf('hello');
    const old = c.leaderOf(region.id);
    const next = (old % 3) + 1;
    c.transferLeader(region.id, next, { tellPd: false });
    const lookups = pdLookups();
    expect(await text('hello')).toBe('world');
    expect(pdLookups()).toBe(lookups);
    expect(c.served.at(-1)!.storeId).toBe(next);
    expect(client.regionCache.byRegionId(region.id)!.leader!.storeId).toBe(next);
  });

  it('without a hint: tries the next peer', async () => {
    await client.put('hello', 'world');
    const region = c.regionOf('hello');
    const leader = c.leaderOf(region.id);
    c.inject((s) => s.regionId === region.id && s.storeId === leader, () => new NotLeaderError({ regionId: region.id }));
    // The leader moves while the client is told "not leader" without a hint.
    c.transferLeader(region.id, (leader % 3) + 1, { tellPd: false });
    expect(await text('hello')).toBe('world');
  });

  it('gives up with REGION_UNAVAILABLE when the region never gets a leader within the backoff budget', async () => {
    const short = createRawClient({ pdEndpoints: c.pdEndpoints, timeoutMs: 5000, maxBackoffMs: 50 });
    try {
      const region = c.regionOf('hello');
      c.inject((s) => s.regionId === region.id, () => new NotLeaderError({ regionId: region.id }), 1000);
      const err = await short.get('hello').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: ClientErrorCodes.REGION_UNAVAILABLE, details: { backoffKind: 'regionScheduling' } });
      expect((err as Error).cause).toBeInstanceOf(NotLeaderError);
    } finally {
      await short.close();
    }
  });
});

describe('EpochNotMatch', () => {
  it('after a split PD has not heard of: updates the cache from current_regions and re-splits the batch', async () => {
    await client.batchPut(['h1', 'j1', 'l1'].map((k) => ({ key: k, value: k })));
    const lookups = pdLookups();
    const left = c.split('k', { tellPd: false });
    const got = await client.batchGet(['h1', 'j1', 'l1']);
    expect(got.map((p) => bytesToString(p.value))).toEqual(['h1', 'j1', 'l1']);
    expect(pdLookups()).toBe(lookups);
    const cached = client.regionCache.regions().map((r) => r.id);
    expect(cached).toContain(left.id);
    // Both halves were asked once the batch was re-split.
    const lastTwo = c.served.filter((s) => s.op === 'batchGet').slice(-2).map((s) => s.regionId).sort();
    expect(lastTwo).toEqual([left.id, c.regionOf('l').id].sort());
  });

  it('with an answer older than the cache: backs off and reloads from PD', async () => {
    await client.put('hello', 'world');
    const region = c.regionOf('hello');
    const stale = cloneRegion(region);
    stale.regionEpoch = { confVer: 1, version: 0 };
    c.inject((s) => s.regionId === region.id, () => new EpochNotMatchError({ currentRegions: [stale] }));
    const lookups = pdLookups();
    expect(await text('hello')).toBe('world');
    expect(pdLookups()).toBe(lookups + 1);
  });
});

describe('regions that moved or vanished', () => {
  it('RegionNotFound (the peer moved to another store): reloads from PD', async () => {
    await client.put('hello', 'world');
    const region = c.regionOf('hello');
    const leader = c.leaderOf(region.id);
    // Add store 4 and move the leader's peer there.
    await c.startStore(4);
    c.movePeer(region.id, leader, 4);
    const lookups = pdLookups();
    expect(await text('hello')).toBe('world');
    expect(pdLookups()).toBeGreaterThan(lookups);
    expect(c.served.at(-1)!.storeId).toBe(4);
  });

  it('KeyNotInRegion: invalidates and reloads', async () => {
    await client.put('hello', 'world');
    const r = c.regionOf('hello');
    c.inject((s) => s.regionId === r.id, () => new KeyNotInRegionError({ key: new Uint8Array(), regionId: r.id, startKey: r.startKey, endKey: r.endKey }));
    const lookups = pdLookups();
    expect(await text('hello')).toBe('world');
    expect(pdLookups()).toBe(lookups + 1);
  });

  it('RegionNotFound injected: invalidates and reloads', async () => {
    await client.put('hello', 'world');
    const r = c.regionOf('hello');
    c.inject((s) => s.regionId === r.id, () => new RegionNotFoundError({ regionId: r.id }));
    const lookups = pdLookups();
    expect(await text('hello')).toBe('world');
    expect(pdLookups()).toBe(lookups + 1);
  });

  it('StoreNotMatch: re-resolves the store address through PD', async () => {
    await client.put('hello', 'world');
    const r = c.regionOf('hello');
    c.inject((s) => s.regionId === r.id, () => new StoreNotMatchError({ requestStoreId: 1, actualStoreId: 2 }));
    const stores = c.pdCalls.get('GetStore') ?? 0;
    expect(await text('hello')).toBe('world');
    expect(c.pdCalls.get('GetStore')).toBe(stores + 1);
  });

  it('a dead store: the leader moved away (PD knows), the client follows after the send failure', async () => {
    await client.put('hello', 'world');
    const r = c.regionOf('hello');
    const leader = c.leaderOf(r.id);
    await c.stopStore(leader);
    c.transferLeader(r.id, (leader % 3) + 1);
    expect(await text('hello')).toBe('world');
    expect(c.served.at(-1)!.storeId).toBe((leader % 3) + 1);
  });
});

describe('busy and stale', () => {
  it('ServerIsBusy: backs off (at least the store hint) and retries', async () => {
    await client.put('hello', 'world');
    const r = c.regionOf('hello');
    c.inject((s) => s.regionId === r.id, () => new ServerIsBusyError({ reason: 'test', backoffMs: 15, estimatedWaitMs: 0, appliedIndex: 0 }), 2);
    const t0 = performance.now();
    expect(await text('hello')).toBe('world');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(14);
  });

  it('StaleCommand: retries', async () => {
    await client.put('hello', 'world');
    const r = c.regionOf('hello');
    c.inject((s) => s.regionId === r.id, () => new StaleCommandError({}), 3);
    expect(await text('hello')).toBe('world');
  });

  it('RaftEntryTooLarge is not retried: REGION_ERROR with the region error as cause', async () => {
    const r = c.regionOf('hello');
    c.inject((s) => s.regionId === r.id, () => new RaftEntryTooLargeError({ regionId: r.id, entrySize: 1 << 30 }));
    const served = c.served.length;
    const err = await client.put('hello', 'x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ClientErrorCodes.REGION_ERROR, details: { regionError: 'KV:Raftstore:EntryTooLarge' } });
    expect(c.served.length).toBe(served);
  });
});

describe('DiskFull', () => {
  it('a write gets the typed, definitive DISK_FULL at once (not retried, not undetermined), naming the full stores', async () => {
    await client.put('hello', 'world');
    const r = c.regionOf('hello');
    c.inject((s) => s.regionId === r.id, () => new DiskFullError({ storeIds: [2, 3], reason: 'only 1 of 3 voters have disk space' }), 100);
    const served = c.served.length;
    const err = await client.put('hello', 'x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ClientErrorCodes.DISK_FULL, details: { regionError: 'KV:Raftstore:DiskFull', regionId: r.id, storeIds: [2, 3] } });
    expect((err as Error).cause).toBeInstanceOf(DiskFullError);
    expect(c.served.length).toBe(served);
    const cas = await client.compareAndSwap('hello', 'world', 'y').catch((e: unknown) => e);
    expect(cas).toMatchObject({ code: ClientErrorCodes.DISK_FULL });
  });
});

describe('UndeterminedResult', () => {
  it('on a read (get, scan): the read is sent again, it has no effect to be unsure about', async () => {
    await client.batchPut([{ key: 'hello', value: 'world' }, { key: 'help', value: 'me' }]);
    const r = c.regionOf('hello');
    const undetermined = () => new UndeterminedResultError({ detail: 'no answer from region within 2000 ms' });
    c.inject((s) => s.regionId === r.id, undetermined, 2);
    expect(await text('hello')).toBe('world');
    c.inject((s) => s.regionId === r.id, undetermined, 2);
    expect((await client.scanAll('hel', 'hem')).map((p) => bytesToString(p.key))).toEqual(['hello', 'help']);
  });

  it('on a write: not retried, REGION_ERROR to the caller (the write may have applied)', async () => {
    const r = c.regionOf('hello');
    c.inject((s) => s.regionId === r.id, () => new UndeterminedResultError({ detail: 'no answer' }));
    const served = c.served.length;
    const err = await client.put('hello', 'x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ClientErrorCodes.REGION_ERROR });
    expect(c.served.length).toBe(served);
  });
});

describe('scans while regions change', () => {
  it('neither skips nor repeats keys when a region splits and its leader moves between batches', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `k${String(i).padStart(3, '0')}`);
    await client.batchPut(keys.map((k) => ({ key: k, value: k })));
    for (const reverse of [false, true]) {
      const seen: string[] = [];
      let n = 0;
      for await (const kv of client.scan('', '', { batchSize: 7, reverse })) {
        seen.push(bytesToString(kv.key));
        if (++n === 10) {
          c.split(reverse ? 'k020' : 'k040', { tellPd: false });
          const r = c.regionOf('k030');
          c.transferLeader(r.id, (c.leaderOf(r.id) % 3) + 1, { tellPd: false });
        }
      }
      expect(seen).toEqual(reverse ? [...keys].reverse() : keys);
    }
  });
});

describe('replica read', () => {
  it('sends reads to followers with replica_read set, and writes to the leader', async () => {
    const rr = createRawClient({ pdEndpoints: c.pdEndpoints, replicaRead: true });
    try {
      await rr.put('hello', 'world');
      const r = c.regionOf('hello');
      const before = c.served.length;
      for (let i = 0; i < 6; i++) expect(bytesToString((await rr.get('hello'))!)).toBe('world');
      const reads = c.served.slice(before);
      expect(reads.every((s) => s.replicaRead)).toBe(true);
      expect(new Set(reads.map((s) => s.storeId)).size).toBe(3);
      expect(c.served.find((s) => s.op === 'put')!.storeId).toBe(c.leaderOf(r.id));
      // Per-call override.
      await rr.get('hello', { replicaRead: false });
      expect(c.served.at(-1)).toMatchObject({ replicaRead: false, storeId: c.leaderOf(r.id) });
      expect(peerOn(r, 1).storeId).toBe(1);
    } finally {
      await rr.close();
    }
  });
});
