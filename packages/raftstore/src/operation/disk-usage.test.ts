import { afterEach, describe, expect, it } from 'vitest';
import { DiskFullError, isRegionError, type RequestContext } from '@mrkv/proto';
import { MessageType } from '@mrkv/raft';
import { TestCluster, waitFor } from '../testing/index.js';
import { decodeStoreRaftMessage, encodeStoreRaftMessage, type StoreRaftMessage } from '../wire/raft-message.js';
import { defaultReserveSpace, diskUsageOf } from './disk-usage.js';

const GiB = 1024 * 1024 * 1024;
/** Free space below the default reserve of the fake 100 GiB disk (5 GiB): AlreadyFull. */
const FULL = 1 * GiB;
/** Inside the default almost-full band (5 GiB .. 7.5 GiB). */
const ALMOST = 6 * GiB;
const PLENTY = 100 * GiB;

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.shutdown();
  cluster = undefined;
});

describe('disk usage: thresholds', () => {
  it('defaults the reserve to min(5 GiB, 5 % of capacity)', () => {
    expect(defaultReserveSpace(1000 * GiB)).toBe(5 * GiB);
    expect(defaultReserveSpace(20 * GiB)).toBe(GiB);
  });

  it('is AlreadyFull at or below the reserve, AlmostFull in the band above it, else Normal', () => {
    const cfg = { diskReserveSpace: 1000, diskAlmostFullSpace: 500 };
    expect(diskUsageOf({ capacity: 10_000, available: 1000 }, cfg)).toBe('AlreadyFull');
    expect(diskUsageOf({ capacity: 10_000, available: 1001 }, cfg)).toBe('AlmostFull');
    expect(diskUsageOf({ capacity: 10_000, available: 1500 }, cfg)).toBe('AlmostFull');
    expect(diskUsageOf({ capacity: 10_000, available: 1501 }, cfg)).toBe('Normal');
    expect(diskUsageOf({ capacity: 100 * GiB, available: 7 * GiB }, {})).toBe('AlmostFull');
    expect(diskUsageOf({ capacity: 100 * GiB, available: 8 * GiB }, {})).toBe('Normal');
  });

  it('a reserve of 0 disables the check; no reading counts as Normal', () => {
    expect(diskUsageOf({ capacity: 10_000, available: 0 }, { diskReserveSpace: 0 })).toBe('Normal');
    expect(diskUsageOf(undefined, { diskReserveSpace: 1000 })).toBe('Normal');
  });

  it('RaftMessage carries disk_usage as field 12 (absent = Normal)', () => {
    const base: StoreRaftMessage = {
      regionId: 7,
      fromPeer: { id: 1, storeId: 1, role: 'Voter' },
      toPeer: { id: 2, storeId: 2, role: 'Voter' },
      regionEpoch: { confVer: 1, version: 1 },
      isTombstone: false,
      startKey: new Uint8Array(),
      endKey: new Uint8Array(),
      message: { msgType: MessageType.MsgHeartbeat, to: 2, from: 1, term: 3, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, requestSnapshot: 0, priority: 0 },
    };
    expect(decodeStoreRaftMessage(encodeStoreRaftMessage(base)).diskUsage).toBe('Normal');
    expect(decodeStoreRaftMessage(encodeStoreRaftMessage({ ...base, diskUsage: 'AlmostFull' })).diskUsage).toBe('AlmostFull');
    const full = encodeStoreRaftMessage({ ...base, diskUsage: 'AlreadyFull' });
    expect(decodeStoreRaftMessage(full).diskUsage).toBe('AlreadyFull');
    // A normal store adds nothing to the wire.
    expect(encodeStoreRaftMessage({ ...base, diskUsage: 'Normal' }).length).toBe(encodeStoreRaftMessage(base).length);
  });
});

/** A put on the region's current leader, without retries (DiskFull is the answer under test). */
async function putOnLeader(c: TestCluster, regionId: number, key: string, value: string, extra: Partial<RequestContext> = {}): Promise<void> {
  const leader = await c.waitLeader(regionId);
  const region = c.store(leader).peers.get(regionId)!.region;
  await c.rawKv(leader).rawPut(c.contextFor(region, leader, extra), Buffer.from(key), Buffer.from(value));
}

/**
 * Waits until the leader's put is refused with DiskFull and returns that error. The probe writes
 * the key's current value, so the puts that still get through before the refusal change nothing.
 */
async function waitDiskFull(c: TestCluster, regionId: number, key: string, current: string): Promise<DiskFullError> {
  return waitFor(
    async () => {
      try {
        await putOnLeader(c, regionId, key, current);
        return undefined;
      } catch (err) {
        if (err instanceof DiskFullError) return err;
        if (isRegionError(err)) return undefined;
        throw err;
      }
    },
    5000,
    'writes refused with DiskFull',
  );
}

/** Waits until a put on the leader succeeds (the retries a client would make). */
async function waitWritable(c: TestCluster, regionId: number, key: string, value: string): Promise<void> {
  await waitFor(
    async () => {
      try {
        await putOnLeader(c, regionId, key, value);
        return true;
      } catch (err) {
        if (isRegionError(err)) return undefined;
        throw err;
      }
    },
    5000,
    'writes accepted again',
  );
}

