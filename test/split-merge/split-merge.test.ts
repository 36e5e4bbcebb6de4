/**
 * Split and merge with real processes (issue 9): a playground (PD + 3 stores on RocksDB) started
 * pre-split with `--regions 4` and a small `region-max-size`; SDK clients grow one region until the
 * split checker splits it, again and again, while register clients run get / put / CAS across the
 * regions; `mrkv-ctl region list` shows the new regions, and `mrkv-ctl operator add merge` merges
 * two of them back. The client history must be linearizable per key, and every acknowledged grown
 * key readable at the end.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatResult } from '@mrkv/checker';
import { runCtl } from '@mrkv/ctl';
import { startPlayground, type Playground } from '@mrkv/playground';
import { tempDir } from '../harness/ports.js';
import { SdkWorkload } from './sdk-workload.js';

interface RegionRow {
  id: number;
  startKey: string;
  endKey: string;
  epoch: { version: number; confVer: number };
  leader: { storeId: number } | null;
}

async function ctl(pdAddr: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCtl(['--pd', pdAddr, ...args], { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

async function regionList(pdAddr: string): Promise<RegionRow[]> {
  const r = await ctl(pdAddr, '--json', 'region', 'list');
  if (r.code !== 0) throw new Error(`mrkv-ctl region list failed (${r.code}): ${r.err}`);
  return (JSON.parse(r.out) as { regions: RegionRow[] }).regions;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The last `n` lines of a log file, or why it could not be read. */
function logTail(file: string, n: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch (e) {
    return `(no log: ${e instanceof Error ? e.message : String(e)})`;
  }
}

/**
 * What the cluster looks like when the workload stalls: each store's /status (or why it did not
 * answer), the last lines of each store's log, and PD's region list.
 */
async function describeCluster(pg: Playground): Promise<string> {
  const parts: string[] = [];
  for (const s of pg.layout.stores) {
    const status = await fetch(`http://${s.statusAddr}/status`, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.text())
      .catch((e: unknown) => `no /status: ${e instanceof Error ? e.message : String(e)}`);
    const tail = logTail(s.logFile, 8);
    parts.push(`--- ${s.name} ${s.addr}: ${status.trim()}\n${tail}`);
  }
  const rows = await regionList(pg.pdAddress).catch((e: unknown) => `region list failed: ${e instanceof Error ? e.message : String(e)}`);
  parts.push(`--- regions: ${JSON.stringify(rows)}`);
  return parts.join('\n');
}

/** PD's operators and the merge lines of every log, for a merge that does not finish. */
async function describeMerge(pg: Playground, regionIds: readonly number[]): Promise<string> {
  const parts: string[] = [];
  for (const id of regionIds) {
    const ops = await ctl(pg.pdAddress, 'operator', 'list', '--history', '--region', String(id));
    parts.push(`--- operators of region ${id}:\n${ops.out.trim()}${ops.err.trim()}`);
  }
  const mergeLines = (file: string) => logTail(file, 100_000).split('\n').filter((l) => /merg|PD operator step failed/i.test(l)).slice(-12).join('\n');
  parts.push(`--- pd:\n${mergeLines(pg.layout.pd.logFile)}`);
  for (const s of pg.layout.stores) parts.push(`--- ${s.name}:\n${mergeLines(s.logFile)}`);
  return parts.join('\n');
}

/**
 * Waits for `n` more answered register operations; a store that exits fails the wait at once,
 * and a stall fails it with the cluster's state attached.
 */
