/**
 * Joining a cluster (TiKV's bootstrap steps): the store id and its ident, first-region
 * preparation when PD is new, resuming an interrupted bootstrap, losing the race to another
 * store, PD retries, and the data-directory lock and ident file they stand on.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isMrkvError, MrkvError, noopLogger } from '@mrkv/common';
import { newStore, type Region, type Store } from '@mrkv/proto';
import { FakePd } from '../testing/fake-pd.js';
import { MemoryBootstrapEngines } from '../testing/memory-backend.js';
import { bootstrapCluster, ensureStoreId, registerStore, withRetry, type RetryPolicy } from './bootstrap.js';
import { DataDir, dataDirLayout } from './data-dir.js';
import { readStoreIdent, writeStoreIdent } from './store-ident.js';

const dirs: Array<{ cleanup(): void }> = [];
const opened: DataDir[] = [];
afterEach(() => {
  while (opened.length > 0) opened.pop()!.release();
  while (dirs.length > 0) dirs.pop()!.cleanup();
});

function dataDir(): DataDir {
  const t = tempDir('mrkv-bootstrap-');
  dirs.push(t);
  const d = DataDir.open(t.path, noopLogger);
  opened.push(d);
  return d;
}

function tempDir(prefix: string): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

const retry: RetryPolicy = { intervalMs: 1, maxCount: 3, sleep: async () => {} };

function store(id: number): Store {
  return newStore(id, '127.0.0.1:20160', { peerAddress: '127.0.0.1:20160', statusAddress: '127.0.0.1:20180', version: '0.1.0', startTimestamp: 1, deployPath: '/' });
}

function code(e: unknown): string | undefined {
  return isMrkvError(e) ? e.code : undefined;
}

describe('store id and ident', () => {
  it('allocates an id for a new data directory and reuses it afterwards', async () => {
    const d = dataDir();
    const pd = new FakePd(77, 10);
    expect(await ensureStoreId(d, pd, retry, noopLogger)).toEqual({ storeId: 10, isNew: true });
    expect(readStoreIdent(d.layout.storeIdent)).toEqual({ clusterId: 77, storeId: 10 });
    expect(await ensureStoreId(d, pd, retry, noopLogger)).toEqual({ storeId: 10, isNew: false });
    expect(pd.calls.filter((c) => c === 'allocId')).toHaveLength(1);
  });

  it('refuses a data directory of another cluster, engine data without an ident, and a damaged ident', async () => {
    const d = dataDir();
    writeStoreIdent(d.layout.storeIdent, { clusterId: 5, storeId: 3 });
    expect(code(await ensureStoreId(d, new FakePd(6), retry, noopLogger).catch((e: unknown) => e))).toBe('KV:Server:StoreIdentMismatch');

    const e = dataDir();
    writeFileSync(join(e.layout.kvDir, 'CURRENT'), 'MANIFEST-000001\n');
    expect(code(await ensureStoreId(e, new FakePd(6), retry, noopLogger).catch((x: unknown) => x))).toBe('KV:Server:DataDirInconsistent');

    const f = dataDir();
    writeFileSync(f.layout.storeIdent, Buffer.from([0x08, 0xff]));
    expect(code(await ensureStoreId(f, new FakePd(6), retry, noopLogger).catch((x: unknown) => x))).toBe('KV:Server:DataDirInconsistent');
  });

  it('locks the data directory against a second live process, and takes over a dead one’s lock', () => {
    const t = tempDir('mrkv-lock-');
    dirs.push(t);
    const layout = dataDirLayout(t.path);
    mkdirSync(layout.root, { recursive: true });
    writeFileSync(layout.lockFile, `${process.ppid}\n`); // a live process that is not us
    expect(code((() => { try { return DataDir.open(t.path, noopLogger); } catch (e) { return e; } })())).toBe('KV:Server:DataDirLocked');
    writeFileSync(layout.lockFile, '2147483646\n'); // no such process
    const d = DataDir.open(t.path, noopLogger);
    opened.push(d);
    d.release();
  });
});

describe('cluster bootstrap', () => {
  it('prepares the first region and bootstraps a new cluster', async () => {
    const pd = new FakePd(1, 100);
    const engines = new MemoryBootstrapEngines();
    expect(await bootstrapCluster(engines, pd, store(1), retry, noopLogger)).toBe('bootstrapped');
    const region = pd.firstRegion!;
    expect(region).toMatchObject({ id: 100, regionEpoch: { confVer: 1, version: 1 }, peers: [{ id: 101, storeId: 1, role: 'Voter' }] });
    expect(region.startKey.length + region.endKey.length).toBe(0);
    expect(engines.calls).toEqual(['preparedRegion', 'prepareBootstrap', 'clearPrepareBootstrap']);
    expect(engines.marker).toBe(false);
  });

  it('joins a bootstrapped cluster without preparing anything', async () => {
    const pd = new FakePd();
    pd.bootstrapped = true;
    const engines = new MemoryBootstrapEngines();
    expect(await bootstrapCluster(engines, pd, store(2), retry, noopLogger)).toBe('joined');
    expect(engines.calls).toEqual(['preparedRegion']);
  });

  it('resumes an interrupted bootstrap with the prepared region', async () => {
    const pd = new FakePd(1, 500);
    const engines = new MemoryBootstrapEngines();
    const prepared: Region = { id: 42, startKey: new Uint8Array(), endKey: new Uint8Array(), regionEpoch: { confVer: 1, version: 1 }, peers: [{ id: 43, storeId: 1, role: 'Voter' }] };
    await engines.prepareBootstrap(prepared);
    engines.calls.length = 0;
    expect(await bootstrapCluster(engines, pd, store(1), retry, noopLogger)).toBe('bootstrapped');
    expect(pd.firstRegion?.id).toBe(42);
    expect(pd.calls).not.toContain('allocId');
  });

  it('keeps its region when PD already holds it (a retry after a crash), drops it when another store won', async () => {
    const ours: Region = { id: 42, startKey: new Uint8Array(), endKey: new Uint8Array(), regionEpoch: { confVer: 1, version: 1 }, peers: [{ id: 43, storeId: 1, role: 'Voter' }] };
    const pd = new FakePd();
    pd.bootstrapped = true;
    pd.firstRegion = ours;
    const engines = new MemoryBootstrapEngines();
    await engines.prepareBootstrap(ours);
    expect(await bootstrapCluster(engines, pd, store(1), retry, noopLogger)).toBe('bootstrapped');
    expect(engines.regions.map((r) => r.id)).toEqual([42]);

    const lost = new MemoryBootstrapEngines();
    await lost.prepareBootstrap({ ...ours, id: 50, peers: [{ id: 51, storeId: 2, role: 'Voter' }] });
    expect(await bootstrapCluster(lost, pd, store(2), retry, noopLogger)).toBe('joined');
    expect(lost.calls.at(-1)).toBe('clearPreparedRegion');
    expect(lost.regions).toEqual([]);
  });

  it('retries PD failures and gives up after retry-max-count with PdFailed', async () => {
    const pd = new FakePd();
    pd.failNext('bootstrapCluster', new MrkvError('KV:Common:Unavailable', 'pd leader changing'), 2);
    expect(await bootstrapCluster(new MemoryBootstrapEngines(), pd, store(1), retry, noopLogger)).toBe('bootstrapped');

    const down = new FakePd();
    down.failNext('isBootstrapped', new MrkvError('KV:Common:Unavailable', 'pd down'), 3);
    const err = await bootstrapCluster(new MemoryBootstrapEngines(), down, store(1), retry, noopLogger).catch((e: unknown) => e);
    expect(code(err)).toBe('KV:Server:PdFailed');
    expect((err as Error).message).toMatch(/IsBootstrapped failed 3 times/);
  });

  it('registers the store, and does not retry a tombstone refusal', async () => {
    const pd = new FakePd();
    await registerStore(pd, store(3), retry, noopLogger);
    expect(pd.stores.get(3)?.address).toBe('127.0.0.1:20160');
    pd.stores.set(3, { ...store(3), state: 'Tombstone' });
    expect(code(await registerStore(pd, store(3), retry, noopLogger).catch((e: unknown) => e))).toBe('KV:Server:StoreTombstone');
    expect(pd.calls.filter((c) => c === 'putStore')).toHaveLength(2);
  });

  it('withRetry returns the first success', async () => {
    let n = 0;
    expect(await withRetry('x', retry, noopLogger, async () => (++n < 3 ? Promise.reject(new Error('no')) : n))).toBe(3);
  });
});
