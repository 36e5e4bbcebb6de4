/**
 * Split and merge under load and faults (issue 9), on the in-process cluster: while concurrent
 * register clients run get / put / CAS on a small key space, regions split and merge and stores
 * crash or get cut off. Each test checks, besides its own expectations:
 * - the client history is linearizable per key (`@mrkv/checker`), indeterminate outcomes included;
 * - no store ever holds overlapping regions, every region's epoch only grows (its range changes
 *   only with a higher version), and the regions of the cluster always tile the key space
 *   (`TopologyMonitor`, on every region change and on a 5 ms poll);
 * - keys written before the faults are all there afterwards.
 * `MRKV_LONG=1` runs the many-regions test with 1,000 regions instead of 200.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { checkOperations, formatResult, HistoryRecorder, registerModel } from '@mrkv/checker';
import { EntryType } from '@mrkv/raft';
import type { Region } from '@mrkv/proto';
import type { CmdResult } from '../fsm/msgs.js';
import type { RaftstoreConfig } from '../config.js';
import { decodeRaftCmd, type AdminCmd } from '../wire/raft-cmd.js';
import { TestCluster } from '../testing/index.js';
import { RegisterWorkload } from '../testing/register-workload.js';
import { TopologyMonitor } from '../testing/topology-monitor.js';

const LONG = process.env['MRKV_LONG'] === '1';
const key = (s: string): Uint8Array => Buffer.from(s);
const sameKey = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));
/** Register keys: spread over the splits below. */
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'];

interface Run {
  cluster: TestCluster;
  history: HistoryRecorder;
  workload: RegisterWorkload;
  monitor: TopologyMonitor;
}

let run: Run | undefined;
afterEach(async () => {
  run?.monitor.stop();
  await run?.workload.stop();
  await run?.cluster.shutdown();
  run = undefined;
});

/** Starts a 3-store cluster with the workload and the monitor running. */
async function startRun(opts: { cfg?: Partial<RaftstoreConfig>; clients?: number; pollMs?: number } = {}): Promise<Run> {
  const cluster = new TestCluster({ stores: 3, ...(opts.cfg === undefined ? {} : { cfg: opts.cfg }) });
  const region = await cluster.start();
  await cluster.waitLeader(region.id);
  const history = new HistoryRecorder({ now: () => performance.now() });
  const workload = new RegisterWorkload(cluster, { recorder: history, keys: KEYS, clients: opts.clients ?? 4 });
  const monitor = new TopologyMonitor(cluster, opts.pollMs ?? 5).start();
  run = { cluster, history, workload, monitor };
  workload.start();
  return run;
}

/** Stops the load and checks the history, the layout invariants, and that the load did run. */
async function finish(r: Run, minOk = 50): Promise<void> {
  await r.workload.stop();
  await r.workload.finalReads();
  r.monitor.stop();
  expect(r.monitor.violations).toEqual([]);
  expect(r.monitor.checks).toBeGreaterThan(0);
  const result = checkOperations(registerModel, r.history.operations(), { timeoutMs: 20_000 });
  expect(result.verdict, formatResult(result)).toBe('linearizable');
  expect(r.workload.counts.ok, r.workload.errorSummary()).toBeGreaterThanOrEqual(minOk);
}

/** Splits the region holding `at` at `at`, retrying (a split whose leader crashed never answers). */
async function splitAt(c: TestCluster, at: string, timeoutMs = 15_000): Promise<void> {
  const k = key(at);
  const done = () => {
    const r = c.regionOf(k);
    return r !== undefined && sameKey(r.startKey, k);
  };
  await c.waitFor(async () => {
    if (done()) return true;
    await Promise.race([c.withLeader(k, (kv, ctx) => kv.splitRegion(ctx, [k]), 3_000).catch(() => undefined), c.sleep(3_000)]);
    return done();
  }, timeoutMs, `a split at ${at}`);
}

