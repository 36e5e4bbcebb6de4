import { afterEach, describe, expect, it } from 'vitest';
import { EngineError, EngineErrorCodes } from '@mrkv/engine';
import type { Region } from '@mrkv/proto';
import { TestCluster, waitFor } from '../testing/index.js';

let cluster: TestCluster | undefined;

/**
 * Starts the cluster, crashes a follower and writes k0…k79 until the log GC (configured small by
 * the caller) compacted past it: the follower can only come back by snapshot.
 */
async function compactPastDownFollower(c: TestCluster): Promise<{ region: Region; down: number }> {
  const region = await c.start();
  const leader = await c.waitLeader(region.id);
  const down = [1, 2, 3].find((s) => s !== leader)!;
  await c.crash(down);
  for (let i = 0; i < 80; i++) await c.put(`k${i}`, `v${i}`);
  const leaderPeer = c.store(c.leaderStore(region.id)!).peers.get(region.id)!;
  await waitFor(() => leaderPeer.storage.lastIndex() - leaderPeer.storage.firstIndex() < 40, 10_000, 'a bounded log');
  return { region, down };
}

afterEach(async () => {
  await cluster?.shutdown();
  cluster = undefined;
});

describe('raftstore: membership and snapshots', () => {
  it('replaces a voter (add learner, catch up by snapshot, promote, remove) under writes', async () => {
    cluster = new TestCluster({ stores: 4 });
    const region = await cluster.start([1, 2, 3]);
    await cluster.waitLeader(region.id);
    for (let i = 0; i < 30; i++) await cluster.put(`k${i}`, `v${i}`);
    const newPeer = { id: cluster.pd.allocId(), storeId: 4, role: 'Learner' as const };
    await cluster.changePeer(region.id, 'AddLearnerNode', newPeer);
    await waitFor(async () => (await cluster!.peek(4, 'k29')) === 'v29', 10_000, 'the learner to catch up');
    await cluster.changePeer(region.id, 'AddNode', { ...newPeer, role: 'Voter' });
    const leaving = [1, 2, 3].find((s) => s !== cluster!.leaderStore(region.id))!;
    const leavingPeer = cluster.store(leaving).peers.get(region.id)!.meta;
    await cluster.changePeer(region.id, 'RemoveNode', leavingPeer);
    await waitFor(() => !cluster!.store(leaving).peers.has(region.id), 10_000, 'the removed peer to destroy itself');
    // The data goes with the tombstone, written right after the peer leaves the router.
    await waitFor(async () => (await cluster!.peek(leaving, 'k1')) === undefined, 10_000, 'the removed peer to delete its data');
    await cluster.put('after', 'yes');
    await waitFor(async () => (await cluster!.peek(4, 'after')) === 'yes', 10_000, 'the new voter to replicate');
    const r = cluster.regionOf(Buffer.from('a'))!;
    expect(r.peers.map((p) => p.storeId).sort()).toEqual([1, 2, 3, 4].filter((s) => s !== leaving));
    expect(r.regionEpoch.confVer).toBe(4);
  });

  it('finishes a joint membership change after the leader is killed in the joint phase', async () => {
    cluster = new TestCluster({ stores: 4 });
    const region = await cluster.start([1, 2, 3]);
    const leader = await cluster.waitLeader(region.id);
    for (let i = 0; i < 10; i++) await cluster.put(`k${i}`, `v${i}`);
    // Learner first, so the joint step only swaps voters.
    const p4 = { id: cluster.pd.allocId(), storeId: 4, role: 'Learner' as const };
    await cluster.changePeer(region.id, 'AddLearnerNode', p4);
    await waitFor(async () => (await cluster!.peek(4, 'k9')) === 'v9', 10_000, 'the learner to catch up');
    const demoted = [1, 2, 3].find((s) => s !== leader)!;
    const demotedPeer = cluster.store(demoted).peers.get(region.id)!.meta;
    // Enter joint: promote 4, demote `demoted`. Kill the leader as soon as it applied the change.
    const entered = cluster.admin(region.id, {
      t: 'changePeerV2',
      changes: [
        { changeType: 'AddNode', peer: { ...p4, role: 'Voter' } },
        { changeType: 'AddLearnerNode', peer: { ...demotedPeer, role: 'Learner' } },
      ],
    });
    await entered;
    await cluster.crash(leader);
    // A new leader leaves the joint state by itself (auto leave) and the cluster keeps serving.
    await waitFor(() => {
      const r = cluster!.regionOf(Buffer.from('k1'));
      return r !== undefined && !r.peers.some((p) => p.role === 'IncomingVoter' || p.role === 'DemotingVoter') && r.peers.some((p) => p.storeId === 4 && p.role === 'Voter');
    }, 15_000, 'the joint state to be left');
    await cluster.put('after', 'joint');
    expect(await cluster.get('after')).toBe('joint');
    for (let i = 0; i < 10; i++) expect(await cluster.get(`k${i}`)).toBe(`v${i}`);
    const r = cluster.regionOf(Buffer.from('k1'))!;
    expect(r.peers.find((p) => p.storeId === demoted)?.role).toBe('Learner');
  });

  it('a removed store restarting with old data neither disrupts the term nor comes back', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    const leader = await cluster.waitLeader(region.id);
    await cluster.put('a', '1');
    const gone = [1, 2, 3].find((s) => s !== leader)!;
    const gonePeer = cluster.store(gone).peers.get(region.id)!.meta;
    await cluster.crash(gone);
    await cluster.changePeer(region.id, 'RemoveNode', gonePeer);
    const term = cluster.store(leader).peers.get(region.id)!.term;
    await cluster.restart(gone);
    // Its stale peer times out and asks for votes (PreVote): nobody moves to a higher term, and the
    // leader tells it that it was removed.
    await waitFor(() => !cluster!.store(gone).peers.has(region.id), 15_000, 'the stale peer to be destroyed');
    const now = cluster.leaderStore(region.id)!;
    expect(cluster.store(now).peers.get(region.id)!.term).toBe(term);
    expect(cluster.store(gone).ctx.meta.tombstones.has(region.id)).toBe(true);
    await cluster.put('b', '2');
    expect(await cluster.get('b')).toBe('2');
  });

  it('rejects a snapshot corrupted in transit and catches up with the next one', async () => {
    cluster = new TestCluster({ stores: 4 });
    const region = await cluster.start([1, 2, 3]);
    await cluster.waitLeader(region.id);
    for (let i = 0; i < 10; i++) await cluster.put(`k${i}`, `v${i}`);
    cluster.net.corruptSnapshots = 1;
    await cluster.changePeer(region.id, 'AddLearnerNode', { id: cluster.pd.allocId(), storeId: 4, role: 'Learner' });
    await waitFor(async () => (await cluster!.peek(4, 'k9')) === 'v9', 10_000, 'the learner to catch up');
    expect(cluster.net.corruptSnapshots).toBe(0);
    for (let i = 0; i < 10; i++) expect(await cluster.peek(4, `k${i}`)).toBe(`v${i}`);
  });

  it('compacts the log on every replica once all have it, and restarts from the compacted log', async () => {
    cluster = new TestCluster({ stores: 3, cfg: { raftLogGcThreshold: 5, raftLogGcTickMs: 40 } });
    const region = await cluster.start();
    await cluster.waitLeader(region.id);
    for (let i = 0; i < 60; i++) await cluster.put(`k${i}`, `v${i}`);
    for (const s of [1, 2, 3]) {
      await waitFor(() => cluster!.store(s).peers.get(region.id)!.storage.firstIndex() > 40, 10_000, `log compaction on store ${s}`);
    }
    for (const s of [1, 2, 3]) await cluster.crash(s);
    for (const s of [1, 2, 3]) await cluster.restart(s);
    await cluster.waitLeader(region.id);
    for (let i = 0; i < 60; i += 7) expect(await cluster.get(`k${i}`)).toBe(`v${i}`);
  });

  it('bounds the log with a follower down (forced compaction) and recovers it by snapshot', async () => {
    cluster = new TestCluster({ stores: 3, cfg: { raftLogGcThreshold: 5, raftLogGcCountLimit: 20, raftLogGcTickMs: 40 } });
    const { region, down } = await compactPastDownFollower(cluster);
    await cluster.restart(down);
    await waitFor(async () => (await cluster!.peek(down, 'k79')) === 'v79', 10_000, 'the follower to catch up by snapshot');
    expect(cluster.store(cluster.leaderStore(region.id)!).ctx.counters.snapshotsSent).toBeGreaterThan(0);
  });
});

