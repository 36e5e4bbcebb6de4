/**
 * Issue 7, real processes: PD + 4 stores. A store killed with kill -9 and kept down past
 * `max-store-down-time` (5 s here) has its replicas rebuilt on the other three stores: every
 * region gets back to 3 voters, none on the dead store, and no acknowledged write is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToString, createRawClient, type RawClientInternals } from '@mrkv/client';
import { describeRegions, E2eCluster } from '../harness/cluster.js';
import { waitFor } from '../harness/wait.js';

let cluster: E2eCluster;
let client: RawClientInternals;

beforeAll(async () => {
  cluster = await E2eCluster.start({
    stores: 4,
    schedule: { 'store-disconnect-time': '2s', 'max-store-down-time': '5s' },
    // Only the replica checker moves peers here: balancing would blur what the repair did.
    disable: ['balance-region-scheduler', 'balance-hot-region-scheduler', 'merge-checker'],
  });
  client = createRawClient({ pdEndpoints: [cluster.pdAddr], timeoutMs: 15_000, rpcTimeoutMs: 2_000 });
}, 150_000);
afterAll(async () => {
  await client?.close();
  await cluster?.stop();
});

const key = (i: number): string => `d/${String(i).padStart(5, '0')}`;

describe('a store down past max-store-down-time', () => {
  it('gets every region back to 3 replicas on the other stores, losing no acknowledged write', async () => {
    await cluster.waitRegions('the first region fully replicated', (rs) => rs.length === 1 && E2eCluster.fullyReplicated(rs[0]!), 60_000);
    await cluster.split(['d/01000', 'd/02000', 'd/03000']);
    const before = await cluster.waitRegions('4 regions fully replicated', (rs) => rs.length === 4 && rs.every((r) => E2eCluster.fullyReplicated(r)));

    const acked = new Map<string, string>();
    for (let i = 0; i < 4000; i += 200) {
      const pairs = Array.from({ length: 200 }, (_, j) => ({ key: key(i + j), value: `v${i + j}` }));
      await client.batchPut(pairs);
      for (const p of pairs) acked.set(p.key, p.value);
    }

    // The victim: the store with the most replicas (every region it holds must be repaired).
    const counts = new Map<string, number>();
    for (const r of before) for (const p of r.region.peers) counts.set(p.storeId, (counts.get(p.storeId) ?? 0) + 1);
    const victimId = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const victim = cluster.storeById(victimId);
    await victim.kill();
    const killedAt = Date.now();

    // Writes keep being acknowledged while the store is down (2 of 3 replicas left).
    let writing = true;
    const writer = (async () => {
      for (let i = 4000; writing; i++) {
        await client.put(key(i), `v${i}`);
        acked.set(key(i), `v${i}`);
      }
    })();
    try {
      const after = await cluster.waitRegions(
        `every region rebuilt without store ${victimId}`,
        (rs) => rs.length === 4 && rs.every((r) => E2eCluster.fullyReplicated(r) && r.region.peers.every((p) => p.storeId !== victimId)),
        45_000,
      );
      // Not before the store counted as down (PD waits max-store-down-time; allow clock slack).
      expect(Date.now() - killedAt).toBeGreaterThan(4_000);
      expect(new Set(after.flatMap((r) => r.region.peers.map((p) => p.storeId))).size).toBe(3);
      const status = await cluster.ctlJson<Array<{ id: number; status: string; regionCount: number }>>('store', 'list');
      expect(status.find((s) => String(s.id) === victimId)?.status, describeRegions(after)).toBe('Down');
      const table = await cluster.ctl('store', 'list');
      expect(table.out).toMatch(new RegExp(`│ ${victimId}\\s+│ ${victim.addr.replace(/\./g, '\\.')}\\s+│ Down\\s+│ 0\\s+│`));
      const health = await cluster.ctlJson<{ stores: Record<string, number>; missPeerRegions: number }>('cluster', 'status');
      expect(health.stores).toMatchObject({ Up: 3, Down: 1 });
      expect(health.missPeerRegions).toBe(0);
      expect((await cluster.ctlJson<{ regions: unknown[] }>('region', 'check', 'miss-peer')).regions).toEqual([]);
    } finally {
      writing = false;
      await writer;
    }
    expect(acked.size).toBeGreaterThan(4000);

    const keys = [...acked.keys()];
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const got = new Map((await client.batchGet(chunk)).map((p) => [bytesToString(p.key), bytesToString(p.value)]));
      const missing = chunk.filter((k) => got.get(k) !== acked.get(k));
      expect(missing, `acknowledged writes missing: ${missing.slice(0, 5).join(', ')}`).toEqual([]);
    }
    const scanned = await client.scanAll('d/', 'd0', { keyOnly: true });
    expect(scanned.length).toBe(acked.size);
    await waitFor('the cluster to take writes on every region', async () => {
      await client.batchPut([0, 1500, 2500, 3500].map((i) => ({ key: key(i), value: 'again' })));
      return true;
    });
  }, 90_000);
});
