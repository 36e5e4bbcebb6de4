/**
 * Store heartbeats: the first at once, then on the interval, a failed one logged and retried on
 * the next tick, the raftstore's fields merged under the process's own (its disk figures kept as
 * they are; the file system read only while it has none), and stop() waiting for the heartbeat in
 * flight.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, MrkvError, noopLogger } from '@mrkv/common';
import { FakePd } from '../testing/fake-pd.js';
import { diskSpace, StoreHeartbeater } from './heartbeat.js';

describe('StoreHeartbeater', () => {
  it('sends at once and on every tick, survives a failure, and merges the stats', async () => {
    const pd = new FakePd();
    pd.failNext('storeHeartbeat', new MrkvError('KV:Common:Unavailable', 'pd busy'));
    const clock = new ManualClock(0, 1_700_000_000_000);
    const hb = new StoreHeartbeater({
      pd,
      storeId: 4,
      stats: () => ({ regionCount: 12, isBusy: true, storeId: 999, capacity: 0 }),
      dataDir: process.cwd(),
      intervalMs: 10,
      clock,
      logger: noopLogger,
    });
    hb.start();
    await pd.waitFor(() => pd.storeHeartbeats.length >= 2);
    await hb.stop();
    expect(hb.failed).toBe(1);
    expect(hb.sent).toBeGreaterThanOrEqual(2);
    const first = pd.storeHeartbeats[0]!;
    expect(first).toMatchObject({ storeId: 4, regionCount: 12, isBusy: true, startTime: 1_700_000_000, intervalStart: 1_700_000_000 });
    expect(first.capacity).toBe(diskSpace(process.cwd()).capacity);
    expect(first.capacity).toBeGreaterThan(0);
  });

  it("reports the raftstore's disk figures as they are, 0 available included (a store at its reserve)", () => {
    const hb = new StoreHeartbeater({
      pd: new FakePd(),
      storeId: 4,
      stats: () => ({ capacity: 1000, available: 0 }),
      dataDir: process.cwd(),
      intervalMs: 10,
      clock: new ManualClock(0, 1_700_000_000_000),
      logger: noopLogger,
    });
    expect(hb.collect()).toMatchObject({ capacity: 1000, available: 0 });
  });

  it('reports zero disk space for a path that does not exist', () => {
    expect(diskSpace('/definitely/not/here')).toEqual({ capacity: 0, available: 0 });
  });
});
