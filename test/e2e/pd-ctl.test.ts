/**
 * Issue 7, real processes: PD + 4 stores on RocksDB, steered and inspected with mrkv-ctl.
 *
 * In order, on one cluster (a cluster takes most of a minute to start on a loaded 2-core box):
 * 1. leaders spread over the stores within a bounded time after the key space is pre-split;
 * 2. `operator add transfer-leader | add-peer | remove-peer | split | merge`, each with its table or
 *    `--json` output checked and its effect seen in PD's region map, data intact through all of it;
 * 3. PD restarted mid-run (SIGTERM, then kill -9) under a running SDK writer: the region map comes
 *    back identical, the TSO never goes backwards, every acknowledged write stays readable;
 * 4. the merge checker, once enabled, merges the small regions, lining up peers on different
 *    stores first, and no data is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToString, ClientErrorCodes, createRawClient, isClientError, type RawClientInternals } from '@mrkv/client';
import type { RegionView } from '@mrkv/playground';
import { describeRegions, E2eCluster, leadersPerStore, type CtlResult } from '../harness/cluster.js';
import { waitFor } from '../harness/wait.js';

let cluster: E2eCluster;
let client: RawClientInternals;

beforeAll(async () => {
  cluster = await E2eCluster.start({ stores: 4, disable: ['merge-checker', 'balance-hot-region-scheduler'] });
  client = createRawClient({ pdEndpoints: [cluster.pdAddr], timeoutMs: 20_000, rpcTimeoutMs: 3_000 });
}, 150_000);
afterAll(async () => {
  await client?.close();
  await cluster?.stop();
});

/** Keys `p/<region digit>/<n>`: the split keys below put them into 8 regions. */
const SPLIT_KEYS = ['p/1', 'p/2', 'p/3', 'p/4', 'p/5', 'p/6', 'p/7'];
const key = (i: number): string => `p/${i % 8}/${String(i).padStart(5, '0')}`;
const written = new Map<string, string>();

interface RegionJson {
  id: number;
  startKey: string;
  endKey: string;
  epoch: { version: number; confVer: number };
  peers: Array<{ id: number; storeId: number; role: string }>;
  leader: { id: number; storeId: number } | null;
  pendingPeers: Array<{ id: number; storeId: number }>;
  downPeers: Array<{ peer: { id: number; storeId: number } }>;
}
interface OperatorJson {
  id: number;
  regionId: number;
  desc: string;
  kind: string;
  status: string;
  steps: string[];
}

/**
 * Failures after which a batch put is worth sending again: it was not applied, or it may have
 * been (in doubt) and applying the same values twice changes nothing.
 */
const RETRIED_PUT_FAILURES: ReadonlySet<string> = new Set([
  ClientErrorCodes.UNDETERMINED,
  ClientErrorCodes.STORE_UNAVAILABLE,
  ClientErrorCodes.REGION_UNAVAILABLE,
  ClientErrorCodes.DEADLINE_EXCEEDED,
  ClientErrorCodes.REGION_ERROR,
]);

/** Writes rows `[from, to)`, sending the batch again while the outcome is unknown (puts are idempotent). */
async function writeRows(from: number, to: number): Promise<void> {
  const pairs = Array.from({ length: to - from }, (_, j) => ({ key: key(from + j), value: `v${from + j}` }));
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await client.batchPut(pairs);
      break;
    } catch (e) {
      if (!isClientError(e) || !RETRIED_PUT_FAILURES.has(e.code) || Date.now() > deadline) throw e;
    }
  }
  for (const p of pairs) written.set(p.key, p.value);
}

async function expectAllReadable(acked: ReadonlyMap<string, string>): Promise<void> {
  const keys = [...acked.keys()];
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const got = new Map((await client.batchGet(chunk)).map((p) => [bytesToString(p.key), bytesToString(p.value)]));
    const missing = chunk.filter((k) => got.get(k) !== acked.get(k));
    expect(missing, `acknowledged writes missing or wrong: ${missing.slice(0, 5).join(', ')}`).toEqual([]);
  }
}

