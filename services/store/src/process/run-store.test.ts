/**
 * The store process in-process, start to stop, with an in-memory raftstore backend and a fake PD:
 * start-up order (lock, ident, bootstrap, servers, registration, heartbeats, ready), the transport
 * wired to the raftstore's unreachable hook, the late binding before the raftstore starts, a
 * start-up failure that unwinds, and a graceful stop that releases everything.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isMrkvError, MrkvError, noopLogger, SeededRng } from '@mrkv/common';
import { contextToWire, createTikvClient, type RequestContext } from '@mrkv/proto';
import type { RawKvApi } from '@mrkv/raftstore';
import { testConfig } from '../__tests__/fixtures.js';
import { FakePd } from '../testing/fake-pd.js';
import { memoryBackend, type MemoryBootstrapEngines, type MemoryRaftstore } from '../testing/memory-backend.js';
import { DataDir } from './data-dir.js';
import { LateRaftSink, LateRawKv } from './late-binding.js';
import { runStore } from './run-store.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function tempDataDir(): string {
  const path = mkdtempSync(join(tmpdir(), 'mrkv-run-store-'));
  cleanups.push(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

function setup(flags: Record<string, unknown> = {}) {
  const dataDir = tempDataDir();
  const config = testConfig({ 'storage.data-dir': dataDir, 'raftstore.pd-store-heartbeat-tick-ms': 25, 'server.labels': 'zone=z1', ...flags });
  const pd = new FakePd(9, 1);
  const started: Array<{ rs: MemoryRaftstore; engines: MemoryBootstrapEngines }> = [];
  const deps = {
    openBackend: memoryBackend((rs, engines) => started.push({ rs, engines })),
    connectPd: async () => pd,
    rng: new SeededRng(3),
    sleep: async () => {},
  };
  return { config, pd, started, deps, dataDir };
}

describe('runStore', () => {
  it('starts in TiKV order, serves, heartbeats, and stops releasing everything', async () => {
    const { config, pd, started, deps, dataDir } = setup();
    const running = await runStore(config, deps);
    expect(running.storeId).toBe(1);
    expect(running.clusterId).toBe(9);
    expect(pd.calls.slice(0, 5)).toEqual(['allocId', 'isBootstrapped', 'allocId', 'allocId', 'bootstrapCluster']);
    expect(pd.stores.get(1)).toMatchObject({ address: running.server.grpcAddress, statusAddress: running.server.statusAddress, labels: [{ key: 'zone', value: 'z1' }] });

    const { rs, engines } = started[0]!;
    expect(engines.calls).toEqual(['preparedRegion', 'prepareBootstrap', 'clearPrepareBootstrap']);
    expect(rs.deps).toMatchObject({ storeId: 1, clusterId: 9 });

    // Store heartbeats: one at start, then on the tick, with the process's and the raftstore's fields.
    await pd.waitFor(() => pd.storeHeartbeats.length >= 2);
    expect(pd.storeHeartbeats[0]).toMatchObject({ storeId: 1, regionCount: 1 });
    expect(pd.storeHeartbeats[0]!.capacity).toBeGreaterThan(0);

    // Served through the real server onto the memory raftstore.
    const region = rs.kv.regionList()[0]!;
    const ctx: RequestContext = {
      regionId: region.id,
      regionEpoch: region.regionEpoch,
      peer: region.peers[0],
      term: 0,
      priority: 'Normal',
      replicaRead: false,
      staleRead: false,
      maxExecutionDurationMs: 0,
      apiVersion: 'V1',
      isRetryRequest: false,
      requestSource: '',
      clusterId: 9,
    };
    const client = createTikvClient(running.server.grpcAddress);
    const put = await new Promise<string>((resolve, reject) =>
      client.RawPut({ context: contextToWire(ctx), key: Buffer.from('a'), value: Buffer.from('1') }, (e, r) => (e ? reject(e) : resolve(r!.error))),
    );
    client.close();
    expect(put).toBe('');
    expect(rs.kv.peek(Buffer.from('a'))?.toString()).toBe('1');

    // The transport resolves stores through PD; an unknown store is reported unreachable to the raftstore.
    running.transport.send(99, [Uint8Array.from([1, 2, 3])]);
    await until(() => rs.unreachable.includes(99), 'an unreachable report for store 99');

    expect(await running.stop()).toEqual({ drained: true });
    expect(rs.stopped).toBe(true);
    expect(pd.closed).toBe(true);
    // The lock is gone: the directory opens again.
    DataDir.open(dataDir, noopLogger).release();
    // stop() is idempotent.
    expect(await running.stop()).toEqual({ drained: true });
  });

  it('unwinds a failed start-up and releases the data directory', async () => {
    const { config, pd, deps, dataDir } = setup({ 'pd.retry-max-count': 2 });
    pd.failNext('allocId', new MrkvError('KV:Common:Unavailable', 'pd down'), 2);
    const err = await runStore(config, deps).catch((e: unknown) => e);
    expect(isMrkvError(err) && err.code).toBe('KV:Server:PdFailed');
    expect(pd.closed).toBe(true);
    DataDir.open(dataDir, noopLogger).release();
  });

  it('answers ServerIsBusy before the raftstore is attached, and drops early raft messages', async () => {
    const raw = new LateRawKv();
    const err = await raw.rawGet({} as RequestContext, Buffer.from('k')).catch((e: unknown) => e);
    expect(isMrkvError(err) && err.code).toBe('KV:Raftstore:ServerIsBusy');
    const sink = new LateRaftSink();
    sink.onRaftMessages([Uint8Array.from([1])]);
    expect(sink.dropped).toBe(1);
    const snap = await sink.onSnapshot(Uint8Array.from([1]), (async function* () {})()).catch((e: unknown) => e);
    expect(isMrkvError(snap) && snap.code).toBe('KV:Server:SnapshotFailed');
    raw.attach({ rawGet: async () => Buffer.from('v') } as unknown as RawKvApi);
    expect((await raw.rawGet({} as RequestContext, Buffer.from('k')))?.toString()).toBe('v');
  });
});

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
