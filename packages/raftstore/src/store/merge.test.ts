import { afterEach, describe, expect, it } from 'vitest';
import { NotLeaderError, type Region } from '@mrkv/proto';
import type { CmdResult } from '../fsm/msgs.js';
import { TestCluster, waitFor } from '../testing/index.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.shutdown();
  cluster = undefined;
});

const key = (s: string) => Buffer.from(s);

async function split(c: TestCluster, at: string): Promise<Region[]> {
  return c.withLeader(key(at), (kv, ctx) => kv.splitRegion(ctx, [key(at)]));
}

/**
 * Proposes PrepareMerge of `source` into `target` on the source's leader. A refusal that only
 * says "not yet" (a leader that just changed, a follower whose progress the fresh leader has not
 * heard yet) is retried, as PD's merge checker would; the last answer is returned.
 */
async function prepareMerge(c: TestCluster, sourceId: number, target: Region, timeoutMs = 15_000): Promise<CmdResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const leader = await c.waitLeader(sourceId);
    const r = await new Promise<CmdResult>((resolve) => {
      if (!c.store(leader).send(sourceId, { type: 'prepareMerge', target, cb: resolve })) resolve({ ok: false, error: new Error('no peer') });
    });
    const transient = !r.ok && (r.error instanceof NotLeaderError || /too far behind|membership change|no peer/i.test(r.error.message));
    if (!transient || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('raftstore: split triggers', () => {
  it('splits by itself when a region grows past regionMaxKeys, and on a PD SCAN split operator', async () => {
    cluster = new TestCluster({ stores: 3, cfg: { regionMaxKeys: 30, regionSplitKeys: 20, splitRegionCheckTickMs: 100 } });
    const region = await cluster.start();
    await cluster.waitLeader(region.id);
    for (let i = 0; i < 40; i++) await cluster.put(`k${String(i).padStart(3, '0')}`, 'v');
    await waitFor(() => cluster!.store(cluster!.leaderStore(region.id) ?? 1).peers.size >= 2, 10_000, 'the split checker to split');
    for (let i = 0; i < 40; i++) expect(await cluster.get(`k${String(i).padStart(3, '0')}`)).toBe('v');
    // A PD split operator without keys splits the region in the middle.
    const small = new TestCluster({ stores: 3 });
    try {
      const r = await small.start();
      const leader = await small.waitLeader(r.id);
      for (let i = 0; i < 10; i++) await small.put(`a${i}`, 'v');
      small.pd.sendOperator(leader, small.store(leader).peers.get(r.id)!.region, { kind: 'splitRegion', policy: 'SCAN', keys: [] });
      await waitFor(() => small.store(leader).peers.size === 2, 10_000, 'the SCAN split');
      const left = small.regionOf(key('a0'))!;
      expect(left.endKey.length).toBeGreaterThan(0);
      expect(await small.get('a9')).toBe('v');
    } finally {
      await small.shutdown();
    }
  });
});

describe('raftstore: merge', () => {
  it('merges a region into its neighbour on every replica; data, reads and writes follow; restart keeps it', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    await cluster.waitLeader(region.id);
    for (const k of ['a', 'b', 'n', 'x']) await cluster.put(k, `v-${k}`);
    const [left, right] = await split(cluster, 'm');
    for (const r of [left!, right!]) await cluster.waitLeader(r.id);
    for (const s of [1, 2, 3]) await waitFor(() => cluster!.store(s).peers.size === 2, 10_000, 'both regions on every store');
    const r = await prepareMerge(cluster, left!.id, cluster.regionOf(key('x'))!);
    expect(r.ok).toBe(true);
    for (const s of [1, 2, 3]) await waitFor(() => cluster!.store(s).peers.size === 1, 10_000, `the merge on store ${s}`);
    const merged = cluster.regionOf(key('a'))!;
    expect(merged.id).toBe(right!.id);
    expect(merged.startKey.length).toBe(0);
    expect(merged.endKey.length).toBe(0);
    expect(merged.regionEpoch.version).toBeGreaterThan(right!.regionEpoch.version);
    for (const k of ['a', 'b', 'n', 'x']) expect(await cluster.get(k)).toBe(`v-${k}`);
    await cluster.put('c', 'after');
    expect(await cluster.get('c')).toBe('after');
    for (const s of [1, 2, 3]) expect(await cluster.peek(s, 'b')).toBe('v-b');
    for (const s of [1, 2, 3]) await cluster.crash(s);
    for (const s of [1, 2, 3]) await cluster.restart(s);
    for (const s of [1, 2, 3]) expect([...cluster.store(s).peers.keys()]).toEqual([right!.id]);
    expect(await cluster.get('a')).toBe('v-a');
    expect(await cluster.get('c')).toBe('after');
  });

  it('freezes the source while merging and rolls back when the target changed meanwhile', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    await cluster.waitLeader(region.id);
    await cluster.put('a', '1');
    const [left, right] = await split(cluster, 'm');
    for (const r of [left!, right!]) await cluster.waitLeader(r.id);
    const staleTarget = cluster.regionOf(key('x'))!;
    // The target splits again: PrepareMerge below names its old epoch and range.
    await split(cluster, 't');
    const r = await prepareMerge(cluster, left!.id, staleTarget);
    expect(r.ok).toBe(true);
    // The source rolls back by itself and serves again with a newer epoch.
    await waitFor(() => {
      const leader = cluster!.leaderStore(left!.id);
      const p = leader === undefined ? undefined : cluster!.store(leader).peers.get(left!.id);
      return p !== undefined && p.merging === undefined && p.region.regionEpoch.version > left!.regionEpoch.version + 1;
    }, 10_000, 'the rollback');
    await cluster.put('b', '2');
    expect(await cluster.get('a')).toBe('1');
    expect(await cluster.get('b')).toBe('2');
    for (const s of [1, 2, 3]) expect(cluster.store(s).peers.size).toBe(3);
  });
});