/** Proposes PrepareMerge of the region holding `sourceKey` into the region holding `targetKey`. */
async function prepareMerge(c: TestCluster, sourceKey: string, targetKey: string): Promise<{ source: Region; target: Region; result: CmdResult }> {
  const source = c.regionOf(key(sourceKey))!;
  const target = c.regionOf(key(targetKey))!;
  const leader = await c.waitLeader(source.id);
  const result = await new Promise<CmdResult>((resolve) => {
    if (!c.store(leader).send(source.id, { type: 'prepareMerge', target, cb: resolve })) resolve({ ok: false, error: new Error('no peer') });
  });
  return { source, target, result };
}

/** A run with 24 seeded keys, split at k4: the source (k0…) and target (k4…) of a merge. */
async function splitForMerge(): Promise<{ r: Run; c: TestCluster; seeded: string[]; src: Region; tgt: Region }> {
  const r = await startRun();
  const c = r.cluster;
  const seeded = await seed(c, 24);
  await splitAt(c, 'k4');
  await r.workload.waitOk(30);
  return { r, c, seeded, src: c.regionOf(key('k0'))!, tgt: c.regionOf(key('k4'))! };
}

/** A store that leads neither region (or at least not the source), to cut off. */
async function followerToCut(c: TestCluster, src: Region, tgt: Region): Promise<number> {
  const leaders = new Set([await c.waitLeader(src.id), await c.waitLeader(tgt.id)]);
  return [1, 2, 3].find((s) => !leaders.has(s)) ?? [1, 2, 3].find((s) => s !== c.leaderStore(src.id))!;
}

/** Waits until no running store hosts `regionId` any more. */
async function waitGone(c: TestCluster, regionId: number, timeoutMs = 15_000): Promise<void> {
  await c.waitFor(() => c.running().every((s) => !c.store(s).peers.has(regionId)), timeoutMs, `region ${regionId} to be merged away everywhere`);
}

/** Waits until every running store hosts exactly the regions of the cluster view, at the same epochs. */
async function waitConverged(r: Run, timeoutMs = 20_000): Promise<Region[]> {
  const c = r.cluster;
  return c.waitFor(() => {
    const view = r.monitor.clusterView();
    const want = view.map((x) => `${x.id}@${x.regionEpoch.version}`).join(',');
    for (const s of c.running()) {
      const have = c.store(s).ctx.meta.index.all().map((x) => `${x.id}@${x.regionEpoch.version}`).join(',');
      if (have !== want || c.store(s).peers.size !== view.length) return false;
    }
    return view;
  }, timeoutMs, 'every store to host the same regions');
}

/** The admin command an entry carries, if any. */
function adminOf(entry: { entryType: EntryType; data: Uint8Array }): AdminCmd | undefined {
  if (entry.entryType !== EntryType.EntryNormal || entry.data.length === 0) return undefined;
  return decodeRaftCmd(entry.data).admin;
}

/**
 * Crashes store `storeId` (kill -9: unsynced writes lost) just before it applies the next admin
 * command of kind `kind`. Resolves once it crashed.
 */
function crashBeforeApplying(r: Run, storeId: number, kind: AdminCmd['t']): Promise<void> {
  return new Promise((resolve) => {
    let fired = false;
    const off = r.cluster.store(storeId).observe({
      preApply: (_regionId, entry) => {
        if (fired || adminOf(entry)?.t !== kind) return;
        fired = true;
        off();
        queueMicrotask(() => void r.cluster.crash(storeId).then(resolve));
      },
    });
  });
}

async function restart(r: Run, storeId: number): Promise<void> {
  await r.cluster.restart(storeId);
  r.monitor.attach(storeId);
}

/** Writes `n` unique keys spread over the register key space (before faults), to check none is lost afterwards. */
async function seed(c: TestCluster, n: number): Promise<string[]> {
  const keys = Array.from({ length: n }, (_, i) => `${KEYS[i % KEYS.length]!}/s${String(i).padStart(3, '0')}`);
  for (const k of keys) await c.put(k, `v-${k}`);
  return keys;
}

async function expectSeeded(c: TestCluster, keys: readonly string[]): Promise<void> {
  const lost: string[] = [];
  for (const k of keys) if ((await c.get(k)) !== `v-${k}`) lost.push(k);
  expect(lost).toEqual([]);
}

