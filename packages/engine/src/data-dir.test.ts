/**
 * Engine directory hygiene: the format marker and ids, the lock (within a process, across
 * processes, after kill -9), leftovers of interrupted atomic writes, read-only opens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from './contract/fixture.js';
import { DB_DIR, ENGINE_FORMAT_VERSION, EngineDir, FORMAT_FILE, LOCK_FILE } from './data-dir.js';
import { EngineErrorCodes } from './errors.js';
import { openRocksKvEngine, openRocksRaftLogEngine } from './rocks/open.js';

const HOLDER = fileURLToPath(new URL('./__tests__/hold-engine.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

/** Starts a process holding a kv engine open in `dir`; resolves once it is open. */
function holdInChild(dir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@mrkv/source', '--import', 'tsx', HOLDER, dir], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`holder did not open in time: ${err}`));
    }, 15_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('open')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`holder exited with ${String(code)}: ${err}`));
    });
  });
}

function killAndWait(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('engine directories', () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = tempDir('mrkv-datadir-');
    dir = join(root, 'engine');
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('creates the directory with a format marker, a lock and the database', async () => {
    const kv = await openRocksKvEngine({ path: dir, clusterId: 7, storeId: 3 });
    const marker = JSON.parse(readFileSync(join(dir, FORMAT_FILE), 'utf8')) as unknown;
    expect(marker).toEqual({ format: 'mrkv-engine', version: ENGINE_FORMAT_VERSION, kind: 'kv', clusterId: 7, storeId: 3 });
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').split(' ')[0]).toBe(String(process.pid));
    expect(existsSync(join(dir, DB_DIR, 'CURRENT'))).toBe(true);
    await kv.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('refuses a second open in the same process until the first closes', async () => {
    const kv = await openRocksKvEngine({ path: dir });
    await expect(openRocksKvEngine({ path: dir })).rejects.toMatchObject({ code: EngineErrorCodes.LOCKED, details: { pid: process.pid } });
    expect(codeOf(() => EngineDir.open({ path: dir, kind: 'kv' }))).toBe(EngineErrorCodes.LOCKED);
    await kv.close();
    const again = await openRocksKvEngine({ path: dir });
    await again.close();
  });

  it('refuses an open while another process holds the directory, and takes over after kill -9', async () => {
    const child = await holdInChild(dir);
    try {
      const err = await openRocksKvEngine({ path: dir }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: EngineErrorCodes.LOCKED, details: { pid: child.pid } });
      expect((err as Error).message).toContain(`process ${String(child.pid)}`);
      await expect(openRocksKvEngine({ path: dir, readOnly: true })).rejects.toMatchObject({ code: EngineErrorCodes.LOCKED });
      // If the lock file is lost, RocksDB's own LOCK still refuses, with the same code.
      rmSync(join(dir, LOCK_FILE));
      await expect(openRocksKvEngine({ path: dir })).rejects.toMatchObject({ code: EngineErrorCodes.LOCKED });
    } finally {
      await killAndWait(child);
    }
    const kv = await openRocksKvEngine({ path: dir });
    await kv.close();
    // A lock file left by a killed holder is stale and taken over.
    const child2 = await holdInChild(dir);
    await killAndWait(child2);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').split(' ')[0]).toBe(String(child2.pid));
    const kv2 = await openRocksKvEngine({ path: dir });
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').split(' ')[0]).toBe(String(process.pid));
    await kv2.close();
  }, 40_000);

  it('checks the format marker: version, kind, and foreign directories', async () => {
    const kv = await openRocksKvEngine({ path: dir });
    await kv.close();
    await expect(openRocksRaftLogEngine({ path: dir })).rejects.toMatchObject({ code: EngineErrorCodes.KIND_MISMATCH });
    writeFileSync(join(dir, FORMAT_FILE), JSON.stringify({ format: 'mrkv-engine', version: 99, kind: 'kv' }));
    await expect(openRocksKvEngine({ path: dir })).rejects.toMatchObject({ code: EngineErrorCodes.UNSUPPORTED_FORMAT, details: { version: 99 } });
    writeFileSync(join(dir, FORMAT_FILE), '{not json');
    await expect(openRocksKvEngine({ path: dir })).rejects.toMatchObject({ code: EngineErrorCodes.NOT_ENGINE_DIR });
    writeFileSync(join(dir, FORMAT_FILE), JSON.stringify({ format: 'other', version: 1, kind: 'kv' }));
    await expect(openRocksKvEngine({ path: dir })).rejects.toMatchObject({ code: EngineErrorCodes.NOT_ENGINE_DIR });
    // A directory with files but no marker is not ours: nothing is created in it.
    const foreign = join(root, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    await expect(openRocksKvEngine({ path: foreign })).rejects.toMatchObject({ code: EngineErrorCodes.NOT_ENGINE_DIR });
    expect(existsSync(join(foreign, DB_DIR))).toBe(false);
    expect(existsSync(join(foreign, LOCK_FILE))).toBe(false);
    // The lock was released by every failed open.
    writeFileSync(join(dir, FORMAT_FILE), JSON.stringify({ format: 'mrkv-engine', version: 1, kind: 'kv' }));
    await (await openRocksKvEngine({ path: dir })).close();
  });

  it('records store and cluster ids once and refuses others', async () => {
    await (await openRocksKvEngine({ path: dir })).close();
    expect(JSON.parse(readFileSync(join(dir, FORMAT_FILE), 'utf8'))).not.toHaveProperty('storeId');
    await (await openRocksKvEngine({ path: dir, clusterId: 5, storeId: 2 })).close();
    expect(JSON.parse(readFileSync(join(dir, FORMAT_FILE), 'utf8'))).toMatchObject({ clusterId: 5, storeId: 2 });
    await expect(openRocksKvEngine({ path: dir, storeId: 3 })).rejects.toMatchObject({ code: EngineErrorCodes.IDENT_MISMATCH, details: { field: 'storeId', have: 2, want: 3 } });
    await expect(openRocksKvEngine({ path: dir, clusterId: 6 })).rejects.toMatchObject({ code: EngineErrorCodes.IDENT_MISMATCH });
    await (await openRocksKvEngine({ path: dir, clusterId: 5 })).close();
  });

  it('records ids learned after open (bootstrap), moving the lock to the new handle', () => {
    const d = EngineDir.open({ path: dir, kind: 'raft' });
    const d2 = d.recordIdent({ clusterId: 9, storeId: 4 });
    expect(d2.marker).toMatchObject({ clusterId: 9, storeId: 4 });
    expect(codeOf(() => d2.recordIdent({ clusterId: 9, storeId: 5 }))).toBe(EngineErrorCodes.IDENT_MISMATCH);
    d.release(); // the old handle no longer owns the lock
    expect(codeOf(() => EngineDir.open({ path: dir, kind: 'raft' }))).toBe(EngineErrorCodes.LOCKED);
    d2.release();
    const d3 = EngineDir.open({ path: dir, kind: 'raft', storeId: 4 });
    d3.release();
  });

  it('removes leftovers of interrupted atomic writes at open', async () => {
    await (await openRocksKvEngine({ path: dir })).close();
    writeFileSync(join(dir, `${FORMAT_FILE}.12345.tmp`), 'half');
    await (await openRocksKvEngine({ path: dir })).close();
    expect(existsSync(join(dir, `${FORMAT_FILE}.12345.tmp`))).toBe(false);
  });

  it('opens read-only without locking or writing, and refuses writes', async () => {
    await expect(openRocksKvEngine({ path: join(root, 'missing'), readOnly: true })).rejects.toMatchObject({ code: EngineErrorCodes.NOT_ENGINE_DIR });
    const kv = await openRocksKvEngine({ path: dir });
    await kv.write(kv.newWriteBatch().put(Buffer.from('za'), Buffer.from('1')), { sync: true });
    await kv.close();
    const ro = await openRocksKvEngine({ path: dir, readOnly: true });
    try {
      expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
      expect(Buffer.from((await ro.get(Buffer.from('za')))!).toString()).toBe('1');
      await expect(ro.write(ro.newWriteBatch().put(Buffer.from('zb'), Buffer.from('2')))).rejects.toMatchObject({ code: EngineErrorCodes.READ_ONLY });
    } finally {
      await ro.close();
    }
  });
});
