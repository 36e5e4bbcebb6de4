/**
 * Issue 9, real processes: scatter. PD + 5 stores on RocksDB with the balance schedulers off, so
 * nothing but the scatter moves a region: the key space is pre-split into 8 regions, which the
 * replica checker and the split leave on the same 3 stores with their leaders together; then
 * `mrkv-ctl operator add scatter` spreads them, and the region map must show peers on every store
 * and leaders on at least 3 stores, every scatter operator ending in success, and every row
 * written before the scatter readable through the SDK (and writes after it working).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToString, createRawClient, type RawClientInternals } from '@mrkv/client';
import type { RegionView } from '@mrkv/playground';
import { E2eCluster, leadersPerStore } from '../harness/cluster.js';
import { waitFor } from '../harness/wait.js';

let cluster: E2eCluster;
let client: RawClientInternals;

beforeAll(async () => {
  cluster = await E2eCluster.start({
    stores: 5,
    disable: ['merge-checker', 'balance-hot-region-scheduler', 'balance-leader-scheduler', 'balance-region-scheduler'],
  });
  client = createRawClient({ pdEndpoints: [cluster.pdAddr], timeoutMs: 20_000, rpcTimeoutMs: 3_000 });
}, 150_000);
afterAll(async () => {
  await client?.close();
  await cluster?.stop();
});

const SPLIT_KEYS = ['s/1', 's/2', 's/3', 's/4', 's/5', 's/6', 's/7'];
const key = (i: number): string => `s/${i % 8}/${String(i).padStart(5, '0')}`;

interface OperatorJson {
  id: number;
  regionId: number;
  kind: string;
  status: string;
  reason: string;
  desc: string;
}
interface ScatterJson {
  group: string;
  operators: OperatorJson[];
  skipped: Array<{ regionId: number; code: string; reason: string }>;
}

/** Skips that clear on their own within a few heartbeats (a fresh split's peers catching up). */
const PASSING = new Set(['pending-peer', 'no-leader', 'has-operator', 'learner', 'replica-count']);

const storesOf = (r: RegionView) => r.region.peers.map((p) => String(p.storeId)).sort().join(',');
const peersPerStore = (rs: readonly RegionView[], ids: readonly string[]) => ids.map((id) => rs.filter((r) => r.region.peers.some((p) => String(p.storeId) === id)).length);

describe('scatter on a real 5-store cluster', () => {
  it('spreads 8 pre-split regions from 3 stores over all 5, peers and leaders, keeping the data', async () => {
    await cluster.waitRegions('the first region fully replicated', (rs) => rs.length === 1 && E2eCluster.fullyReplicated(rs[0]!), 60_000);
    const rows = Array.from({ length: 800 }, (_, i) => ({ key: key(i), value: `v${i}` }));
    await client.batchPut(rows);
    await cluster.split(SPLIT_KEYS);
    const before = await cluster.waitRegions('8 regions fully replicated', (rs) => rs.length === 8 && rs.every((r) => E2eCluster.fullyReplicated(r)), 30_000);
    // the split left every region on the first region's 3 stores
    expect(new Set(before.map(storesOf)).size).toBe(1);
    const ids = cluster.allStoreIds();
    const t0 = Date.now();

    // the ctl table form first, then the regions it skipped for a passing reason again
    const table = await cluster.ctl('operator', 'add', 'scatter');
    expect(table.err).toBe('');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^scatter in the default group: \d+ operator\(s\) added, \d+ region\(s\) skipped$/m);
    const added = new Map<number, number>(); // operator id -> region id
    for (const m of table.out.matchAll(/│ (\d+) +│ (\d+) +│ scatter +│ scatter-region /g)) added.set(Number(m[1]), Number(m[2]));
    let retry = [...table.out.matchAll(/│ (\d+) +│ ([a-z-]+) +│/g)].filter((m) => PASSING.has(m[2]!)).map((m) => m[1]!);
    await waitFor(
      'every region scattered or in place',
      async () => {
        if (retry.length === 0) return true;
        const j = await cluster.ctlJson<ScatterJson>('operator', 'add', 'scatter', ...retry.flatMap((id) => ['--region', id]));
        for (const o of j.operators) added.set(o.id, o.regionId);
        const hard = j.skipped.filter((s) => !PASSING.has(s.code) && s.code !== 'in-place');
        expect(hard, 'regions skipped for a lasting reason').toEqual([]);
        retry = j.skipped.filter((s) => PASSING.has(s.code)).map((s) => String(s.regionId));
        return retry.length === 0 ? true : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 300 },
    );
    expect(added.size).toBeGreaterThanOrEqual(5); // 24 peers over 5 stores: most regions must move

    const spread = (rs: RegionView[]) => {
      const leaders = [...leadersPerStore(rs, ids).values()];
      return rs.length === 8 && rs.every((r) => E2eCluster.fullyReplicated(r)) && peersPerStore(rs, ids).every((n) => n >= 1) && leaders.filter((n) => n > 0).length >= 3;
    };
    const after = await cluster.waitRegions('peers on all 5 stores and leaders on ≥ 3', spread, 40_000);
    // every scatter operator ends in success (none timed out, was cancelled or went stale)
    const ended = await waitFor(
      'the scatter operators to end',
      async () => {
        const hist = await cluster.ctlJson<OperatorJson[]>('operator', 'list', '--history');
        const ours = hist.filter((o) => added.has(o.id));
        return ours.length === added.size && ours.every((o) => o.status !== 'running') ? ours : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 300, describe: () => cluster.describeOperators() },
    );
    for (const o of ended) expect(o.status, `${o.desc}: ${o.reason}`).toBe('success');
    const peers = peersPerStore(after, ids);
    expect(Math.max(...peers) - Math.min(...peers), `peers per store ${peers.join(',')}`).toBeLessThanOrEqual(2);
    console.log(`scatter: ${added.size} operators, spread in ${Date.now() - t0} ms; peers per store ${peers.join(',')}, leaders ${[...leadersPerStore(after, ids).values()].join(',')}`);

    // every row written before the scatter reads back, and writes go on
    const got = new Map((await client.batchGet(rows.map((r) => r.key))).map((p) => [bytesToString(p.key), bytesToString(p.value)]));
    const missing = rows.filter((r) => got.get(r.key) !== r.value).map((r) => r.key);
    expect(missing, `rows lost or wrong after the scatter: ${missing.slice(0, 5).join(', ')}`).toEqual([]);
    await client.batchPut(rows.slice(0, 100).map((r) => ({ key: r.key, value: `${r.value}'` })));
    expect(bytesToString((await client.get(key(42)))!)).toBe("v42'");
  }, 150_000);
});