describe('the layout monitor', () => {
  it('reports an epoch that goes back, one version with two ranges, and a gap', async () => {
    const r = await startRun({ clients: 1 });
    const c = r.cluster;
    await splitAt(c, 'k4');
    await waitConverged(r);
    r.monitor.checkNow();
    expect(r.monitor.violations).toEqual([]);
    // Store 1 "forgets" the split of the right region: an older epoch, a shorter range, a gap.
    const right = c.store(1).ctx.meta.index.find(key('k4'))!;
    c.store(1).ctx.meta.index.upsert({ ...right, startKey: key('k5'), regionEpoch: { ...right.regionEpoch, version: right.regionEpoch.version - 1 } });
    r.monitor.checkNow();
    expect(r.monitor.violations.join('\n')).toMatch(/epoch went back/);
    expect(r.monitor.violations.join('\n')).toMatch(/has two ranges/);
    c.store(1).ctx.meta.index.upsert(right);
    for (const s of [1, 2, 3]) c.store(s).ctx.meta.index.remove(right.id);
    r.monitor.checkNow();
    expect(r.monitor.violations.join('\n')).toMatch(/do not reach the end of the key space/);
    r.monitor.violations.length = 0;
    for (const s of [1, 2, 3]) c.store(s).ctx.meta.index.upsert(right);
  });
});

describe('split under load and faults', () => {
  it('splits continuously under concurrent writes while the leader and then a follower crash mid-split', async () => {
    const r = await startRun();
    const c = r.cluster;
    const seeded = await seed(c, 24);
    await r.workload.waitOk(30);
    await splitAt(c, 'k4');
    await splitAt(c, 'k2');
    // The leader of the next parent dies just before applying its BatchSplit (it committed).
    const parent = c.regionOf(key('k6'))!;
    const leader = await c.waitLeader(parent.id);
    const crashed = crashBeforeApplying(r, leader, 'batchSplit');
    await splitAt(c, 'k6');
    await crashed;
    await r.workload.waitOk(30);
    await restart(r, leader);
    // Now a follower of the next parent dies the same way.
    const parent2 = c.regionOf(key('k1'))!;
    const leader2 = await c.waitLeader(parent2.id);
    const follower = [1, 2, 3].find((s) => s !== leader2)!;
    const crashed2 = crashBeforeApplying(r, follower, 'batchSplit');
    await splitAt(c, 'k1');
    await crashed2;
    await splitAt(c, 'k3');
    await r.workload.waitOk(30);
    await restart(r, follower);
    for (const at of ['k5', 'k7']) await splitAt(c, at);
    await r.workload.waitOk(30);
    const view = await waitConverged(r);
    expect(view).toHaveLength(8);
    await finish(r);
    await expectSeeded(c, seeded);
  });

  it.each([
    ['by replaying the log', false],
    ['by snapshot once the parent\'s log was compacted past it', true],
  ])('a follower cut off across two splits of its region catches up %s, never with overlapping ranges', async (_how, compact) => {
    const r = await startRun(compact ? { cfg: { raftLogGcThreshold: 5, raftLogGcCountLimit: 20, raftLogGcTickMs: 40 } } : {});
    const c = r.cluster;
    const seeded = await seed(c, 16);
    const parent = c.regionOf(key('k9'))!;
    const leader = await c.waitLeader(parent.id);
    const cut = [1, 2, 3].find((s) => s !== leader)!;
    const heal = c.net.isolate(cut);
    // With right-derive the parent keeps the right end: it splits twice, its stale peer sees neither.
    await splitAt(c, 'k2');
    await splitAt(c, 'k5');
    await r.workload.waitOk(60);
    const stale = c.store(cut).peers.get(parent.id)!;
    if (compact) {
      // The parent's log moves past what the cut-off peer has, so it can only come back by snapshot.
      await c.waitFor(() => {
        const l = c.leaderStore(parent.id);
        return l !== undefined && l !== cut && c.store(l).peers.get(parent.id)!.storage.firstIndex() > stale.storage.lastIndex() + 1;
      }, 15_000, 'the parent log to be compacted past the cut-off peer');
    }
    expect(c.store(cut).peers.size).toBe(1);
    heal();
    const view = await waitConverged(r);
    expect(view).toHaveLength(3);
    const snapshots = c.store(cut).ctx.counters.snapshotsApplied;
    if (compact) expect(snapshots).toBeGreaterThan(0);
    else expect(snapshots).toBe(0);
    await r.workload.waitOk(20);
    await finish(r);
    await expectSeeded(c, seeded);
    for (const k of seeded) expect(await c.peek(cut, k)).toBe(`v-${k}`);
  });
});