/** The operator id in ctl's table output ("operator 12 added: …"). */
function addedId(out: string): number {
  const m = /^operator (\d+) added: /m.exec(out);
  if (!m) throw new Error(`no "operator N added" line in: ${out}`);
  return Number(m[1]);
}

/** Waits until operator `opId` on `regionId` ended; expects `success`. */
async function expectOperatorSucceeds(regionId: number, opId: number, timeoutMs = 30_000): Promise<OperatorJson> {
  const done = await waitFor(
    `operator ${opId} on region ${regionId} to end`,
    async () => {
      const hist = await cluster.ctlJson<OperatorJson[]>('operator', 'list', '--history', '--region', String(regionId));
      const o = hist.find((x) => x.id === opId);
      return o !== undefined && o.status !== 'running' ? o : undefined;
    },
    { timeoutMs, intervalMs: 200, describe: () => cluster.describeOperators() },
  );
  expect(done.status, `${done.desc}: ${JSON.stringify(done)}`).toBe('success');
  return done;
}

const region = (id: number) => cluster.ctlJson<RegionJson>('region', 'show', String(id));

/** A leader known to PD and no pending or down peer: what PD requires before it moves anything. */
const healthy = (r: RegionJson): boolean => r.leader !== null && r.pendingPeers.length === 0 && r.downPeers.length === 0;

/**
 * Waits until PD reports every region in `ids` healthy, as an operator checks (`region check
 * pending-peer`) before issuing an operator. Right after a split or a membership change a new
 * peer is pending until it has caught up with its leader, and PD refuses to move or merge it.
 */
async function waitHealthy(...ids: number[]): Promise<RegionJson[]> {
  return waitFor(
    `regions ${ids.join(', ')} healthy in PD (leader known, no pending or down peers)`,
    async () => {
      const rs = await Promise.all(ids.map(region));
      return rs.every(healthy) ? rs : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, describe: async () => `${describeRegions(await cluster.regions())}; ${await cluster.describeOperators()}` },
  );
}

/**
 * PD refusals that describe a passing state (a peer still catching up, a leader not yet
 * reported, an operator still finishing): an operator retries these; anything else is final.
 */
const TRANSIENT_REFUSAL = /pending or down|no leader known yet|already has a running operator/;

/** Runs `mrkv-ctl operator add …`, retrying transient refusals (as an operator would). */
async function addOperator(...args: string[]): Promise<CtlResult> {
  let last: CtlResult | undefined;
  return waitFor(
    `mrkv-ctl ${args.join(' ')} to be accepted`,
    async () => {
      const r = await cluster.ctl(...args);
      if (r.code === 1 && TRANSIENT_REFUSAL.test(r.err)) {
        last = r;
        return undefined;
      }
      return r;
    },
    { timeoutMs: 30_000, intervalMs: 300, describe: () => `last refusal: ${last?.err.trim() ?? 'none'}` },
  );
}

