/**
 * Helpers for tests of the real `mrkv-store` process (RocksDB raftstore) against a fake PD gRPC
 * server: a fresh fake PD per test (so each store bootstraps its own first region), process
 * cleanup, and RawPut / RawGet over gRPC on the first region.
 */
import { afterEach, beforeEach } from 'vitest';
import { createTikvClient } from '@mrkv/proto';
import { fakePdCluster, startFakePdServer, type FakePdServer } from '../../testing/fake-pd-server.js';
import type { StoreProcess } from '../../../../../test/harness/store.js';

/** A new cluster per test: each store bootstraps its own first region. */
export function realStoreFixture(): { pd(): FakePdServer; track(p: StoreProcess): StoreProcess } {
  let pd: FakePdServer | undefined;
  const procs: StoreProcess[] = [];
  beforeEach(async () => {
    pd = await startFakePdServer(fakePdCluster(4343, 10));
  });
  afterEach(() => {
    while (procs.length > 0) procs.pop()!.cleanup();
    pd?.stop();
  });
  return {
    pd: () => pd!,
    track: (p) => {
      procs.push(p);
      return p;
    },
  };
}

export type Ctx = { regionId: number; regionEpoch: { confVer: number; version: number }; peer: { id: number; storeId: number } };

/** The request context of the region the store bootstrapped (ids from its log). */
export async function firstRegionCtx(p: StoreProcess): Promise<Ctx> {
  const rec = await p.waitForLog((r) => r.msg === 'prepared the first region');
  return { regionId: rec.regionId as number, regionEpoch: { confVer: 1, version: 1 }, peer: { id: rec.peerId as number, storeId: rec.storeId as number } };
}

export function put(addr: string, ctx: Ctx, key: string, value: string): Promise<{ error: string; regionError: unknown }> {
  const c = createTikvClient(addr);
  return new Promise((resolve, reject) =>
    c.RawPut({ context: ctx, key: Buffer.from(key), value: Buffer.from(value) }, { deadline: Date.now() + 10_000 }, (err, r) => {
      c.close();
      if (err) reject(err);
      else resolve({ error: r!.error, regionError: r!.regionError });
    }),
  );
}

export function get(addr: string, ctx: Ctx, key: string): Promise<string | undefined> {
  const c = createTikvClient(addr);
  return new Promise((resolve, reject) =>
    c.RawGet({ context: ctx, key: Buffer.from(key) }, { deadline: Date.now() + 10_000 }, (err, r) => {
      c.close();
      if (err) reject(err);
      else if (r!.regionError != null || r!.error !== '') reject(new Error(`RawGet failed: ${JSON.stringify(r)}`));
      else resolve(r!.notFound ? undefined : r!.value.toString());
    }),
  );
}

/** Puts until the region has a leader (it elects itself right after start), then expects success. */
export async function putWhenLed(addr: string, ctx: Ctx, key: string, value: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await put(addr, ctx, key, value);
    if (r.regionError == null && r.error === '') return;
    if (Date.now() > deadline) throw new Error(`RawPut kept failing: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
