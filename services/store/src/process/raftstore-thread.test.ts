/**
 * The raftstore thread in-process: a real worker with RocksDB engines, driven through the backend
 * the store process uses (bootstrap via messages, start with a recording transport and a fake PD,
 * RawKV with errors revived as their classes, aborts, split through PD, stats snapshots, a restart
 * on the same data directory, and a crash that fails pending calls and reports the failure).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommonCodes, isMrkvError, noopLogger, type MrkvError } from '@mrkv/common';
import { EpochNotMatchError, RegionNotFoundError, type Region, type RequestContext } from '@mrkv/proto';
import { testRaftstoreConfig, type RaftTransport } from '@mrkv/raftstore';
import { FakePd } from '../testing/fake-pd.js';
import type { RaftstoreBackend, RunningRaftstore } from './backend.js';
import { DataDir } from './data-dir.js';
import { openRaftstoreThread, type RaftstoreThreadOptions } from './raftstore-thread.js';
import { RaftstoreThreadCodes } from './thread-protocol.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const STORE_ID = 1;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

function dataDir(): DataDir {
  const path = mkdtempSync(join(tmpdir(), 'mrkv-rs-thread-'));
  const dir = DataDir.open(path, noopLogger);
  cleanups.push(() => {
    dir.release();
    rmSync(path, { recursive: true, force: true });
  });
  return dir;
}

const firstRegion: Region = {
  id: 2,
  startKey: new Uint8Array(),
  endKey: new Uint8Array(),
  regionEpoch: { confVer: 1, version: 1 },
  peers: [{ id: 3, storeId: STORE_ID, role: 'Voter' }],
};

function ctxOf(region: Region): RequestContext {
  return {
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
    clusterId: 0,
  } as RequestContext;
}

interface Opened {
  backend: RaftstoreBackend;
  failures: MrkvError[];
}

async function open(dir: DataDir, extra: Partial<RaftstoreThreadOptions> = {}): Promise<Opened> {
  const failures: MrkvError[] = [];
  const backend = await openRaftstoreThread({
    config: testRaftstoreConfig(),
    layout: dir.layout,
    storeId: STORE_ID,
    log: { level: 'silent', file: '' },
    logger: noopLogger,
    onFailure: (err) => failures.push(err),
    statsIntervalMs: 50,
    ...extra,
  });
  cleanups.push(() => backend.close());
  return { backend, failures };
}

const sent: Array<{ storeId: number; count: number }> = [];
const transport: RaftTransport = {
  send: (storeId, msgs) => void sent.push({ storeId, count: msgs.length }),
  sendSnapshot: () => Promise.resolve(),
};

async function start(backend: RaftstoreBackend, pd = new FakePd(7, 100)): Promise<RunningRaftstore> {
  const rs = await backend.start({ storeId: STORE_ID, clusterId: pd.clusterId, transport, pd, logger: noopLogger });
  cleanups.push(() => rs.stop().catch(() => undefined));
  return rs;
}

/** Retries `fn` while the region has no leader yet (a fresh single-peer region elects itself). */
async function eventually<T>(fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('raftstore thread', () => {
  it('bootstraps, serves RawKV with typed errors, splits through PD and survives a restart', async () => {
    const dir = dataDir();
    const { backend } = await open(dir);
    expect(await backend.bootstrap.preparedRegion()).toBeUndefined();
    await backend.bootstrap.prepareBootstrap(firstRegion);
    expect((await backend.bootstrap.preparedRegion())?.id).toBe(firstRegion.id);
    await backend.bootstrap.clearPrepareBootstrap();

    const pd = new FakePd(7, 100);
    const rs = await start(backend, pd);
    expect(rs.regionCount()).toBe(1);
    const ctx = ctxOf(firstRegion);
    await eventually(() => rs.rawKv.rawPut(ctx, enc('a'), enc('1')));
    await rs.rawKv.rawBatchPut(ctx, [
      { key: enc('b'), value: enc('2') },
      { key: enc('c'), value: enc('3') },
    ]);
    expect(dec(await rs.rawKv.rawGet(ctx, enc('a')))).toBe('1');
    expect((await rs.rawKv.rawScan(ctx, { startKey: enc('a'), endKey: new Uint8Array(), limit: 10, keyOnly: false, reverse: false })).map((p) => dec(p.value))).toEqual(['1', '2', '3']);
    expect(await rs.rawKv.rawCompareAndSwap(ctx, { key: enc('a'), value: enc('9'), previousNotExist: false, previousValue: enc('1'), delete: false })).toMatchObject({ succeeded: true });

    // Region errors come back as their classes, with payloads.
    const missing = await rs.rawKv.rawGet({ ...ctx, regionId: 999 }, enc('a')).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RegionNotFoundError);
    expect((missing as RegionNotFoundError).payload).toEqual({ regionId: 999 });
    const stale = await rs.rawKv.rawGet({ ...ctx, regionEpoch: { confVer: 1, version: 0 } }, enc('a')).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(EpochNotMatchError);
    expect((stale as EpochNotMatchError).payload.currentRegions.map((r) => r.id)).toEqual([firstRegion.id]);

    // An aborted call rejects with the signal's reason.
    const ctl = new AbortController();
    ctl.abort(new Error('client went away'));
    await expect(rs.rawKv.rawGet(ctx, enc('a'), ctl.signal)).rejects.toThrow('client went away');

    // A split asks PD (on main) for ids through the port and answers both regions.
    const regions = await rs.rawKv.splitRegion(ctx, [enc('b')]);
    expect(regions.map((r) => [dec(r.startKey), dec(r.endKey)])).toEqual([
      ['', 'b'],
      ['b', ''],
    ]);
    await eventually(async () => expect(rs.regionCount()).toBe(2));
    expect(rs.metricsText?.()).toMatch(/mrkv_raftstore_regions 2/);
    expect(rs.storeStats()).toMatchObject({ regionCount: 2 });

    await rs.stop();
    await backend.close();

    // Same data directory, new thread: the regions and the data are back.
    const again = await open(dir);
    expect(await again.backend.bootstrap.preparedRegion()).toBeUndefined();
    const rs2 = await start(again.backend);
    expect(rs2.regionCount()).toBe(2);
    const right = regions[1]!;
    const rctx = { ...ctxOf(right), peer: right.peers[0] };
    expect(dec(await eventually(() => rs2.rawKv.rawGet(rctx, enc('c'))))).toBe('3');
    expect(dec(await eventually(() => rs2.rawKv.rawGet(ctxOf(regions[0]!), enc('a'))))).toBe('9');
    await rs2.stop();
    await again.backend.close();
  });

  it('reports a crashed thread once and fails calls in flight and after', async () => {
    const dir = dataDir();
    const { backend, failures } = await open(dir, { failpoints: { crashOnPutKey: Buffer.from('boom').toString('hex') } });
    await backend.bootstrap.prepareBootstrap(firstRegion);
    await backend.bootstrap.clearPrepareBootstrap();
    const rs = await start(backend);
    const ctx = ctxOf(firstRegion);
    await eventually(() => rs.rawKv.rawPut(ctx, enc('a'), enc('1')));

    const inFlight = rs.rawKv.rawPut(ctx, enc('boom'), enc('x')).catch((e: unknown) => e);
    await eventually(async () => expect(failures).toHaveLength(1));
    expect(failures[0]!.code).toBe(RaftstoreThreadCodes.THREAD_FAILED);
    expect(failures[0]!.message).toMatch(/crashOnPutKey/);
    // The put that crashed the thread is failed by the crash, never left hanging.
    const err = await inFlight;
    expect(isMrkvError(err) && err.code).toBe(RaftstoreThreadCodes.THREAD_STOPPED);
    const after = await rs.rawKv.rawGet(ctx, enc('a')).catch((e: unknown) => e);
    expect(isMrkvError(after) && after.code).toBe(RaftstoreThreadCodes.THREAD_STOPPED);
    await backend.close();
    expect(failures).toHaveLength(1);
  });

  it('takes a thread that stops answering (hung, not crashed) as failed once it is silent past hungAfterMs', async () => {
    const dir = dataDir();
    const { backend, failures } = await open(dir, { hungAfterMs: 2_000, failpoints: { hangOnPutKey: Buffer.from('spin').toString('hex') } });
    await backend.bootstrap.prepareBootstrap(firstRegion);
    await backend.bootstrap.clearPrepareBootstrap();
    const rs = await start(backend);
    const ctx = ctxOf(firstRegion);
    await eventually(() => rs.rawKv.rawPut(ctx, enc('a'), enc('1')));
    // Alive and posting stats: serving reads for longer than hungAfterMs, the watchdog says nothing.
    for (const until = Date.now() + 2_500; Date.now() < until; ) {
      expect(await rs.rawKv.rawGet(ctx, enc('a'))).toEqual(enc('1'));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(failures).toHaveLength(0);

    const inFlight = rs.rawKv.rawPut(ctx, enc('spin'), enc('x')).catch((e: unknown) => e);
    await eventually(async () => expect(failures).toHaveLength(1));
    expect(failures[0]!.code).toBe(RaftstoreThreadCodes.THREAD_HUNG);
    expect(failures[0]!.message).toMatch(/no sign of life/);
    // The call the thread never answered is failed, not left hanging; later calls fail at once.
    expect(isMrkvError(await inFlight)).toBe(true);
    const after = await rs.rawKv.rawGet(ctx, enc('a')).catch((e: unknown) => e);
    expect(isMrkvError(after)).toBe(true);
    await backend.close();
    expect(failures).toHaveLength(1);
  });

  it('rejects the open when the engines cannot be opened (the data directory is in use)', async () => {
    const dir = dataDir();
    const first = await open(dir);
    const second = await openRaftstoreThread({
      config: testRaftstoreConfig(),
      layout: dir.layout,
      storeId: STORE_ID,
      log: { level: 'silent', file: '' },
      logger: noopLogger,
      onFailure: () => {
        throw new Error('a failed open is not a thread failure');
      },
    }).catch((e: unknown) => e);
    expect(isMrkvError(second)).toBe(true);
    expect((second as MrkvError).code).not.toBe(CommonCodes.INTERNAL);
    await first.backend.close();
  });
});
