/**
 * The store's disk-space watcher (disk-space.ts): real statfs readings of the data directory,
 * the `disk-free` failpoint overriding the free space while set, and the usage the raftstore
 * derives from them with `storage.reserve-space`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noopLogger } from '@mrkv/common';
import { DiskFailpoints } from '@mrkv/engine';
import { diskUsageOf } from '@mrkv/raftstore';
import { StatfsDiskSpace } from './disk-space.js';

describe('StatfsDiskSpace', () => {
  let dir: string | undefined;
  let space: StatfsDiskSpace | undefined;
  afterEach(() => {
    space?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('reads the data directory file system once started; the disk-free failpoint overrides the free space while set', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mrkv-disk-space-'));
    const fp = new DiskFailpoints();
    space = new StatfsDiskSpace({ path: dir, logger: noopLogger, failpoints: fp, intervalMs: 50 });
    expect(space.read()).toBeUndefined();
    await space.start();
    const real = space.read()!;
    expect(real.capacity).toBeGreaterThan(0);
    expect(real.available).toBeGreaterThan(0);
    expect(real.available).toBeLessThanOrEqual(real.capacity);
    fp.set({ diskFree: 1024 });
    expect(space.read()).toEqual({ capacity: real.capacity, available: 1024 });
    expect(diskUsageOf(space.read(), { diskReserveSpace: 4096 })).toBe('AlreadyFull');
    expect(diskUsageOf(space.read(), { diskReserveSpace: 0 })).toBe('Normal');
    fp.clear();
    expect(space.read()!.available).toBeGreaterThan(1024);
  });

  it('keeps the last reading when statfs fails (a missing path) instead of throwing', async () => {
    space = new StatfsDiskSpace({ path: join(tmpdir(), 'mrkv-no-such-dir-', String(process.pid), 'x'), logger: noopLogger });
    await space.start();
    expect(space.read()).toBeUndefined();
  });
});
