/**
 * Disk-fault scenarios of the chaos suite, on the stores' disk failpoints switched at runtime
 * through `<data-dir>/failpoints` (`MRKV_FAILPOINTS_WATCH=1`).
 *
 * What mrkv does as a disk fills (docs/architecture.md §4 "Full disk"): below
 * `storage.reserve-space` a store is AlreadyFull; its leaders refuse client writes with DiskFull
 * (the SDK's definitive `KV:Client:DiskFull`), reads go on, leaders elsewhere hold appends to it
 * while the other voters are a quorum, and writes resume by themselves when space returns — the protection path, exercised
 * with the `disk-free=<bytes>` failpoint (the store "sees" a nearly full disk; nothing fails).
 * Should a write still hit ENOSPC, the store fails stop (`raftstore I/O failed; stopping`,
 * `KV:Engine:NoSpace`, exit 1; nothing of the failed round was acknowledged) and recovers from
 * its log on restart like after kill -9 — the last resort, exercised with `disk-full`.
 *
 * - `disk-full-follower`: one follower low on space keeps running, the cluster keeps taking
 *   writes, and the leader holds its appends (TiKV: the leader stops appending to a full
 *   follower): a follower read at it does not see the newest append; with space back it catches
 *   up.
 * - `disk-full-majority`: the leader's store and a follower low on space: writes are refused with
 *   DiskFull (nothing acknowledged after the refusals began), reads still answer, and writes
 *   resume once space returns, without a restart.
 * - `enospc-failstop`: a real ENOSPC on a follower's engines: it stops (exit 1 with the fatal
 *   line), the other two keep serving; space back, restart, it catches up.
 * - `slow-fsync-kill`: every store's fsync takes 150 ms; the leader's store (long profile: every
 *   store) is killed with kill -9 while synced writes are in flight (written, maybe durable, not
 *   yet answered: undetermined), then restarted.
 *
 * Every scenario runs under the register workload and ends with the suite's checks: history
 * linearizable, no acknowledged append lost.
 */
import { expect } from 'vitest';
import { ClientErrorCodes, createRawClient, isClientError, type RawClient } from '@mrkv/client';
import type { ChaosCluster } from './chaos-cluster.js';
import { directGet } from './chaos-cluster.js';
import { hold, LONG, PROFILE, runScenario, type FaultTimes, type ScenarioReport } from './scenario.js';
import type { Workload } from './workload.js';
import { waitFor } from '../store/cluster.js';

/** How long a store may take to hit its full disk and stop (it writes at least every heartbeat). */
const STOP_WITHIN_MS = 10_000;

/** Waits until store `i` exits after its disk filled, and checks why it did. */
async function expectStoppedOnFullDisk(cluster: ChaosCluster, i: number): Promise<number> {
  const store = cluster.stores[i]!;
  const exit = await Promise.race([store.exited, hold(STOP_WITHIN_MS).then(() => undefined)]);
  expect(exit, `store ${i} kept running ${STOP_WITHIN_MS} ms after its disk filled:\n${store.tail()}`).toBeDefined();
  expect(exit!.code, `store ${i} exit`).toBe(1);
  const fatal = store.logs().find((l) => l.msg === 'raftstore I/O failed; stopping');
  expect(fatal, `no fatal I/O line in store ${i}'s log:\n${store.tail()}`).toBeDefined();
  expect(JSON.stringify(fatal)).toContain('KV:Engine:NoSpace');
  return performance.now();
}

/** The newest acknowledged append of `w` (key and value). */
function newestAppend(w: Workload): [string, string] {
  let last: [string, string] | undefined;
  for (const e of w.acked) if (e[0].includes('/a/')) last = e;
  if (last === undefined) throw new Error('no append acknowledged yet');
  return last;
}

