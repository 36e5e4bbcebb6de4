/**
 * The cross-process harness, exercised on real store processes: the `mrkv-store` command wired to
 * an in-memory raftstore and an in-process PD (services/store/src/testing/memory-store-main.ts),
 * so the whole process shell runs for real: flags, data directory and lock, store ident,
 * bootstrap, gRPC and status servers, signals, graceful drain and exit codes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTikvClient, type tikvpb } from '@mrkv/proto';
import { fakePdCluster, startFakePdServer } from '@mrkv/store-server/testing';
import { StoreProcess } from './store.js';

const MEMORY_STORE = 'services/store/src/testing/memory-store-main.ts';

const procs: StoreProcess[] = [];
afterEach(() => {
  while (procs.length > 0) procs.pop()!.cleanup();
});

async function start(args: string[] = []): Promise<StoreProcess> {
  const p = await StoreProcess.start({ entry: MEMORY_STORE, args });
  procs.push(p);
  return p;
}

/** The request context of the region the store bootstrapped (ids from its log). */
async function firstRegionCtx(p: StoreProcess) {
  const rec = await p.waitForLog((r) => r.msg === 'prepared the first region');
  return { regionId: rec.regionId as number, regionEpoch: { confVer: 1, version: 1 }, peer: { id: rec.peerId as number, storeId: rec.storeId as number } };
}

function put(addr: string, ctx: object, key: string, value: string): Promise<string> {
  const c = createTikvClient(addr);
  return new Promise((resolve, reject) =>
    c.RawPut({ context: ctx, key: Buffer.from(key), value: Buffer.from(value) }, { deadline: Date.now() + 10_000 }, (err, r) => {
      c.close();
      if (err) reject(err);
      else resolve(r!.error);
    }),
  );
}

/** Waits until the store has received `n` BatchCommands frames (so a request is in flight). */
async function framesIn(p: StoreProcess, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await p.http('/metrics')).body.includes(`mrkv_batch_commands_frames_total{direction="in"} ${n}`)) {
    if (Date.now() > deadline) throw new Error(`store did not receive ${n} BatchCommands frames`);
  }
}

function get(addr: string, ctx: object, key: string): Promise<string | undefined> {
  const c = createTikvClient(addr);
  return new Promise((resolve, reject) =>
    c.RawGet({ context: ctx, key: Buffer.from(key) }, { deadline: Date.now() + 10_000 }, (err, r) => {
      c.close();
      if (err) reject(err);
      else resolve(r!.notFound ? undefined : r!.value.toString());
    }),
  );
}

