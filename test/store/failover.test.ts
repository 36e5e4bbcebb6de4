/**
 * Failover on real processes: `kill -9` of the store holding a region's leader while 16 SDK
 * writers keep writing. Every acknowledged write must still be readable, the cluster must take
 * writes again (a new leader elected among the two survivors), and the killed store, restarted on
 * its data directory, must catch up: follower reads on it return every acknowledged write, and
 * with another store killed afterwards, the restarted one carries the quorum that still serves them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToString, createRawClient, type RawClientInternals } from '@mrkv/client';
import { createTikvClient, type kvrpcpb, type metapb } from '@mrkv/proto';
import { E2eCluster } from '../harness/cluster.js';
import { idempotent, waitFor } from './cluster.js';
import type { StoreProcess } from '../harness/store.js';

let cluster: E2eCluster;
let client: RawClientInternals;

beforeAll(async () => {
  cluster = await E2eCluster.start({ stores: 3, pdTimings: 'default' });
  client = createRawClient({ pdEndpoints: [cluster.pd.addr], timeoutMs: 10_000, rpcTimeoutMs: 2_000 });
}, 180_000);
afterAll(async () => {
  await client?.close();
  await cluster?.stop();
});

/** Writers that put `w/<writer % 8>/<seq>` in a loop and remember what was acknowledged. */
class Load {
  readonly acked = new Map<string, string>();
  /** Acknowledgement count per writer slot, so a test can wait for progress on one region. */
  readonly failures: string[] = [];
  private stopped = false;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly c: RawClientInternals,
    writers: number,
  ) {
    this.loops = Array.from({ length: writers }, (_, w) => this.run(w));
  }

  private async run(w: number): Promise<void> {
    for (let seq = 0; !this.stopped; seq++) {
      const key = `w/${w % 8}/${String(w).padStart(2, '0')}-${String(seq).padStart(6, '0')}`;
      const value = `v-${w}-${seq}`;
      try {
        await this.c.put(key, value);
        this.acked.set(key, value);
      } catch (e) {
        // Unknown outcome (the store died with it in flight, or the deadline passed): not acknowledged.
        this.failures.push(e instanceof Error ? e.message : String(e));
      }
    }
  }

  /** Acknowledged keys under `prefix`. */
  count(prefix = ''): number {
    let n = 0;
    for (const k of this.acked.keys()) if (k.startsWith(prefix)) n++;
    return n;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

/** RawBatchGet on one store's own peer with `replica_read` (ReadIndex, then its local data). */
async function followerRead(store: StoreProcess, region: metapb.Region__Output, storeId: string, keys: string[]): Promise<Map<string, string> | string> {
  const peer = region.peers.find((p) => p.storeId === storeId);
  if (!peer) return `store ${storeId} has no peer of region ${region.id}`;
  const tikv = createTikvClient(store.addr);
  try {
    const res = await new Promise<kvrpcpb.RawBatchGetResponse__Output>((resolve, reject) =>
      tikv.RawBatchGet(
        { context: { regionId: region.id, regionEpoch: region.regionEpoch, peer, replicaRead: true }, keys: keys.map((k) => Buffer.from(k)) },
        { deadline: Date.now() + 5_000 },
        (err, r) => (err ? reject(err) : resolve(r!)),
      ),
    );
    if (res.regionError) return `region error: ${res.regionError.message}`;
    return new Map(res.pairs.map((p) => [p.key.toString(), p.value.toString()]));
  } finally {
    tikv.close();
  }
}

/** A plain RawGet on one store's own peer: 'ok', or the region error it answered. */
async function leaderRead(store: StoreProcess, region: metapb.Region__Output, storeId: string, key: string): Promise<string> {
  const peer = region.peers.find((p) => p.storeId === storeId);
  const tikv = createTikvClient(store.addr);
  try {
    const res = await new Promise<kvrpcpb.RawGetResponse__Output>((resolve, reject) =>
      tikv.RawGet({ context: { regionId: region.id, regionEpoch: region.regionEpoch, peer }, key: Buffer.from(key) }, { deadline: Date.now() + 5_000 }, (err, r) =>
        err ? reject(err) : resolve(r!),
      ),
    );
    return res.regionError ? `region error: ${res.regionError.message}` : 'ok';
  } finally {
    tikv.close();
  }
}

/** Every acknowledged pair is read back through the SDK (in chunks of 500). */
async function expectAllReadable(acked: Map<string, string>): Promise<void> {
  const keys = [...acked.keys()];
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const got = new Map((await idempotent(() => client.batchGet(chunk))).map((p) => [bytesToString(p.key), bytesToString(p.value)]));
    const missing = chunk.filter((k) => got.get(k) !== acked.get(k));
    expect(missing, `acknowledged writes missing or wrong: ${missing.slice(0, 5).join(', ')}`).toEqual([]);
  }
}