/** Waits until a follower read at store `i` returns the newest append acknowledged now. */
async function expectCaughtUp(cluster: ChaosCluster, w: Workload, i: number, timeoutMs = 20_000): Promise<number> {
  const [key, value] = newestAppend(w);
  const t0 = performance.now();
  let last = 'no read yet';
  await waitFor(
    `store ${i} to catch up to ${key}`,
    async () => {
      const r = await cluster.view.regionOf(Buffer.from(key));
      const peer = r?.region.peers.find((p) => p.storeId === cluster.storeIds[i]);
      if (r === undefined || peer === undefined) {
        last = `no peer of store ${i} in ${JSON.stringify(r?.region.peers)}`;
        return undefined;
      }
      const got = await directGet(cluster.stores[i]!, r.region, peer, key, 1_000, true);
      last = JSON.stringify(got);
      return got.kind === 'value' && got.value === value ? true : undefined;
    },
    timeoutMs,
    100,
  ).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}; last follower read: ${last}\n${cluster.stores[i]!.tail(15)}`, { cause: e });
  });
  return Math.round(performance.now() - t0);
}

/** Runs a scenario body; if it fails, heals the disks first. */
async function withHeal(cluster: ChaosCluster, body: () => Promise<FaultTimes>): Promise<FaultTimes> {
  try {
    return await body();
  } catch (e) {
    await healDisks(cluster).catch((h: unknown) => console.error('[chaos] healing the disks after a failure failed', h));
    throw e;
  }
}

/** Space back everywhere and every store running again (after a failed check too, so nothing cascades). */
async function healDisks(cluster: ChaosCluster): Promise<void> {
  cluster.stores.forEach((_, i) => cluster.setDiskFailpoints(i, undefined));
  await Promise.all(cluster.stores.map((s, i) => (s.running ? undefined : cluster.restart(i))));
}

/** Free space the `disk-free` failpoint reports: far below any reserve (min(5GiB, 5 %) by default). */
const LOW_SPACE = 'disk-free=4096';

/** Waits until store `i`'s /status reports `usage` (the store reads its disk every tick). */
async function expectDiskUsage(cluster: ChaosCluster, i: number, usage: string, timeoutMs = 10_000): Promise<void> {
  let last: unknown;
  await waitFor(
    `store ${i} to report diskUsage ${usage}`,
    async () => {
      last = (await cluster.stores[i]!.status()).diskUsage;
      return last === usage ? true : undefined;
    },
    timeoutMs,
    50,
  ).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}; last: ${String(last)}\n${cluster.stores[i]!.tail(15)}`, { cause: e });
  });
}

/** How many times store `i` has logged `msg` so far. */
const logCount = (cluster: ChaosCluster, i: number, msg: string): number => cluster.stores[i]!.logs().filter((l) => l.msg === msg).length;

const HELD = 'appends to the follower held: its store is AlreadyFull';
const RESUMED = 'appends to the follower resumed (its store has space again)';

/**
 * One follower low on space: it keeps running, the cluster keeps taking writes, the leader holds
 * its appends (it does not see the newest append) and it catches up once space is back.
 */
export async function diskFullFollower(cluster: ChaosCluster, name: string): Promise<ScenarioReport> {
  return runScenario(cluster, name, (w) => withHeal(cluster, async (): Promise<FaultTimes> => {
    const leader = await cluster.liveLeaderIndex(`${name}/r0`);
    const follower = (leader + 1) % cluster.stores.length;
    const held = logCount(cluster, leader, HELD);
    const resumed = logCount(cluster, leader, RESUMED);
    const faultAt = performance.now();
    cluster.setDiskFailpoints(follower, LOW_SPACE);
    await expectDiskUsage(cluster, follower, 'AlreadyFull');
    await waitFor('the leader to hold appends to the full follower', async () => (logCount(cluster, leader, HELD) > held ? true : undefined), 10_000, 50);
    const acks = w.writeAcks.length;
    await w.waitAcks(acks + PROFILE.settleAcks, 30_000); // the leader still has a quorum
    // The full follower does not have what was acknowledged since (a follower read at it waits).
    const [key, value] = newestAppend(w);
    const r = await cluster.view.regionOf(Buffer.from(key));
    const peer = r?.region.peers.find((p) => p.storeId === cluster.storeIds[follower]);
    if (r !== undefined && peer !== undefined) {
      const got = await directGet(cluster.stores[follower]!, r.region, peer, key, 1_000, true);
      expect(got.kind === 'value' && got.value === value, `${name}: the full follower has ${key}: ${JSON.stringify(got)}`).toBe(false);
    }
    expect(cluster.stores[follower]!.running, `${name}: the full follower stopped`).toBe(true);
    await hold(PROFILE.faultMs);
    const healAt = performance.now();
    cluster.setDiskFailpoints(follower, undefined);
    await expectDiskUsage(cluster, follower, 'Normal');
    await waitFor('the leader to resume appends', async () => (logCount(cluster, leader, RESUMED) > resumed ? true : undefined), 10_000, 50);
    const ms = await expectCaughtUp(cluster, w, follower);
    console.log(`[chaos] ${name}: store ${follower} low on space was held, caught up ${ms} ms after space came back`);
    return { faultAt, healAt };
  }));
}

/**
 * The leader's store and a follower low on space: client writes are refused with DiskFull while
 * reads still answer; space back on both, writes resume without a restart.
 */
