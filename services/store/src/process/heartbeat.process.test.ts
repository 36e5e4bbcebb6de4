/**
 * The real `mrkv-store` process reports the disk space its raftstore judges its disk usage on: a
 * `disk-free` failpoint below `storage.reserve-space` shows at PD as 0 bytes available (PD then
 * sends it no new replicas), and switching the failpoint off brings the real figure back, without
 * a restart, in both raftstore thread modes.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreProcess } from '../../../../test/harness/store.js';
import { fakePdCluster, startFakePdServer, type FakePdCluster, type FakePdServer } from '../testing/fake-pd-server.js';

let cluster: FakePdCluster;
let pd: FakePdServer | undefined;
let store: StoreProcess | undefined;
afterEach(() => {
  store?.cleanup();
  pd?.stop();
  store = undefined;
  pd = undefined;
});
const GiB = 1024 ** 3;

/** Waits until a store heartbeat sent after `from` satisfies `ok`; returns it. */
async function heartbeatAfter(from: number, ok: (s: { capacity: number; available: number }) => boolean): Promise<{ capacity: number; available: number }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const got = cluster.storeHeartbeats.slice(from).map((s) => ({ capacity: Number(s.capacity), available: Number(s.available) })).find(ok);
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`no matching store heartbeat within 10 s; last: ${JSON.stringify(cluster.storeHeartbeats.at(-1))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function scenario(thread: 'main' | 'worker'): Promise<void> {
  cluster = fakePdCluster(4344, 10);
  pd = await startFakePdServer(cluster);
  const s = (store = await StoreProcess.start({
      pd: [pd.address],
      args: ['--raftstore-thread', thread, '--set', 'storage.reserve-space=1GiB', '--set', 'raftstore.pd-store-heartbeat-tick-ms=200'],
      env: { MRKV_FAILPOINTS_WATCH: '1' },
    }));
  const real = await heartbeatAfter(0, (h) => h.capacity > 0 && h.available > 0);
  expect(real.available).toBeLessThan(real.capacity);
  const file = join(s.dataDir, 'failpoints');
  writeFileSync(`${file}.tmp`, `disk-free=${GiB / 2}`);
  renameSync(`${file}.tmp`, file);
  const full = await heartbeatAfter(cluster.storeHeartbeats.length, (h) => h.available === 0);
  expect(full.capacity).toBeGreaterThan(0);
  rmSync(file, { force: true });
  const back = await heartbeatAfter(cluster.storeHeartbeats.length, (h) => h.available > 0);
  expect(back.available).toBeLessThanOrEqual(back.capacity);
}

describe('store heartbeat disk space (real process)', () => {
  it('main thread: the disk-free failpoint below the reserve reports 0 available, and the real figure returns', () => scenario('main'), 60_000);
  it('worker thread: the same through the raftstore thread', () => scenario('worker'), 60_000);
});