describe('kill -9 of a leader store under load', () => {
  it('keeps every acknowledged write, takes writes again, and the restarted store catches up', async () => {
    await cluster.waitReplicated(1, 3);
    await cluster.split(['w/4']);
    await cluster.waitReplicated(2, 3);

    const load = new Load(client, 16);
    let killedIndex: number;
    let killedId: string;
    try {
      await waitFor('300 acknowledged writes', async () => (load.acked.size >= 300 ? true : undefined), 15_000, 20);

      // The leader of the region under w/0 is the victim; PD names it, and it leads by its own
      // account too (a plain leader read on it is served). PD's view can lag a leader move, so
      // ask until both agree.
      const found = await waitFor('PD and the store to agree on the leader', async () => {
        const t = await cluster.view.regionOf(Buffer.from('w/0/'));
        if (t?.leader === undefined) return undefined;
        const v = cluster.storeById(t.leader.storeId);
        return (await leaderRead(v, t.region, t.leader.storeId, 'w/0/')) === 'ok' ? { t, v } : undefined;
      }, 30_000, 200);
      const target = found.t;
      killedId = target.leader!.storeId;
      const victim = found.v;
      killedIndex = cluster.stores.indexOf(victim);
      const before = load.count('w/0/');
      await victim.kill();

      // Writable again: writes to the victim's region are acknowledged by a new leader.
      await waitFor('writes to the failed-over region', async () => (load.count('w/0/') >= before + 50 ? true : undefined), 20_000, 50);
      expect(load.count('w/5/')).toBeGreaterThan(0);
    } finally {
      await load.stop();
    }
    expect(load.acked.size).toBeGreaterThan(400);
    await expectAllReadable(load.acked);
    const region = await cluster.view.regionOf(Buffer.from('w/0/'));
    expect(region!.leader!.storeId).not.toBe(killedId);

    // Restart on the same data directory; its peers catch up (log or snapshot from the new leaders).
    const back = await cluster.restartStore(killedIndex);
    const regions = await cluster.waitReplicated(2, 3);
    const byRegion = new Map<metapb.Region__Output, string[]>(regions.map((r) => [r.region, []]));
    for (const k of load.acked.keys()) {
      const r = regions.find((x) => Buffer.compare(Buffer.from(k), x.region.startKey) >= 0 && (x.region.endKey.length === 0 || Buffer.compare(Buffer.from(k), x.region.endKey) < 0));
      byRegion.get(r!.region)!.push(k);
    }
    for (const [r, keys] of byRegion) {
      await waitFor(`store ${killedId} to serve region ${r.id} by follower read`, async () => {
        const got = await followerRead(back, r, killedId, keys);
        return typeof got !== 'string' && keys.every((k) => got.get(k) === load.acked.get(k)) ? true : undefined;
      });
    }

    // The restarted store now carries a quorum: kill the leader of w/0's region and read everything again.
    const now = await cluster.view.regionOf(Buffer.from('w/0/'));
    const second = now!.leader!.storeId === killedId ? regions[0]!.region.peers.find((p) => p.storeId !== killedId)!.storeId : now!.leader!.storeId;
    await cluster.storeById(second).kill();
    await expectAllReadable(load.acked);
    await idempotent(() => client.put('w/after', 'ok'));
    expect(bytesToString((await idempotent(() => client.get('w/after')))!)).toBe('ok');
  }, 120_000);
});