describe('raftstore: a follower catching up by snapshot under heavy writes', () => {
  it('is not overtaken by log GC: the log keeps what comes after a snapshot until the follower has it', async () => {
    // A 12-entry log and a snapshot that takes 300 ms to arrive: a steady writer fills more than
    // the log meanwhile. Without the hold, every snapshot was stale on arrival (the entries after
    // it compacted away), the leader sent another, and the follower never caught up.
    cluster = new TestCluster({ stores: 3, cfg: { raftLogGcThreshold: 5, raftLogGcCountLimit: 12, raftLogGcTickMs: 40 } });
    const { region, down } = await compactPastDownFollower(cluster);
    cluster.net.snapshotDelayMs = 300;
    let writing = true;
    let n = 0;
    const writer = (async () => {
      while (writing) await cluster!.put(`w${n}`, `v${n++}`);
    })();
    try {
      await cluster.restart(down);
      const follower = () => cluster!.store(down).peers.get(region.id)!;
      // Caught up while the writes go on: entries after its snapshot, applied near the leader.
      await waitFor(
        () => {
          const f = follower();
          const leader = cluster!.store(cluster!.leaderStore(region.id)!).peers.get(region.id)!;
          return f.storage.lastIndex() > f.storage.truncated.index && leader.applied.index - f.applied.index < 12;
        },
        15_000,
        'the follower to catch up while the writer runs',
      );
    } finally {
      writing = false;
      await writer;
    }
    const sent = cluster.store(cluster.leaderStore(region.id)!).ctx.counters.snapshotsSent;
    expect(sent, 'snapshots the leader sent').toBeLessThanOrEqual(2);
    const lastKey = `w${n - 1}`;
    await waitFor(async () => (await cluster!.peek(down, lastKey)) === `v${n - 1}`, 10_000, 'the last write on the follower');
  }, 30_000);
});

