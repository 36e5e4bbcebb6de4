/**
 * Failpoint wiring of the store process (failpoints.ts): the `MRKV_FAILPOINTS` format with the
 * disk failpoints, the env switch for the runtime file, and the file switching the engines'
 * disk failpoints on and off while they are open.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noopLogger, type Logger } from '@mrkv/common';
import { dataDirLayout } from './data-dir.js';
import { failpointsFromEnv, openDiskFailpoints, parseFailpoints, type OpenedDiskFailpoints } from './failpoints.js';

/** A logger that keeps the messages of error lines. */
function recordingLogger(errors: string[]): Logger {
  const l: Logger = {
    ...noopLogger,
    error: (o: Record<string, unknown> | string, msg?: string) => void errors.push(typeof o === 'string' ? o : (msg ?? '')),
    child: () => l,
  };
  return l;
}

async function until(what: string, f: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('MRKV_FAILPOINTS: disk failpoints', () => {
  it('parses disk-full, slow-fsync and the crash points next to the thread failpoint', () => {
    expect(parseFailpoints('disk-full')).toEqual({ disk: { diskFull: true } });
    expect(parseFailpoints('slow-fsync=250; crash-after-sync=3')).toEqual({ disk: { slowFsyncMs: 250, crashAfterSync: 3 } });
    expect(parseFailpoints('crash-before-sync;raftstore-thread-crash-on-put=6b')).toEqual({ crashOnPutKey: '6b', disk: { crashBeforeSync: 1 } });
    expect(parseFailpoints('disk-free=1048576')).toEqual({ disk: { diskFree: 1048576 } });
    expect(parseFailpoints('disk-free=0')).toEqual({ disk: { diskFree: 0 } });
    for (const bad of ['disk-free', 'disk-free=-1', 'disk-free=1GiB', 'disk-full=1', 'slow-fsync', 'slow-fsync=-5', 'slow-fsync=1.5', 'crash-after-sync=0', 'crash-before-sync=x', 'disk_full']) {
      expect(() => parseFailpoints(bad), bad).toThrow(/unknown or malformed failpoint/);
    }
  });

  it('watches <data-dir>/failpoints only with MRKV_FAILPOINTS_WATCH=1', () => {
    const layout = dataDirLayout('/data/s1');
    expect(failpointsFromEnv({}, layout)).toBeUndefined();
    expect(failpointsFromEnv({ MRKV_FAILPOINTS: 'disk-full' }, layout)).toEqual({ disk: { diskFull: true } });
    expect(failpointsFromEnv({ MRKV_FAILPOINTS_WATCH: '1' }, layout)).toEqual({ watchFile: '/data/s1/failpoints' });
    expect(() => failpointsFromEnv({ MRKV_FAILPOINTS: 'nope' }, layout)).toThrow(/nope/);
  });

  it('production: no failpoints object at all', () => {
    expect(openDiskFailpoints(undefined, recordingLogger([])).failpoints).toBeUndefined();
    expect(openDiskFailpoints({ crashOnPutKey: '6b' }, recordingLogger([])).failpoints).toBeUndefined();
  });
});

describe('the runtime failpoints file', () => {
  let dir: string;
  let opened: OpenedDiskFailpoints | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mrkv-fp-'));
  });
  afterEach(() => {
    opened?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Replaces the file atomically, as tests should. */
  function write(file: string, text: string): void {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  }

  it('switches disk failpoints on and off while open; the env settings apply when the file is gone; a bad file changes nothing', async () => {
    const file = join(dir, 'failpoints');
    write(file, 'slow-fsync=40\n');
    const errors: string[] = [];
    opened = openDiskFailpoints({ disk: { slowFsyncMs: 5 }, watchFile: file }, recordingLogger(errors));
    const fp = opened.failpoints!;
    expect(fp.settings()).toEqual({ slowFsyncMs: 40 }); // read at open
    write(file, 'disk-full\nslow-fsync=10\n');
    await until('disk-full on', () => fp.settings().diskFull === true);
    expect(fp.settings()).toEqual({ diskFull: true, slowFsyncMs: 10 });
    write(file, 'disk-full; typo');
    await until('the bad file reported', () => errors.length > 0);
    expect(errors[0]).toMatch(/malformed/);
    expect(fp.settings()).toEqual({ diskFull: true, slowFsyncMs: 10 });
    write(file, 'raftstore-thread-crash-on-put=6b');
    await until('the non-disk failpoint refused', () => errors.length > 1);
    expect(fp.armed).toBe(true);
    write(file, '');
    await until('all off', () => !fp.armed);
    rmSync(file);
    await until('back to the env settings', () => fp.settings().slowFsyncMs === 5);
    opened.stop();
    write(file, 'disk-full');
    await new Promise((r) => setTimeout(r, 300));
    expect(fp.settings()).toEqual({ slowFsyncMs: 5 }); // no longer watched
  });
});