describe('StoreProcess harness on a real store process', () => {
  it('starts, serves, pauses, survives kill -9 and restart, refuses a second process, and drains on SIGTERM', { timeout: 90_000 }, async () => {
    const s = await start();
    const status = await s.status();
    expect(status).toMatchObject({ storeId: 1, state: 'serving', regionCount: 1, address: s.addr });
    // Log lines go through a pino transport thread, so /ready can answer before they are written.
    expect(await s.waitForLog((r) => r.msg === 'store is ready')).toMatchObject({ service: 'store', storeId: 1, level: 'info' });
    expect(existsSync(join(s.dataDir, 'LOCK'))).toBe(true);
    expect(existsSync(join(s.dataDir, 'store-ident'))).toBe(true);

    const ctx = await firstRegionCtx(s);
    expect(await put(s.addr, ctx, 'k', 'v1')).toBe('');
    expect(await get(s.addr, ctx, 'k')).toBe('v1');
    expect((await s.http('/metrics')).body).toMatch(/mrkv_grpc_requests_total\{method="RawPut",outcome="ok"\} 1/);

    // SIGSTOP freezes the process: the status port stops answering until SIGCONT.
    s.pause();
    await expect(fetch(`http://${s.statusAddr}/ready`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    s.resume();
    await s.waitReady(10_000);

    // kill -9 leaves the lock behind; the restarted store takes it over and keeps its store id.
    expect(await s.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(existsSync(join(s.dataDir, 'LOCK'))).toBe(true);
    const again = await s.restart();
    procs.push(again);
    await again.waitForLog((r) => r.msg === 'taking over a stale data directory lock');
    expect((await again.status()).storeId).toBe(1);

    // A second store on the same data directory refuses to start.
    const intruder = await StoreProcess.spawn({ entry: MEMORY_STORE, dataDir: again.dataDir });
    procs.push(intruder);
    expect((await intruder.exited).code).toBe(1);
    expect(intruder.logs().find((r) => r.level === 'fatal')?.err).toMatchObject({ code: 'KV:Server:DataDirLocked' });

    // SIGTERM with a request in flight: it is answered, then the store exits 0 and unlocks.
    const c = createTikvClient(again.addr);
    const stream = c.BatchCommands();
    const answered = new Promise<string>((resolve) => stream.on('data', (f: tikvpb.BatchCommandsResponse__Output) => resolve(f.requestIds[0]!)));
    stream.on('error', () => {});
    stream.write({ requests: [{ Empty: { testId: 1, delayTime: 1000 } }], requestIds: [77] });
    await framesIn(again, 1);
    const exit = await again.stop();
    expect(await answered).toBe('77');
    c.close();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(again.logs().find((r) => r.msg === 'store stopped')).toMatchObject({ drained: true });
    expect(existsSync(join(again.dataDir, 'LOCK'))).toBe(false);
  });

  it('exits at once on a second signal during shutdown', async () => {
    const s = await start(['--graceful-shutdown-timeout-ms', '20000']);
    const c = createTikvClient(s.addr);
    const stream = c.BatchCommands();
    stream.on('error', () => {});
    stream.on('data', () => {});
    stream.write({ requests: [{ Empty: { testId: 1, delayTime: 10_000 } }], requestIds: [1] });
    await framesIn(s, 1);
    s.signal('SIGTERM');
    await s.waitForLog((r) => r.msg === 'graceful shutdown: draining');
    const t0 = Date.now();
    s.signal('SIGINT');
    expect(await s.exited).toEqual({ code: 130, signal: null });
    expect(Date.now() - t0).toBeLessThan(5000);
    c.close();
  });

  it('exits 2 with the bad key named for bad flags', async () => {
    const s = await StoreProcess.spawn({ entry: MEMORY_STORE, args: ['--max-key-size', 'huge'] });
    procs.push(s);
    expect((await s.exited).code).toBe(2);
    expect(s.tail()).toMatch(/limits\.max-key-size: expected a size/);
  });

  it('runs the real mrkv-store entry (raftstore on RocksDB) against a PD: bootstrap, writes, reads, kill -9, restart', async () => {
    const cluster = fakePdCluster(4242, 7);
    const pd = await startFakePdServer(cluster);
    try {
      const s = await StoreProcess.spawn({ pd: [pd.address], args: ['--set', 'pd.retry-max-count=20'] });
      procs.push(s);
      await s.waitReady(60_000);
      expect(s.logs().find((r) => r.msg === 'allocated store id')).toMatchObject({ storeId: 7, clusterId: 4242 });
      const ctx = await firstRegionCtx(s);
      // The single-peer region elects itself at start; retry until it leads.
      const deadline = Date.now() + 30_000;
      let err = await put(s.addr, ctx, 'k', 'v1').catch((e: Error) => e.message);
      while (err !== '' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        err = await put(s.addr, ctx, 'k', 'v1').catch((e: Error) => e.message);
      }
      expect(err).toBe('');
      expect(await get(s.addr, ctx, 'k')).toBe('v1');
      expect((await s.http('/metrics')).body).toMatch(/mrkv_raftstore_raft_syncs_total [1-9]/);
      // kill -9 and restart on the same data directory: the acknowledged write is still there.
      await s.kill();
      const again = await s.restart();
      procs.push(again);
      await again.waitReady(60_000);
      let v = await get(again.addr, ctx, 'k').catch(() => undefined);
      const until = Date.now() + 30_000;
      while (v !== 'v1' && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
        v = await get(again.addr, ctx, 'k').catch(() => undefined);
      }
      expect(v).toBe('v1');
      expect(await again.stop()).toEqual({ code: 0, signal: null });
      expect(existsSync(join(again.dataDir, 'LOCK'))).toBe(false);
      expect(cluster.badHeaders).toBe(0);
    } finally {
      pd.stop();
    }
  });

  it('prints every flag for --help and exits 0', async () => {
    const s = await StoreProcess.spawn({ args: ['--help'] });
    procs.push(s);
    expect((await s.exited).code).toBe(0);
    for (const flag of ['--addr', '--pd', '--data-dir', '--status-addr', '--labels', '--log-file', '--max-key-size']) expect(s.tail(100)).toContain(flag);
  });
});