describe('raftstore: leader transfer', () => {
  it('moves leadership to a voter that is ready, and to a fresh voter only once it applied its promotion; writes are never held meanwhile', async () => {
    cluster = new TestCluster({ stores: 4 });
    const region = await cluster.start([1, 2, 3]);
    const first = await cluster.waitLeader(region.id);
    await cluster.put('a', '1');
    const transfer = (from: number, to: number) => {
      const peer = cluster!.store(to).peers.get(region.id)!.peerId;
      cluster!.store(from).send(region.id, { type: 'transferLeader', peerId: peer });
    };
    // A ready voter: leadership moves.
    const second = [1, 2, 3].find((s) => s !== first)!;
    transfer(first, second);
    await waitFor(() => cluster!.leaderStore(region.id) === second, 10_000, 'the transfer to a ready voter');
    // A learner on store 4 is promoted while store 4 hears nothing: it cannot have applied it.
    const p4 = { id: cluster.pd.allocId(), storeId: 4, role: 'Learner' as const };
    await cluster.changePeer(region.id, 'AddLearnerNode', p4);
    await waitFor(async () => (await cluster!.peek(4, 'a')) === '1', 10_000, 'the learner to catch up');
    const heal = cluster.net.isolate(4);
    await cluster.changePeer(region.id, 'AddNode', { ...p4, role: 'Voter' });
    const leader = cluster.leaderStore(region.id)!;
    transfer(leader, 4);
    // The leader only asked; proposals are not held for an election timeout.
    for (let i = 0; i < 5; i++) {
      const local = cluster.store(leader).peers.get(region.id)!.region;
      await cluster.rawKv(leader).rawPut(cluster.contextFor(local, leader), Buffer.from(`w${i}`), Buffer.from('x'));
    }
    expect(cluster.leaderStore(region.id)).toBe(leader);
    heal();
    await waitFor(async () => (await cluster!.peek(4, 'w4')) === 'x', 10_000, 'store 4 to catch up');
    transfer(leader, 4);
    await waitFor(() => cluster!.leaderStore(region.id) === 4, 10_000, 'the transfer to the promoted voter');
    await cluster.put('b', '2');
    expect(await cluster.get('b')).toBe('2');
  });
});

describe('raftstore: consistency check', () => {
  it('finds no difference between healthy replicas and finds an injected divergence', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    const leader = await cluster.waitLeader(region.id);
    for (let i = 0; i < 10; i++) await cluster.put(`k${i}`, `v${i}`);
    const peers = () => [1, 2, 3].map((s) => cluster!.store(s).peers.get(region.id)!);
    await cluster.admin(region.id, { t: 'computeHash' });
    await waitFor(() => peers().every((p) => p.consistency.last !== undefined), 10_000, 'every replica to verify');
    expect(peers().map((p) => p.consistency.last!.ok)).toEqual([true, true, true]);
    const first = peers()[0]!.consistency.last!.index;
    const victim = [1, 2, 3].find((s) => s !== leader)!;
    await cluster.poke(victim, 'k3', 'corrupted');
    await cluster.admin(region.id, { t: 'computeHash' });
    await waitFor(() => peers().every((p) => p.consistency.last!.index > first), 10_000, 'the second check');
    for (const s of [1, 2, 3]) {
      const p = cluster.store(s).peers.get(region.id)!;
      expect(p.consistency.last!.ok).toBe(s !== victim);
    }
    expect(cluster.store(victim).ctx.counters.consistencyMismatches).toBe(1);
  });
});