export async function diskFullMajority(cluster: ChaosCluster, name: string): Promise<ScenarioReport> {
  let acksAfterRefusal: number[] = [];
  let refusals = 0;
  const probe = createRawClient({ pdEndpoints: [cluster.pd.addr], timeoutMs: 3_000 });
  try {
    const r = await runScenario(cluster, name, (w) => withHeal(cluster, async (): Promise<FaultTimes> => {
      const leader = await cluster.liveLeaderIndex(`${name}/r0`);
      const full = [leader, (leader + 1) % cluster.stores.length];
      const faultAt = performance.now();
      for (const i of full) cluster.setDiskFailpoints(i, LOW_SPACE);
      await Promise.all(full.map((i) => expectDiskUsage(cluster, i, 'AlreadyFull')));
      const refusedAt = await expectWriteRefused(probe, `${name}/probe`);
      console.log(`[chaos] ${name}: stores ${full.join(', ')} low on space; writes refused with DiskFull ${Math.round(refusedAt - faultAt)} ms after`);
      // Reads still answer: the newest acknowledged append is there.
      const [key, value] = newestAppend(w);
      const got = await probe.get(key);
      expect(got === undefined ? undefined : Buffer.from(got).toString(), `${name}: read of ${key} while the disks are low`).toBe(value);
      await hold(PROFILE.faultMs);
      expect(cluster.stores.every((s) => s.running), `${name}: a store stopped while low on space`).toBe(true);
      const healAt = performance.now();
      // Writes proposed before the refusals began may still be answered a little later.
      acksAfterRefusal = w.writeAcks.filter((t) => t > refusedAt + 1_000 && t < healAt);
      refusals = w.errors.get(ClientErrorCodes.DISK_FULL) ?? 0;
      for (const i of full) cluster.setDiskFailpoints(i, undefined);
      await Promise.all(full.map((i) => expectDiskUsage(cluster, i, 'Normal')));
      return { faultAt, healAt };
    }));
    expect(acksAfterRefusal, `${name}: writes acknowledged while a majority was low on space`).toEqual([]);
    expect(refusals, `${name}: the workload saw no DiskFull`).toBeGreaterThan(0);
    return r;
  } finally {
    await probe.close();
  }
}

/** Puts `key` until the SDK answers with the definitive DiskFull; returns when it did. */
async function expectWriteRefused(c: RawClient, key: string): Promise<number> {
  let last = 'no answer yet';
  return waitFor(
    'a write refused with DiskFull',
    async () => {
      try {
        await c.put(key, 'refused?');
        last = 'accepted';
        return undefined;
      } catch (e) {
        if (isClientError(e, ClientErrorCodes.DISK_FULL)) return performance.now();
        last = isClientError(e) ? e.code : String(e);
        return undefined;
      }
    },
    10_000,
    50,
  ).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}; last put: ${last}`, { cause: e });
  });
}

/** A real ENOSPC on one follower: it fails stop, the other two keep serving; space back, restart, catch up. */
export async function enospcFailStop(cluster: ChaosCluster, name: string): Promise<ScenarioReport> {
  return runScenario(cluster, name, (w) => withHeal(cluster, async (): Promise<FaultTimes> => {
    const leader = await cluster.liveLeaderIndex(`${name}/r0`);
    const follower = (leader + 1) % cluster.stores.length;
    const faultAt = performance.now();
    cluster.setDiskFailpoints(follower, 'disk-full');
    const stoppedAt = await expectStoppedOnFullDisk(cluster, follower);
    console.log(`[chaos] ${name}: store ${follower} stopped ${Math.round(stoppedAt - faultAt)} ms after its disk filled`);
    await w.waitAcks(PROFILE.settleAcks, 30_000); // the two others keep serving
    await hold(PROFILE.faultMs);
    const healAt = performance.now();
    cluster.setDiskFailpoints(follower, undefined);
    await cluster.restart(follower);
    await w.waitAcks(5, 30_000);
    const ms = await expectCaughtUp(cluster, w, follower);
    console.log(`[chaos] ${name}: store ${follower} caught up ${ms} ms after it was ready again`);
    return { faultAt, healAt };
  }));
}

/** kill -9 of the leader's store (long profile: of every store) while synced writes take 150 ms to complete. */
export async function slowFsyncKill(cluster: ChaosCluster, name: string): Promise<ScenarioReport> {
  return runScenario(cluster, name, (w) => withHeal(cluster, async (): Promise<FaultTimes> => {
    const all = cluster.stores.map((_, i) => i);
    all.forEach((i) => cluster.setDiskFailpoints(i, 'slow-fsync=150'));
    await hold(300); // every store polled its file
    await w.waitAcks(5, 30_000); // slow, but serving
    const victims = LONG ? all : [await cluster.liveLeaderIndex(`${name}/r0`)];
    const faultAt = performance.now();
    await Promise.all(victims.map((i) => cluster.kill(i)));
    all.forEach((i) => cluster.setDiskFailpoints(i, undefined));
    await Promise.all(victims.map((i) => cluster.restart(i)));
    const healAt = performance.now();
    console.log(`[chaos] ${name}: stores ${victims.join(', ')} were ready again ${Math.round(healAt - faultAt)} ms after the kill`);
    return { faultAt, healAt };
  }));
}
