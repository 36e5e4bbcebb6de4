import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, waitFor } from '../testing/index.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.shutdown();
  cluster = undefined;
});

describe('raftstore: replication', () => {
  it('elects a leader, replicates writes to every store and serves reads', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    await cluster.waitLeader(region.id);
    await cluster.put('a', '1');
    await cluster.put('b', '2');
    expect(await cluster.get('a')).toBe('1');
    expect(await cluster.get('missing')).toBeUndefined();
    for (const id of [1, 2, 3]) await waitFor(async () => (await cluster!.peek(id, 'b')) === '2', 5000, `b on store ${id}`);
  });
});

describe('raftstore: faults', () => {
  it('fails over to a new leader without losing acknowledged writes', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    const first = await cluster.waitLeader(region.id);
    for (let i = 0; i < 20; i++) await cluster.put(`k${i}`, `v${i}`);
    await cluster.crash(first);
    const second = await waitFor(() => {
      const l = cluster!.leaderStore(region.id);
      return l !== undefined && l !== first ? l : undefined;
    }, 10_000, 'a new leader');
    expect(second).not.toBe(first);
    for (let i = 0; i < 20; i++) expect(await cluster.get(`k${i}`)).toBe(`v${i}`);
    await cluster.put('after', 'x');
    await cluster.restart(first);
    await waitFor(async () => (await cluster!.peek(first, 'after')) === 'x', 10_000, 'the restarted store to catch up');
    for (let i = 0; i < 20; i++) expect(await cluster.peek(first, `k${i}`)).toBe(`v${i}`);
  });

  it('a minority partition cannot commit and its leader stops serving lease reads', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    const leader = await cluster.waitLeader(region.id);
    await cluster.put('x', 'old');
    const others = [1, 2, 3].filter((s) => s !== leader);
    const oldPeer = cluster.store(leader).peers.get(region.id)!;
    cluster.net.partition([leader], others);
    const clock = cluster.store(leader).ctx.clock;
    const leaseEnd = oldPeer.lease.validBound();
    const ctx = cluster.contextFor(oldPeer.region, leader);
    // The old leader cannot commit.
    await expect(cluster.rawKv(leader).rawPut(ctx, Buffer.from('x'), Buffer.from('lost'))).rejects.toThrow();
    // The majority elects a new leader and commits.
    await waitFor(() => others.some((s) => cluster!.store(s).peers.get(region.id)!.isLeader), 10_000, 'a majority leader');
    // By the time a new leader exists the old one's lease has run out: no stale local read.
    expect(oldPeer.canLeaseRead(clock.nowMs())).toBe(false);
    const newLeader = others.find((s) => cluster!.store(s).peers.get(region.id)!.isLeader)!;
    // The new leader was elected only after the old lease's end (same process clock).
    expect(cluster.store(newLeader).peers.get(region.id)!.leader.since).toBeGreaterThanOrEqual(leaseEnd);
    const nctx = cluster.contextFor(cluster.store(newLeader).peers.get(region.id)!.region, newLeader);
    await cluster.rawKv(newLeader).rawPut(nctx, Buffer.from('x'), Buffer.from('new'));
    await expect(cluster.rawKv(leader).rawGet(ctx, Buffer.from('x'))).rejects.toThrow();
    cluster.net.clearFilters();
    await waitFor(async () => (await cluster!.peek(leader, 'x')) === 'new', 10_000, 'the healed store to catch up');
  });

  it('serves follower reads through ReadIndex with fresh data', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    const leader = await cluster.waitLeader(region.id);
    await cluster.put('f', '1');
    const follower = [1, 2, 3].find((s) => s !== leader)!;
    const r = cluster.store(follower).peers.get(region.id)!.region;
    const ctx = cluster.contextFor(r, follower, { replicaRead: true });
    await cluster.put('f', '2');
    const v = await cluster.rawKv(follower).rawGet(ctx, Buffer.from('f'));
    expect(Buffer.from(v!).toString()).toBe('2');
    // Without replica read a follower refuses with a leader hint.
    await expect(cluster.rawKv(follower).rawGet({ ...ctx, replicaRead: false }, Buffer.from('f'))).rejects.toMatchObject({ variant: 'notLeader' });
  });
});

describe('raftstore: reads', () => {
  it('keeps serving lease reads while reads continue (the lease is renewed ahead), and batches ReadIndex per round', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    const leader = await cluster.waitLeader(region.id);
    await cluster.put('r', '1');
    const kv = cluster.rawKv(leader);
    const ctx = cluster.contextFor(cluster.store(leader).peers.get(region.id)!.region, leader);
    const counters = cluster.store(leader).ctx.counters;
    const until = Date.now() + 4 * cluster.cfg.maxLeaderLeaseMs;
    while (Date.now() < until) await Promise.all(Array.from({ length: 8 }, () => kv.rawGet(ctx, Buffer.from('r'))));
    const before = { lease: counters.leaseReads, index: counters.readIndexReads };
    const later = Date.now() + 4 * cluster.cfg.maxLeaderLeaseMs;
    while (Date.now() < later) await Promise.all(Array.from({ length: 8 }, () => kv.rawGet(ctx, Buffer.from('r'))));
    const lease = counters.leaseReads - before.lease;
    const index = counters.readIndexReads - before.index;
    expect(lease).toBeGreaterThan(50);
    expect(index).toBeLessThan(lease / 10);
    // Follower reads issued together share ReadIndex rounds.
    const follower = [1, 2, 3].find((s) => s !== leader)!;
    const fctx = cluster.contextFor(cluster.store(follower).peers.get(region.id)!.region, follower, { replicaRead: true });
    const fc = cluster.store(follower).ctx.counters;
    const rounds0 = fc.readIndexRounds;
    await Promise.all(Array.from({ length: 50 }, () => cluster!.rawKv(follower).rawGet(fctx, Buffer.from('r'))));
    expect(fc.readIndexReads).toBeGreaterThanOrEqual(50);
    expect(fc.readIndexRounds - rounds0).toBeLessThan(10);
  });
});