describe('merge under load and faults', () => {
  it('finishes a merge whose target leader crashes while applying CommitMerge', async () => {
    const { r, c, seeded } = await splitForMerge();
    const target = c.regionOf(key('k4'))!;
    const targetLeader = await c.waitLeader(target.id);
    const crashed = crashBeforeApplying(r, targetLeader, 'commitMerge');
    const { source, result } = await prepareMerge(c, 'k0', 'k4');
    expect(result.ok).toBe(true);
    await crashed;
    await r.workload.waitOk(30);
    await waitGone(c, source.id);
    await restart(r, targetLeader);
    await waitGone(c, source.id);
    const view = await waitConverged(r);
    expect(view.map((x) => x.id)).toEqual([target.id]);
    expect(view[0]!.regionEpoch.version).toBeGreaterThan(Math.max(source.regionEpoch.version, target.regionEpoch.version));
    await r.workload.waitOk(30);
    await finish(r);
    await expectSeeded(c, seeded);
  });

  it('merges with a follower cut off after PrepareMerge applied on it, until the others committed the merge', async () => {
    const { r, c, seeded, src, tgt } = await splitForMerge();
    const cut = await followerToCut(c, src, tgt);
    // The follower goes dark the moment its source replica is frozen by PrepareMerge.
    let heal: (() => void) | undefined;
    const off = c.store(cut).observe({
      onRegionChange: (region) => {
        if (region.id === src.id && region.regionEpoch.version > src.regionEpoch.version && heal === undefined) heal = c.net.isolate(cut);
      },
    });
    const m = await prepareMerge(c, 'k0', 'k4');
    expect(m.result.ok).toBe(true);
    await c.waitFor(() => c.running().filter((s) => s !== cut).every((s) => !c.store(s).peers.has(src.id)), 15_000, 'the merge on the connected stores');
    off();
    expect(heal).toBeDefined();
    expect(c.store(cut).peers.get(src.id)?.merging).toBeDefined();
    await r.workload.waitOk(30);
    heal!();
    await waitGone(c, src.id);
    const view = await waitConverged(r);
    expect(view.map((x) => x.id)).toEqual([tgt.id]);
    await r.workload.waitOk(20);
    await finish(r);
    await expectSeeded(c, seeded);
    for (const k of seeded) expect(await c.peek(cut, k)).toBe(`v-${k}`);
  });

  it('merges or rolls back atomically with the source leader cut off right after PrepareMerge', async () => {
    const { r, c, seeded, src, tgt } = await splitForMerge();
    const srcLeader = await c.waitLeader(src.id);
    await c.waitLeader(tgt.id);
    let heal: (() => void) | undefined;
    const off = c.store(srcLeader).observe({
      onRegionChange: (region) => {
        if (region.id === src.id && region.regionEpoch.version > src.regionEpoch.version && heal === undefined) heal = c.net.isolate(srcLeader);
      },
    });
    const m = await prepareMerge(c, 'k0', 'k4');
    expect(m.result.ok).toBe(true);
    // The proposal answers at apply; the peer takes the result (and the hook fires) right after.
    await c.waitFor(() => heal !== undefined, 5_000, 'the source leader to apply PrepareMerge');
    off();
    await r.workload.waitOk(20);
    heal!();
    const view = await waitConverged(r);
    if (view.some((x) => x.id === src.id)) {
      // Rolled back: the source serves again on every store, unfrozen, at a newer epoch.
      expect(c.running().every((s) => c.store(s).peers.get(src.id)?.merging === undefined)).toBe(true);
    } else {
      expect(view.map((x) => x.id)).toEqual([tgt.id]);
    }
    await r.workload.waitOk(30);
    await finish(r);
    await expectSeeded(c, seeded);
  });

  // Regression: a replica cut off before PrepareMerge reached it has nobody left to catch up from
  // once the merge committed elsewhere (the source's other peers are destroyed); CommitMerge carries
  // the source's entries and the target replica hands them to it (CatchUpLogs, reference §4 step 3).
  it('a follower cut off across both PrepareMerge and CommitMerge catches up after the heal', async () => {
    const { r, c, seeded, src, tgt } = await splitForMerge();
    const cut = await followerToCut(c, src, tgt);
    const heal = c.net.isolate(cut);
    const m = await prepareMerge(c, 'k0', 'k4');
    expect(m.result.ok).toBe(true);
    await c.waitFor(() => c.running().filter((s) => s !== cut).every((s) => !c.store(s).peers.has(src.id)), 15_000, 'the merge on the connected stores');
    expect(c.store(cut).peers.get(src.id)?.merging).toBeUndefined();
    await r.workload.waitOk(30);
    heal();
    await waitGone(c, src.id);
    const view = await waitConverged(r);
    expect(view.map((x) => x.id)).toEqual([tgt.id]);
    await finish(r);
    await expectSeeded(c, seeded);
    for (const k of seeded) expect(await c.peek(cut, k)).toBe(`v-${k}`);
  });
});