describe('disk usage: a leader refuses client writes with DiskFull', () => {
  it('when its own store is full: reads and admin commands go on, writes resume when space returns', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    await cluster.put('k', 'v1');
    const leader = await cluster.waitLeader(region.id);
    cluster.setDiskAvailable(leader, FULL);
    const err = await waitDiskFull(cluster, region.id, 'k', 'v1');
    expect(err.code).toBe('KV:Raftstore:DiskFull');
    expect(err.payload.storeIds).toContain(leader);
    expect(err.payload.reason).toMatch(/AlreadyFull/);
    expect(cluster.store(leader).diskUsage().usage).toBe('AlreadyFull');
    expect(cluster.store(leader).metricsText()).toMatch(/^mrkv_store_disk_usage 2$/m);
    // Reads still answer, and the refused writes changed nothing.
    expect(await cluster.get('k')).toBe('v1');
    // Admin commands are not refused: the log can still be compacted.
    const applied = cluster.store(leader).peers.get(region.id)!.applied;
    await cluster.admin(region.id, { t: 'compactLog', compactIndex: applied.index, compactTerm: applied.term });
    cluster.setDiskAvailable(leader, PLENTY);
    await waitWritable(cluster, region.id, 'k', 'v2');
    expect(await cluster.get('k')).toBe('v2');
    expect(cluster.store(leader).metricsText()).toMatch(/^mrkv_store_disk_usage 0$/m);
  });

  it('a full follower does not stop writes (the other two are a quorum); the leader holds its appends until it has space again', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    const leader = await cluster.waitLeader(region.id);
    const follower = [1, 2, 3].find((s) => s !== leader)!;
    const followerPeer = cluster.store(follower).peers.get(region.id)!.peerId;
    cluster.setDiskAvailable(follower, FULL);
    const leaderPeer = cluster.store(leader).peers.get(region.id)!;
    await waitFor(() => leaderPeer.appendsHeld.has(followerPeer), 5000, 'the leader to hold appends to the full follower');
    // It does not take leadership by transfer while full, caught up as it is (two election timeouts' worth of ticks).
    cluster.store(leader).send(region.id, { type: 'transferLeader', peerId: followerPeer });
    const from = leaderPeer.ticks;
    await waitFor(() => leaderPeer.ticks - from >= 2 * cluster!.cfg.raftElectionTimeoutTicks, 10_000, 'two election timeouts');
    expect(cluster.leaderStore(region.id)).toBe(leader);
    for (let i = 0; i < 5; i++) await putOnLeader(cluster, region.id, `f${i}`, `v${i}`);
    expect(await cluster.peek(follower, 'f4')).toBeUndefined();
    expect(leaderPeer.rawNode.status().progress.get(followerPeer)!.paused).toBe(true);
    // Space back: it hears so on the follower's next answer and sends what it missed.
    cluster.setDiskAvailable(follower, PLENTY);
    await waitFor(async () => (await cluster!.peek(follower, 'f4')) === 'v4', 5000, 'the follower to catch up once it has space');
    expect(leaderPeer.appendsHeld.size).toBe(0);
  });

  it('a full majority: writes refused with DiskFull naming the full stores, reads answer, writes resume after space returns', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    await cluster.put('m', 'before');
    const leader = await cluster.waitLeader(region.id);
    const followers = [1, 2, 3].filter((s) => s !== leader);
    for (const f of followers) cluster.setDiskAvailable(f, FULL);
    const err = await waitFor(async () => {
      const e = await waitDiskFull(cluster!, region.id, 'm', 'before');
      return e.payload.storeIds.length === 2 ? e : undefined;
    }, 5000, 'both full followers named');
    expect(err.payload.storeIds).toEqual(followers);
    expect(err.payload.reason).toMatch(/no quorum/);
    expect(await cluster.get('m')).toBe('before');
    // One follower gets space back: two of three voters can take writes again.
    cluster.setDiskAvailable(followers[0]!, PLENTY);
    await waitWritable(cluster, region.id, 'm', 'after');
    expect(await cluster.get('m')).toBe('after');
    // The one still full is now held (the other two are a quorum): it gets 'after' once it has space.
    const leaderPeer = cluster.store(leader).peers.get(region.id)!;
    const stillFull = cluster.store(followers[1]!).peers.get(region.id)!.peerId;
    await waitFor(() => leaderPeer.appendsHeld.has(stillFull), 5000, 'appends to the still-full follower held');
    cluster.setDiskAvailable(followers[1]!, PLENTY);
    for (const id of [1, 2, 3]) await waitFor(async () => (await cluster!.peek(id, 'm')) === 'after', 5000, `m on store ${id}`);
  });

  it('AlmostFull refuses by default and takes writes with disk_full_opt AllowedOnAlmostFull', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    const leader = await cluster.waitLeader(region.id);
    cluster.setDiskAvailable(leader, ALMOST);
    const err = await waitDiskFull(cluster, region.id, 'a', 'none');
    expect(err.payload.reason).toMatch(/AlmostFull/);
    await putOnLeader(cluster, region.id, 'a', 'allowed', { diskFullOpt: 'AllowedOnAlmostFull' });
    expect(await cluster.get('a')).toBe('allowed');
    cluster.setDiskAvailable(leader, FULL);
    await waitFor(() => cluster!.store(leader).diskUsage().usage === 'AlreadyFull', 5000, 'AlreadyFull');
    await expect(putOnLeader(cluster, region.id, 'a', 'no', { diskFullOpt: 'AllowedOnAlmostFull' })).rejects.toBeInstanceOf(DiskFullError);
  });
});