async function answered(pg: Playground, w: SdkWorkload, n: number): Promise<void> {
  const exited = pg.failure.then((e) => Promise.reject(e));
  exited.catch(() => undefined);
  try {
    await Promise.race([w.waitOk(n), exited]);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${await describeCluster(pg)}`, { cause: e });
  }
}

/** True if the rows tile the key space in key order. */
function tiles(rows: readonly RegionRow[]): boolean {
  let expect = '';
  for (const [i, r] of rows.entries()) {
    if (r.startKey !== expect) return false;
    if (r.endKey === '') return i === rows.length - 1;
    expect = r.endKey;
  }
  return false;
}

// MRKV_TEST_LOG_DIR=<dir>: the playground (PD and store logs under <dir>/pg/logs) is kept there.
const logDir = process.env.MRKV_TEST_LOG_DIR;
const dir = logDir ? { path: logDir, cleanup: () => undefined } : tempDir('mrkv-split-merge-');
let playground: Playground | undefined;
let workload: SdkWorkload | undefined;
afterAll(async () => {
  await workload?.stop().catch(() => undefined);
  await workload?.close().catch(() => undefined);
  await playground?.stop();
  dir.cleanup();
});

describe('split and merge across real processes', () => {
  it('splits a growing region by size, lists the regions with mrkv-ctl, and merges two back with an operator', { timeout: 200_000 }, async () => {
    const cfg = join(dir.path, 'store.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        raftstore: {
          'region-max-size': 64 * 1024,
          'region-split-size': 32 * 1024,
          'split-region-check-tick-ms': 200,
          'pd-heartbeat-tick-ms': 300,
        },
      }),
    );
    // Stores start from sources (tsx): up to a minute and more on a loaded 2-core box (the E2E harness allows 90 s too).
    playground = await startPlayground({ dir: join(dir.path, 'pg'), basePort: 0, regions: 4, clean: true, storeArgs: ['--config', cfg], readyTimeoutMs: 90_000 });
    const pd = playground.pdAddress;
    // No scheduler moves or merges regions behind the test's back.
    for (const name of ['merge-checker', 'balance-region-scheduler', 'balance-hot-region-scheduler']) await ctl(pd, 'scheduler', 'remove', name);
    const initial = await waitFor('4 regions in PD', async () => {
      const rows = await regionList(pd);
      return rows.length === 4 && tiles(rows) ? rows : undefined;
    }, 20_000);

    // Register keys in the first, second and last regions; the grower fills the third ('k8…'-'kc…').
    const keys = ['k00000001/r', 'k40000001/r', 'kc0000001/r', 'kf0000001/r'];
    workload = new SdkWorkload({ pdAddr: pd, keys, growPrefix: 'k9/' }).start();
    await answered(playground, workload, 30);
    const grownRegion = initial.find((r) => r.startKey <= 'k9/' && (r.endKey === '' || 'k9/' < r.endKey))!;
    const split = await waitFor('the split checker to split the growing region twice', async () => {
      const rows = await regionList(pd);
      return rows.length >= initial.length + 2 && tiles(rows) ? rows : undefined;
    }, 40_000);
    workload.stopGrowing();
    // Once the grower stopped, the checker finishes the splits it has started: wait for a layout
    // that holds still for a while (the same list twice, a second apart).
    let last = '';
    const stable = await waitFor('the region layout to settle', async () => {
      await new Promise((r) => setTimeout(r, 1_000));
      const rows = await regionList(pd);
      const now = JSON.stringify(rows.map((r) => [r.id, r.startKey, r.epoch.version]));
      const settled = now === last && tiles(rows);
      last = now;
      return settled ? rows : undefined;
    }, 30_000);
    expect(stable.length).toBeGreaterThanOrEqual(split.length);
    // The grown range is now cut into several regions, each at a newer version than its parent.
    const inGrown = stable.filter((r) => r.startKey >= grownRegion.startKey && (grownRegion.endKey === '' || (r.endKey !== '' && r.endKey <= grownRegion.endKey)));
    expect(inGrown.length).toBeGreaterThanOrEqual(3);
    for (const r of inGrown) expect(r.epoch.version).toBeGreaterThan(grownRegion.epoch.version);
    const table = await ctl(pd, 'region', 'list');
    expect(table.code).toBe(0);
    for (const r of inGrown) expect(table.out).toMatch(new RegExp(`│ ${r.id} +│ ${r.startKey} +│`));
    await answered(playground, workload, 30);

    // Merge the first two regions of the grown range with an operator.
    // An operator that does not finish is added again, as a person at the console would (once a
    // merge operator in a full CI run did not finish within 30 s), on the first two regions of the
    // grown range as PD lists them then (a late size split may have changed them); what happened
    // is printed so the cause can be found, and a merge that never happens still fails the test.
    let [source, target] = [inGrown[0]!, inGrown[1]!];
    // Merged: the source is gone and the target lives on at a newer version. (The merged region
    // may at once be split again by size — the store's limits here are small — so its start key
    // is not checked: in CI the checker re-split it within a second of the merge.)
    const mergedRows = async () => {
      const rows = await regionList(pd);
      const t = rows.find((r) => r.id === target.id);
      const newer = t !== undefined && t.epoch.version > Math.max(source.epoch.version, target.epoch.version);
      return rows.every((r) => r.id !== source.id) && newer && tiles(rows) ? rows : undefined;
    };
    const add = await ctl(pd, 'operator', 'add', 'merge', String(source.id), String(target.id));
    expect(add.code, add.err).toBe(0);
    let merged = await waitFor('the merge to show in PD', mergedRows, 30_000).catch(() => undefined);
    if (merged === undefined) {
      console.log(`[split-merge] merge of ${source.id} into ${target.id} not done in 30 s:\n${await describeMerge(playground, [source.id, target.id])}`);
      const now = (await regionList(pd)).filter((r) => r.startKey >= grownRegion.startKey);
      [source, target] = [now[0]!, now[1]!];
      const again = await ctl(pd, 'operator', 'add', 'merge', String(source.id), String(target.id));
      merged = await waitFor(`the merge of ${source.id} into ${target.id} to show in PD (operator added again: ${again.code} ${again.err.trim()})`, mergedRows, 45_000);
    }
    const t = merged.find((r) => r.id === target.id)!;
    expect(t.epoch.version).toBeGreaterThan(Math.max(source.epoch.version, target.epoch.version));
    await answered(playground, workload, 30);

    await workload.stop();
    console.log(`[split-merge] ${stable.length} regions; register ops ok ${workload.counts.ok}, failed ${workload.counts.fail}, indeterminate ${workload.counts.info}; longest gap ${workload.longestGap.ms} ms (ended at +${workload.longestGap.endedAtMs} ms); errors: ${workload.errorSummary() || 'none'}`);
    const missing = await workload.finalReads();
    expect(missing).toEqual([]);
    expect(workload.grown.size).toBeGreaterThan(0);
    const result = workload.check();
    expect(result.verdict, formatResult(result)).toBe('linearizable');
    expect(workload.counts.ok, workload.errorSummary()).toBeGreaterThan(90);
  });
});
