/**
 * The disk failpoints of the RocksDB engines (failpoints.ts): disk-full fails writes and syncs
 * with the NoSpace error a real ENOSPC gives, applies nothing, and switches off again without a
 * reopen; slow-fsync delays synced writes only, without blocking the event loop; the crash
 * points kill a real child process before or after a synced write is durable.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isMrkvError } from '@mrkv/common';
import { crashEntry } from '../__tests__/crash-entries.js';
import { tempDir } from '../contract/fixture.js';
import { EngineErrorCodes } from '../errors.js';
import { rocksError } from './errors.js';
import { DiskFailpoints, type CrashPoint } from './failpoints.js';
import { openRocksKvEngine, openRocksRaftLogEngine } from './open.js';

const WRITER = fileURLToPath(new URL('../__tests__/failpoint-writer.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const k = (s: string) => Buffer.from(`z${s}`);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return isMrkvError(e) ? e.code : `untyped: ${String(e)}`;
  }
  return 'resolved';
}

describe('disk failpoints (RocksDB engines)', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('mrkv-failpoint-');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('maps a real RocksDB ENOSPC message and the failpoint to the same typed error', () => {
    const real = rocksError(new Error('IO error: While appending to file: /d/db/000003.log: No space left on device'), 'write', '/d/db', false);
    expect(real.code).toBe(EngineErrorCodes.NO_SPACE);
    const fp = new DiskFailpoints({ diskFull: true });
    let injected: unknown;
    try {
      fp.beforeWrite('/d/db', true);
    } catch (e) {
      injected = e;
    }
    expect(isMrkvError(injected) && injected.code).toBe(EngineErrorCodes.NO_SPACE);
    expect(injected).toBeInstanceOf(real.constructor);
  });

  it('disk-free: reported to the disk-space watcher, round-trips through settings, never arms the write checks', () => {
    const fp = new DiskFailpoints({ diskFree: 4096 });
    expect(fp.diskFree()).toBe(4096);
    expect(fp.armed).toBe(false);
    expect(fp.settings()).toEqual({ diskFree: 4096 });
    fp.beforeWrite('/d/db', true);
    fp.set({ diskFree: 0, slowFsyncMs: 5 });
    expect(fp.diskFree()).toBe(0);
    expect(fp.armed).toBe(true);
    fp.clear();
    expect(fp.diskFree()).toBeUndefined();
  });

  it('disk-full: kv writes and syncs fail with NoSpace and change nothing; reads go on; off again without a reopen', async () => {
    const fp = new DiskFailpoints();
    const kv = await openRocksKvEngine({ path: dir, failpoints: fp });
    try {
      await kv.write(kv.newWriteBatch().put(k('a'), Buffer.from('1')), { sync: true });
      fp.set({ diskFull: true });
      expect(fp.armed).toBe(true);
      const [w1, w2, s] = await Promise.all([
        codeOf(kv.write(kv.newWriteBatch().put(k('a'), Buffer.from('2')))),
        codeOf(kv.write(kv.newWriteBatch().put(k('b'), Buffer.from('x')).deleteRange(k('a'), k('c')), { sync: true })),
        codeOf(kv.sync()),
      ]);
      expect([w1, w2, s]).toEqual([EngineErrorCodes.NO_SPACE, EngineErrorCodes.NO_SPACE, EngineErrorCodes.NO_SPACE]);
      expect(Buffer.from((await kv.get(k('a')))!).toString()).toBe('1');
      expect(await kv.get(k('b'))).toBeUndefined();
      fp.clear();
      expect(fp.armed).toBe(false);
      await kv.write(kv.newWriteBatch().put(k('b'), Buffer.from('y')), { sync: true });
      expect(Buffer.from((await kv.get(k('b')))!).toString()).toBe('y');
    } finally {
      await kv.close();
    }
  });

  it('disk-full: a raft-log batch is refused whole, the durable state stays, and the same batch goes through once space returns', async () => {
    const fp = new DiskFailpoints();
    const engine = await openRocksRaftLogEngine({ path: dir, failpoints: fp });
    try {
      await engine.write(engine.newBatch().append(1, [crashEntry(1, 1)]).setHardState(1, { term: 1, vote: 1, commit: 1 }), { sync: true });
      fp.set({ diskFull: true });
      const batch = engine.newBatch().append(1, [crashEntry(1, 2), crashEntry(1, 3)]).setHardState(1, { term: 1, vote: 1, commit: 3 });
      expect(await codeOf(engine.write(batch, { sync: true }))).toBe(EngineErrorCodes.NO_SPACE);
      expect(engine.state(1)).toMatchObject({ lastIndex: 1, hardState: { commit: 1 } });
      fp.set({});
      await engine.write(batch, { sync: true });
      expect(engine.state(1)).toMatchObject({ lastIndex: 3, hardState: { commit: 3 } });
    } finally {
      await engine.close();
    }
    const reopened = await openRocksRaftLogEngine({ path: dir });
    try {
      expect((await reopened.entries(1, 1, 4)).map((e) => e.index)).toEqual([1, 2, 3]);
    } finally {
      await reopened.close();
    }
  });

  it('slow-fsync: delays synced writes only, and the event loop keeps running meanwhile', async () => {
    const fp = new DiskFailpoints({ slowFsyncMs: 300 });
    const kv = await openRocksKvEngine({ path: dir, failpoints: fp });
    try {
      let t = performance.now();
      await kv.write(kv.newWriteBatch().put(k('fast'), Buffer.from('1')));
      expect(performance.now() - t).toBeLessThan(250);
      // Ticks of a 10 ms interval while a slow sync is in flight: the loop is not blocked.
      let ticks = 0;
      const iv = setInterval(() => ticks++, 10);
      t = performance.now();
      const synced = kv.write(kv.newWriteBatch().put(k('slow'), Buffer.from('2')), { sync: true });
      // Queued behind it (group commit is serial): completes after it.
      const behind = kv.write(kv.newWriteBatch().put(k('next'), Buffer.from('3')));
      await synced;
      const slow = performance.now() - t;
      await behind;
      clearInterval(iv);
      expect(slow).toBeGreaterThanOrEqual(295);
      expect(ticks).toBeGreaterThanOrEqual(10);
      t = performance.now();
      await kv.sync();
      expect(performance.now() - t).toBeGreaterThanOrEqual(295);
      fp.clear();
      t = performance.now();
      await kv.sync();
      expect(performance.now() - t).toBeLessThan(250);
    } finally {
      await kv.close();
    }
  });

  it('crash points fire at the n-th synced write, before it is issued or after it is durable', async () => {
    const seen: CrashPoint[] = [];
    const fp = new DiskFailpoints({ crashAfterSync: 2 }, (p) => {
      seen.push(p);
      if (p === 'before-sync') throw new Error('crashed before the write');
    });
    const kv = await openRocksKvEngine({ path: dir, failpoints: fp });
    try {
      await kv.write(kv.newWriteBatch().put(k('u'), Buffer.from('1'))); // unsynced: not counted
      await kv.write(kv.newWriteBatch().put(k('s1'), Buffer.from('1')), { sync: true });
      expect(seen).toEqual([]);
      await kv.write(kv.newWriteBatch().put(k('s2'), Buffer.from('1')), { sync: true });
      expect(seen).toEqual(['after-sync']);
      expect(fp.armed).toBe(false); // fired once, then off
      fp.set({ crashBeforeSync: 1 });
      await expect(kv.write(kv.newWriteBatch().put(k('s3'), Buffer.from('1')), { sync: true })).rejects.toThrow(/crashed before the write/);
      expect(seen).toEqual(['after-sync', 'before-sync']);
      expect(await kv.get(k('s2'))).toBeDefined();
      expect(await kv.get(k('s3'))).toBeUndefined();
    } finally {
      await kv.close();
    }
  });

  /** Runs the failpoint writer to its SIGKILL; returns the highest acknowledged index. */
  function runToCrash(where: 'before' | 'after', n: number, path: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--conditions=@mrkv/source', '--import', 'tsx', WRITER, path, where, String(n)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let acked = 0;
      let out = '';
      let stderr = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`writer did not crash in time; stdout ${out}; stderr ${stderr}`));
      }, 15_000);
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        for (const m of out.matchAll(/ack (\d+)\n/g)) acked = Math.max(acked, Number(m[1]));
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (signal === 'SIGKILL') resolve(acked);
        else reject(new Error(`writer exited (code ${String(code)}, signal ${String(signal)}); stderr: ${stderr}`));
      });
    });
  }

  it('crash-before-sync / crash-after-sync kill the process: the n-th write is lost or durable-but-unacknowledged', async () => {
    const [before, after] = await Promise.all([runToCrash('before', 3, `${dir}/before`), runToCrash('after', 3, `${dir}/after`)]);
    expect(before).toBe(2);
    expect(after).toBe(2);
    for (const [path, last] of [[`${dir}/before`, 2], [`${dir}/after`, 3]] as const) {
      const engine = await openRocksRaftLogEngine({ path });
      try {
        expect(engine.state(1)?.lastIndex).toBe(last);
      } finally {
        await engine.close();
      }
    }
  }, 30_000);
});