describe('many regions', () => {
  const n = LONG ? 1_000 : 200;
  it(`splits into ${n} regions and merges them back under load`, { timeout: LONG ? 600_000 : 60_000 }, async () => {
    const r = await startRun({ clients: 2, pollMs: LONG ? 500 : 50, cfg: { raftBaseTickMs: 50, maxLeaderLeaseMs: 400, leaseReadMarginMs: 20 } });
    const c = r.cluster;
    const name = (i: number) => `m${String(i).padStart(4, '0')}`;
    // Batch splits of up to 10 keys (TiKV's batch_split_limit) on the right end, which keeps the parent id.
    for (let i = 1; i < n; i += 10) {
      const keys = Array.from({ length: Math.min(10, n - i) }, (_, j) => key(name(i + j)));
      const first = keys[0]!;
      const done = () => {
        const reg = c.regionOf(first);
        return reg !== undefined && sameKey(reg.startKey, first);
      };
      // The split answers once applied; the stores' range index follows a moment later.
      await c.waitFor(async () => done() || c.withLeader(first, (kv, ctx) => kv.splitRegion(ctx, keys)).then(() => c.waitFor(done, 5_000, 'the index'), () => false), 15_000, `the split at ${name(i)}`);
    }
    // The register keys ('k…') sort before every 'm…' key: the first region holds them all.
    let view = await waitConverged(r, 30_000);
    expect(view).toHaveLength(n);
    await r.workload.waitOk(20);
    // Merge back in rounds: in each round every other region merges into its right neighbour, so no
    // region is both a source and a target at once.
    for (let round = 0; view.length > 1; round++) {
      expect(round, 'merge rounds').toBeLessThan(4 * Math.ceil(Math.log2(n + 1)));
      const sources = view.filter((_, i) => i % 2 === 0 && i + 1 < view.length);
      const merges = sources.map(async (src) => {
        const tgt = view[view.indexOf(src) + 1]!;
        const leader = await c.waitLeader(src.id);
        const res = await new Promise<CmdResult>((resolve) => {
          if (!c.store(leader).send(src.id, { type: 'prepareMerge', target: tgt, cb: resolve })) resolve({ ok: false, error: new Error('no peer') });
        });
        if (res.ok) await waitGone(c, src.id, 30_000);
      });
      await Promise.all(merges);
      view = await waitConverged(r, 30_000);
      for (const x of view) await c.waitLeader(x.id);
    }
    expect(view[0]!.startKey.length).toBe(0);
    expect(view[0]!.endKey.length).toBe(0);
    await finish(r, 20);
  });
});