/** {@link addOperator} with `--json`: expects acceptance and parses the operator. */
async function addOperatorJson(...args: string[]): Promise<OperatorJson> {
  const r = await addOperator('--json', ...args);
  if (r.code !== 0) throw new Error(`mrkv-ctl ${args.join(' ')} exited ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as OperatorJson;
}

describe('PD and mrkv-ctl on a real 4-store cluster', () => {
  it('spreads leaders over the stores within a bounded time after pre-splitting', async () => {
    await cluster.waitRegions('the first region fully replicated', (rs) => rs.length === 1 && E2eCluster.fullyReplicated(rs[0]!), 60_000);
    await cluster.split(SPLIT_KEYS);
    const splitAt = Date.now();
    const ids = cluster.allStoreIds();
    const balanced = (rs: RegionView[]) => {
      const counts = [...leadersPerStore(rs, ids).values()];
      return rs.length === 8 && rs.every((r) => E2eCluster.fullyReplicated(r)) && Math.max(...counts) - Math.min(...counts) <= 1;
    };
    // Bound: 45 s on a loaded 2-core machine (each move is a heartbeat round trip plus an election).
    const rs = await cluster.waitRegions('8 regions, leaders spread over 4 stores (gap ≤ 1)', balanced, 45_000);
    const tookMs = Date.now() - splitAt;
    expect(tookMs).toBeLessThan(45_000);
    expect(Math.min(...leadersPerStore(rs, ids).values())).toBeGreaterThanOrEqual(1);
    await writeRows(0, 2000);
  }, 110_000);

  it('runs operators end to end: transfer-leader, add-peer, remove-peer, split, merge', async () => {
    // Nothing but ctl moves anything now (the replica checker would take a 4th voter away again).
    for (const name of ['balance-leader-scheduler', 'balance-region-scheduler', 'replica-checker']) {
      const off = await cluster.ctl('scheduler', 'remove', name);
      expect(off.code, off.err).toBe(0);
      expect(off.out).toContain(`${name} is disabled`);
    }
    const schedulers = await cluster.ctlJson<Array<{ name: string; enabled: boolean }>>('scheduler', 'list');
    expect(schedulers.filter((s) => s.enabled).map((s) => s.name)).toEqual([]);

    // The region of p/3/…: found by key as text and as hex, the same region.
    const r0 = await cluster.ctlJson<RegionJson>('region', 'key', 'p/3/x');
    expect((await cluster.ctlJson<RegionJson>('region', 'key', `0x${Buffer.from('p/3/x').toString('hex')}`)).id).toBe(r0.id);
    expect([r0.startKey, r0.endKey]).toEqual(['p/3', 'p/4']);
    const rid = String(r0.id);

    // transfer-leader (table output)
    const [cur] = await waitHealthy(r0.id);
    const from = cur!.leader!.storeId;
    const to = cur!.peers.find((p) => p.storeId !== from)!.storeId;
    const tl = await addOperator('operator', 'add', 'transfer-leader', rid, String(to));
    expect(tl.code, tl.err).toBe(0);
    expect(tl.out).toContain(`transfer leader of region ${rid} from store ${from} to store ${to}`);
    expect(tl.out).toMatch(/│ ID\s+│ REGION\s+│ KIND\s+│/);
    await expectOperatorSucceeds(r0.id, addedId(tl.out));
    expect((await region(r0.id)).leader?.storeId).toBe(to);

    // add-peer on the store without a replica (--json output)
    const spare = cluster.allStoreIds().map(Number).find((s) => !r0.peers.some((p) => p.storeId === s))!;
    await waitHealthy(r0.id);
    const ap = await addOperatorJson('operator', 'add', 'add-peer', rid, String(spare));
    expect(ap).toMatchObject({ regionId: r0.id, kind: 'admin', status: 'running' });
    expect(ap.steps).toEqual([expect.stringMatching(new RegExp(`^add learner peer \\d+ on store ${spare}$`)), expect.stringMatching(new RegExp(`promote learner peer \\d+ on store ${spare} to voter`))]);
    await expectOperatorSucceeds(r0.id, ap.id, 60_000);
    const r4 = await waitFor('4 voters on the region', async () => {
      const r = await region(r0.id);
      return r.peers.length === 4 && r.peers.every((p) => p.role === 'Voter') ? r : undefined;
    });
    expect(r4.peers.map((p) => p.storeId).sort()).toEqual(cluster.allStoreIds().map(Number).sort());
    const shown = await cluster.ctl('region', 'show', rid);
    expect(shown.out).toMatch(new RegExp(`│ peers \\(\\*=leader\\)\\s+│ .*@s${spare}`));

    // remove-peer on the leader's store: the leader moves away first
    await waitHealthy(r0.id);
    const rp = await addOperatorJson('operator', 'add', 'remove-peer', rid, String(to));
    expect(rp.steps[0]).toMatch(new RegExp(`^transfer leader from store ${to} to store \\d+$`));
    expect(rp.steps[1]).toMatch(new RegExp(`^remove peer \\d+ on store ${to}$`));
    await expectOperatorSucceeds(r0.id, rp.id);
    const r3 = await waitFor(
      'the peer on the old leader store gone',
      async () => {
        const r = await region(r0.id);
        return r.peers.length === 3 && r.leader !== null && !r.peers.some((p) => p.storeId === to) ? r : undefined;
      },
      { describe: async () => `${JSON.stringify(await region(r0.id))}; ${await cluster.describeOperators()}` },
    );
    expect(r3.leader!.storeId).not.toBe(to);
    expect((await cluster.ctlJson<{ regions: unknown[] }>('region', 'check', 'miss-peer')).regions).toEqual([]);

    // split at a key (table), then merge the right half back (peers line up after a split)
    await waitHealthy(r0.id);
    const sp = await addOperator('operator', 'add', 'split', rid, '--key', 'p/3/5');
    expect(sp.code, sp.err).toBe(0);
    expect(sp.out).toContain(`split region ${rid} (USEKEY)`);
    await waitFor('the split to show in PD', async () => {
      const k = await cluster.ctlJson<RegionJson>('region', 'key', 'p/3/5');
      return k.startKey === 'p/3/5' && k.leader !== null ? true : undefined;
    }, { timeoutMs: 30_000, describe: () => cluster.describeOperators() });
    const left = await cluster.ctlJson<RegionJson>('region', 'key', 'p/3/0');
    const right = await cluster.ctlJson<RegionJson>('region', 'key', 'p/3/5');
    expect([left.startKey, left.endKey, right.startKey, right.endKey]).toEqual(['p/3', 'p/3/5', 'p/3/5', 'p/4']);
    // The right half keeps the region id (raftstore.right-derive-when-split, as TiKV).
    expect(right.id).toBe(r0.id);
    expect(left.id).not.toBe(r0.id);
    const list = await cluster.ctl('region', 'list', '--start', 'p/3', '--end', 'p/4');
    expect(list.out).toMatch(/│ p\/3\s+│ p\/3\/5\s+│/);
    expect(list.out).toMatch(/│ p\/3\/5\s+│ p\/4\s+│/);
    await expectAllReadable(written);

    // Both halves' new peers are pending until they caught up with their leaders: wait, as an
    // operator would, and retry a refusal that raced with a heartbeat.
    await waitHealthy(right.id, left.id);
    const mg = await addOperatorJson('operator', 'add', 'merge', String(right.id), String(left.id));
    expect(mg.desc).toBe(`merge region ${right.id} into region ${left.id}`);
    await waitFor('the merge to show in PD', async () => {
      const k = await cluster.ctlJson<RegionJson>('region', 'key', 'p/3/5');
      return k.id === left.id && k.startKey === 'p/3' && k.endKey === 'p/4' ? true : undefined;
    }, { timeoutMs: 40_000, describe: async () => `${describeRegions(await cluster.regions())}; ${await cluster.describeOperators()}` });
    const gone = await cluster.ctl('region', 'show', String(right.id));
    expect(gone.code).toBe(1);
    expect(gone.err).toContain('ErrRegionNotFound');
    await expectAllReadable(written);
    await writeRows(2000, 2400);
    expect(bytesToString((await client.get(key(2003)))!)).toBe('v2003');

    // Refusals: exit code 1 with PD's error code; bad usage: 2.
    const refused = await cluster.ctl('operator', 'add', 'transfer-leader', String(left.id), '999');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/has no peer on store 999/);
    expect((await cluster.ctl('operator', 'add', 'split', 'nope')).code).toBe(2);

    const on = await cluster.ctl('scheduler', 'add', 'replica-checker');
    expect([on.code, on.out.trim()]).toEqual([0, 'replica-checker is enabled']);
  }, 150_000);

  it('restarts PD (SIGTERM, then kill -9) mid-run without losing region info; TSO never goes backwards', async () => {
    const acked = new Map<string, string>();
    let writing = true;
    let failures = 0;
    const writer = (async () => {
      for (let i = 10_000; writing; i++) {
        try {
          await client.put(key(i), `w${i}`);
          acked.set(key(i), `w${i}`);
        } catch {
          failures++; // unknown outcome: not acknowledged (checked below to be rare)
        }
      }
    })();
    const tso = async () => BigInt((await cluster.ctlJson<{ timestamp: string }>('tso')).timestamp);
    const shape = (rs: RegionView[]) => rs.map((r) => ({ id: r.region.id, start: bytesToString(r.region.startKey), end: bytesToString(r.region.endKey), epoch: r.region.regionEpoch, peers: r.region.peers.map((p) => `${p.id}@${p.storeId}`).sort() }));
    try {
      let last = await tso();
      for (const how of ['SIGTERM', 'SIGKILL'] as const) {
        await waitFor('writes in progress', () => (acked.size > 20 ? true : undefined));
        const before = shape(await cluster.regions());
        const storesBefore = await cluster.ctlJson<Array<{ id: number; address: string }>>('store', 'list');
        const t1 = await tso();
        expect(t1).toBeGreaterThan(last);
        const exit = await cluster.restartPd(how);
        expect(exit, how).toEqual(how === 'SIGTERM' ? { code: 0, signal: null } : { code: null, signal: 'SIGKILL' });
        // Right after the restart, before any store reported again: everything came from disk.
        const after = shape(await cluster.regions());
        expect(after).toEqual(before);
        const storesAfter = await cluster.ctlJson<Array<{ id: number; address: string }>>('store', 'list');
        expect(storesAfter.map((s) => [s.id, s.address])).toEqual(storesBefore.map((s) => [s.id, s.address]));
        last = await tso();
        expect(last).toBeGreaterThan(t1);
        // Stores reconnect and report leaders again; writes go on.
        const n = acked.size;
        await cluster.waitRegions('leaders reported to the restarted PD', (rs) => rs.length === before.length && rs.every((r) => r.leader !== undefined), 30_000);
        await waitFor('writes after the restart', () => (acked.size > n + 20 ? true : undefined), { timeoutMs: 30_000 });
      }
    } finally {
      writing = false;
      await writer;
    }
    expect(failures, 'SDK writes that failed while PD restarted').toBeLessThanOrEqual(2);
    await expectAllReadable(acked);
  }, 150_000);

  it('the merge checker merges small neighbours, lining up peers on different stores first', async () => {
    const before = await cluster.regions();
    expect(before.length).toBe(8);
    const storeSets = new Set(before.map((r) => r.region.peers.map((p) => p.storeId).sort().join(',')));
    expect(storeSets.size, 'neighbours on different stores (set up by balancing and the ctl moves above)').toBeGreaterThan(1);
    expect((await cluster.ctl('config', 'set', 'split-merge-interval', '0s')).code).toBe(0);
    const on = await cluster.ctl('scheduler', 'add', 'merge-checker');
    expect(on.code, on.err).toBe(0);
    const merged = await cluster.waitRegions('at most 2 regions left after merging', (rs) => rs.length <= 2 && rs.every((r) => E2eCluster.fullyReplicated(r)), 90_000);
    expect(merged.length).toBeLessThanOrEqual(2);
    const hist = await cluster.ctlJson<OperatorJson[]>('operator', 'list', '--history');
    const merges = hist.filter((o) => o.kind === 'merge' && o.status === 'success');
    expect(merges.some((o) => o.desc.includes('peers moved first')), hist.map((o) => `${o.desc}: ${o.status}`).join('; ')).toBe(true);
    await expectAllReadable(written);
    const all = await client.scanAll('p/', 'p0', { keyOnly: true });
    expect(all.length).toBeGreaterThanOrEqual(written.size);
  }, 120_000);
});
