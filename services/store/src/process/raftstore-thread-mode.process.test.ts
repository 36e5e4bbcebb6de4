/**
 * The real `mrkv-store` process in each `--raftstore-thread` mode: writes and reads over gRPC, the
 * raftstore's figures on /status and /metrics, log lines carrying storeId and regionId (and, in
 * worker mode, the thread), a clean stop and a restart on the same data directory.
 */
import { describe, expect, it } from 'vitest';
import { StoreProcess } from '../../../../test/harness/store.js';
import { firstRegionCtx, get, put, putWhenLed, realStoreFixture } from './__tests__/real-store.js';

const fx = realStoreFixture();

describe.each([
  { mode: 'main', thread: undefined },
  { mode: 'worker', thread: 'raftstore' },
] as const)('mrkv-store with --raftstore-thread $mode', ({ mode, thread }) => {
  it('serves writes and reads, stops cleanly and keeps its data across a restart', { timeout: 90_000 }, async () => {
    const s = fx.track(await StoreProcess.start({ pd: [fx.pd().address], args: ['--raftstore-thread', mode] }));
    const ctx = await firstRegionCtx(s);
    await putWhenLed(s.addr, ctx, 'k00', 'v00');
    for (let i = 1; i < 20; i++) expect((await put(s.addr, ctx, `k${String(i).padStart(2, '0')}`, `v${i}`)).error).toBe('');
    expect(await get(s.addr, ctx, 'k00')).toBe('v00');
    expect(await get(s.addr, ctx, 'k19')).toBe('v19');
    expect(await get(s.addr, ctx, 'nope')).toBeUndefined();

    expect(await s.status()).toMatchObject({ state: 'serving', regionCount: 1 });
    expect((await s.http('/metrics')).body).toMatch(/mrkv_raftstore_regions 1/);
    // Raftstore log lines carry the store and the region (and, in worker mode, the thread).
    const peerLine = await s.waitForLog((r) => r.component === 'raftstore' && r.regionId === ctx.regionId && r.storeId === ctx.peer.storeId && r.peerId === ctx.peer.id);
    expect(peerLine.thread).toBe(thread);

    expect(await s.stop()).toEqual({ code: 0, signal: null });
    const again = fx.track(await s.restart());
    expect(await get(again.addr, ctx, 'k00')).toBe('v00');
    expect(await get(again.addr, ctx, 'k07')).toBe('v7');
    await putWhenLed(again.addr, ctx, 'k20', 'v20');
    expect(await get(again.addr, ctx, 'k20')).toBe('v20');
    expect(await again.stop()).toEqual({ code: 0, signal: null });
  });
});