describe('raftstore: flow control', () => {
  it('refuses writes with ServerIsBusy once too many proposals wait for commit', async () => {
    cluster = new TestCluster({ stores: 3, cfg: { maxPendingProposals: 2 } });
    const region = await cluster.start();
    const leader = await cluster.waitLeader(region.id);
    const ctx = cluster.contextFor(cluster.store(leader).peers.get(region.id)!.region, leader);
    cluster.net.isolate(leader);
    // One write per poll round, so each becomes its own proposal (writes of one round batch).
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < 6; i++) {
      const w = cluster.rawKv(leader).rawPut(ctx, Buffer.from(`k${i}`), Buffer.from('v'));
      w.catch(() => undefined);
      writes.push(w);
      await new Promise((r) => setTimeout(r, 5));
    }
    const results = await Promise.allSettled(writes);
    const busy = results.filter((r) => r.status === 'rejected' && (r.reason as { variant?: string }).variant === 'serverIsBusy');
    expect(busy.length).toBeGreaterThan(0);
    cluster.net.clearFilters();
  });
});

describe('raftstore: requests', () => {
  it('checks epochs and key ranges, and supports scan, batch ops, delete range and CAS', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    const leader = await cluster.waitLeader(region.id);
    const kv = cluster.rawKv(leader);
    const ctx = cluster.contextFor(cluster.store(leader).peers.get(region.id)!.region, leader);
    const b = (s: string) => Buffer.from(s);
    await kv.rawBatchPut(ctx, ['a', 'b', 'c', 'd'].map((k) => ({ key: b(k), value: b(k.toUpperCase()) })));
    expect((await kv.rawScan(ctx, { startKey: b('b'), endKey: b(''), limit: 10, keyOnly: false, reverse: false })).map((p) => Buffer.from(p.key).toString())).toEqual(['b', 'c', 'd']);
    expect((await kv.rawScan(ctx, { startKey: b('d'), endKey: b('a'), limit: 2, keyOnly: true, reverse: true })).map((p) => Buffer.from(p.key).toString())).toEqual(['c', 'b']);
    await kv.rawDeleteRange(ctx, b('b'), b('d'));
    expect((await kv.rawBatchGet(ctx, [b('a'), b('b'), b('c'), b('d')])).map((p) => Buffer.from(p.key).toString())).toEqual(['a', 'd']);
    const cas1 = await kv.rawCompareAndSwap(ctx, { key: b('a'), value: b('A2'), previousNotExist: false, previousValue: b('A'), delete: false });
    expect(cas1.succeeded).toBe(true);
    const cas2 = await kv.rawCompareAndSwap(ctx, { key: b('a'), value: b('A3'), previousNotExist: false, previousValue: b('A'), delete: false });
    expect(cas2).toMatchObject({ succeeded: false, previousNotExist: false });
    expect(Buffer.from(cas2.previousValue).toString()).toBe('A2');
    // Concurrent CAS increments: exactly one winner per round, none lost.
    await kv.rawPut(ctx, b('n'), b('0'));
    let wins = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (;;) {
          const cur = await kv.rawGet(ctx, b('n'));
          const next = String(Number(Buffer.from(cur!).toString()) + 1);
          const r = await kv.rawCompareAndSwap(ctx, { key: b('n'), value: b(next), previousNotExist: false, previousValue: cur!, delete: false });
          if (r.succeeded) {
            wins++;
            return;
          }
        }
      }),
    );
    expect(wins).toBe(10);
    expect(Buffer.from((await kv.rawGet(ctx, b('n')))!).toString()).toBe('10');
    await expect(kv.rawGet({ ...ctx, regionEpoch: { confVer: 1, version: 0 } }, b('a'))).rejects.toMatchObject({ variant: 'epochNotMatch' });
    await expect(kv.rawGet({ ...ctx, regionId: 999 }, b('a'))).rejects.toMatchObject({ variant: 'regionNotFound' });
    await expect(kv.rawPut(ctx, b('zzz'), new Uint8Array(cluster.cfg.raftEntryMaxSize + 1))).rejects.toMatchObject({ variant: 'raftEntryTooLarge' });
    await expect(kv.rawGet({ ...ctx, peer: { id: 1, storeId: 42, role: 'Voter' } }, b('a'))).rejects.toMatchObject({ variant: 'storeNotMatch' });
  });
});
