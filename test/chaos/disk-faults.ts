/**
 * Disk-fault scenarios of the chaos suite, on the engines' disk failpoints (`@mrkv/engine`
 * `DiskFailpoints`) switched at runtime through `<data-dir>/failpoints` (`MRKV_FAILPOINTS_WATCH=1`).
 *
 * What mrkv does on a full disk: a failed raft-log (or kv) write is fatal for the store — the
 * raftstore logs `raftstore I/O failed; stopping` with `KV:Engine:NoSpace` and the process exits
 * 1 (fail-stop; nothing of the failed round was acknowledged, since votes, append acks and client
 * answers leave only after the write). A store restarted while the disk is still full stops again
 * at its first write; once space is back it recovers from its log like after kill -9. The
 * scenarios check that this is safe and that the cluster rides it out:
 *
 * - `disk-full-follower`: the cluster keeps taking writes; after space returns and a restart the
 *   follower catches up (a follower read at it sees the newest acknowledged append).
 * - `disk-full-majority`: with two of three stores stopped no write is acknowledged; after space
 *   returns both restart and writes resume; nothing acknowledged before is lost.
 * - `slow-fsync-kill`: every store's fsync takes 150 ms; the leader's store (long profile: every
 *   store) is killed with kill -9 while synced writes are in flight (written, maybe durable, not
 *   yet answered: undetermined), then restarted.
 */
import { expect } from 'vitest';
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

/** Disk full on one follower: it stops, the other two keep serving; space back, restart, catch up. */
export async function diskFullFollower(cluster: ChaosCluster, name: string): Promise<ScenarioReport> {
  let follower = -1;
  const r = await runScenario(cluster, name, (w) => withHeal(cluster, async (): Promise<FaultTimes> => {
    const leader = await cluster.liveLeaderIndex(`${name}/r0`);
    follower = (leader + 1) % cluster.stores.length;
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
  return r;
}

/** Disk full on a majority (the leader and a follower): no write acknowledged until space returns. */
export async function diskFullMajority(cluster: ChaosCluster, name: string): Promise<ScenarioReport> {
  let acksWhileDown: number[] = [];
  const r = await runScenario(cluster, name, (w) => withHeal(cluster, async (): Promise<FaultTimes> => {
    const leader = await cluster.liveLeaderIndex(`${name}/r0`);
    const full = [leader, (leader + 1) % cluster.stores.length];
    const faultAt = performance.now();
    for (const i of full) cluster.setDiskFailpoints(i, 'disk-full');
    const stopped = await Promise.all(full.map((i) => expectStoppedOnFullDisk(cluster, i)));
    const downAt = Math.max(...stopped);
    console.log(`[chaos] ${name}: stores ${full.join(', ')} stopped ${Math.round(downAt - faultAt)} ms after their disks filled`);
    await hold(PROFILE.faultMs);
    const healAt = performance.now();
    acksWhileDown = w.writeAcks.filter((t) => t > downAt && t < healAt);
    for (const i of full) cluster.setDiskFailpoints(i, undefined);
    await Promise.all(full.map((i) => cluster.restart(i)));
    return { faultAt, healAt };
  }));
  expect(acksWhileDown, `${name}: writes acknowledged while a majority was stopped`).toEqual([]);
  return r;
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