describe('raftstore: restart', () => {
  it('comes back after every store crashes at once with every acknowledged write', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    await cluster.waitLeader(region.id);
    const acked: string[] = [];
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 25; i++) {
        await cluster!.put(`w${w}-${i}`, `v${i}`);
        acked.push(`w${w}-${i}`);
      }
    });
    await Promise.all(writers);
    const before = new Map([1, 2, 3].map((s) => [s, cluster!.store(s).peers.get(region.id)!.applied.index]));
    for (const s of [1, 2, 3]) await cluster.crash(s);
    for (const s of [1, 2, 3]) await cluster.restart(s);
    for (const s of [1, 2, 3]) {
      const p = cluster.store(s).peers.get(region.id)!;
      expect(p.storage.hardState.commit).toBeGreaterThanOrEqual(p.applied.index);
    }
    await cluster.waitLeader(region.id);
    for (const k of acked) expect(await cluster.get(k)).toBe(`v${k.split('-')[1]}`);
    for (const s of [1, 2, 3]) {
      await waitFor(() => cluster!.store(s).peers.get(region.id)!.applied.index >= before.get(s)!, 10_000, 'applied index to come back');
    }
  });
});

describe('raftstore: split', () => {
  it('splits a region under writes; reads and writes go to the right children', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    const leader = await cluster.waitLeader(region.id);
    for (let i = 0; i < 20; i++) await cluster.put(`k${String(i).padStart(2, '0')}`, `v${i}`);
    const ctx = cluster.contextFor(cluster.store(leader).peers.get(region.id)!.region, leader);
    const regions = await cluster.rawKv(leader).splitRegion(ctx, [Buffer.from('k05'), Buffer.from('k15')]);
    expect(regions).toHaveLength(3);
    expect(regions.map((r) => r.regionEpoch.version)).toEqual([3, 3, 3]);
    expect(regions[2]!.id).toBe(region.id);
    for (const r of regions) await cluster.waitLeader(r.id);
    for (let i = 0; i < 20; i++) expect(await cluster.get(`k${String(i).padStart(2, '0')}`)).toBe(`v${i}`);
    await cluster.put('k10', 'new');
    expect(await cluster.get('k10')).toBe('new');
    // The old epoch is refused with the new regions.
    await expect(cluster.rawKv(leader).rawGet(ctx, Buffer.from('k01'))).rejects.toMatchObject({ variant: 'epochNotMatch' });
    for (const s of [1, 2, 3]) await waitFor(() => cluster!.store(s).peers.size === 3, 10_000, 'children on every store');
    // Restart keeps the split.
    for (const s of [1, 2, 3]) await cluster.crash(s);
    for (const s of [1, 2, 3]) await cluster.restart(s);
    for (const s of [1, 2, 3]) expect(cluster.store(s).peers.size).toBe(3);
    expect(await cluster.get('k10')).toBe('new');
  });
});

describe('raftstore: a full disk while a snapshot is installed', () => {
  it('is fatal for the store (not a peer left stopped for good)', async () => {
    const fatal: Array<{ storeId: number; code: unknown }> = [];
    cluster = new TestCluster({
      stores: 3,
      cfg: { raftLogGcThreshold: 5, raftLogGcCountLimit: 20, raftLogGcTickMs: 40 },
      onFatal: (storeId, err) => fatal.push({ storeId, code: (err as { code?: unknown }).code }),
    });
    const { down } = await compactPastDownFollower(cluster);
    // Only the snapshot's kv batch (80 puts) fails, as on a disk that fills up under it.
    cluster.disks(down).kv.setWriteFault((w) => (w.ops > 40 ? new EngineError(EngineErrorCodes.NO_SPACE, 'injected: no space left on device') : undefined));
    await cluster.restart(down);
    await waitFor(() => fatal.length > 0, 10_000, 'the store to fail on the snapshot write');
    expect(fatal[0]).toEqual({ storeId: down, code: EngineErrorCodes.NO_SPACE });
  });
});
