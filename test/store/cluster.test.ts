/**
 * A real cluster (mrkv-pd + three mrkv-store processes on RocksDB, talking gRPC on loopback):
 * PD's replica checker grows the bootstrapped region to three replicas; the SDK writes, reads and
 * scans across several regions; and a stock BatchCommands stream (a raw gRPC client, no SDK)
 * gets every answer matched to its request id while requests complete out of order.
 *
 * Failover (kill -9 of a leader's store under load, restart on the same data) is
 * failover.test.ts, with a cluster of its own.
 */
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToString, createRawClient, type RawClientInternals } from '@mrkv/client';
import { createTikvClient, type TikvClient, type tikvpb } from '@mrkv/proto';
import { E2eCluster } from '../harness/cluster.js';
import { idempotent, waitFor } from './cluster.js';

let cluster: E2eCluster;
let client: RawClientInternals;

beforeAll(async () => {
  cluster = await E2eCluster.start({ stores: 3, pdTimings: 'default' });
  client = createRawClient({ pdEndpoints: [cluster.pd.addr], timeoutMs: 15_000 });
}, 180_000);
afterAll(async () => {
  await client?.close();
  await cluster?.stop();
});

const key = (i: number): string => `k/${String(i).padStart(4, '0')}`;
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : bytesToString(b));

describe('a PD + 3 store cluster over gRPC', () => {
  it('replicates the first region to every store, then writes, reads and scans across split regions', async () => {
    // PD's replica checker adds the two missing peers (one at a time, each a learner promoted).
    const [first] = await cluster.waitReplicated(1, 3);
    const storesOfFirst = new Set(first!.region.peers.map((p) => p.storeId));
    expect(storesOfFirst.size).toBe(3);
    // The stores started together and raced to bootstrap: exactly one first region exists, on all of them.
    await waitFor('every store to hold exactly the one region', async () => {
      const counts = await Promise.all(cluster.stores.map(async (s) => (await s.status()).regionCount));
      return counts.every((c) => c === 1) ? true : undefined;
    });

    await cluster.split(['k/0100', 'k/0200', 'k/0300']);
    const regions = await cluster.waitReplicated(4, 3);
    expect(regions.map((r) => bytesToString(r.region.startKey))).toEqual(['', 'k/0100', 'k/0200', 'k/0300']);

    // Writes: single puts and a batch spanning every region (grouped per region by the SDK).
    const n = 400;
    await Promise.all(Array.from({ length: 40 }, (_, i) => idempotent(() => client.put(key(i * 10), `v${i * 10}`))));
    const batch = Array.from({ length: n }, (_, i) => i)
      .filter((i) => i % 10 !== 0)
      .map((i) => ({ key: key(i), value: `v${i}` }));
    await idempotent(() => client.batchPut(batch));

    expect(text(await idempotent(() => client.get(key(0))))).toBe('v0');
    expect(text(await idempotent(() => client.get(key(399))))).toBe('v399');
    expect(await idempotent(() => client.get('k/9999'))).toBeUndefined();
    const got = await idempotent(() => client.batchGet([key(5), key(150), key(250), key(350), 'k/absent']));
    expect(got.map((p) => [bytesToString(p.key), bytesToString(p.value)])).toEqual([
      [key(5), 'v5'],
      [key(150), 'v150'],
      [key(250), 'v250'],
      [key(350), 'v350'],
    ]);

    // Scans cross region boundaries in both directions, in small batches.
    const all = await idempotent(() => client.scanAll('k/', 'k0', { batchSize: 37 }));
    expect(all.map((p) => bytesToString(p.key))).toEqual(Array.from({ length: n }, (_, i) => key(i)));
    expect(all.every((p, i) => bytesToString(p.value) === `v${i}`)).toBe(true);
    const down = await idempotent(() => client.scanAll(key(90), key(310), { reverse: true, limit: 150, keyOnly: true }));
    expect(down.map((p) => bytesToString(p.key))).toEqual(Array.from({ length: 150 }, (_, i) => key(309 - i)));
    expect(down.every((p) => p.value.length === 0)).toBe(true);

    // A range delete across three regions, then the scan again.
    await idempotent(() => client.deleteRange(key(50), key(350)));
    const left = await idempotent(() => client.scanAll('k/', 'k0'));
    expect(left.length).toBe(n - 300);
    expect(bytesToString(left[49]!.key)).toBe(key(49));
    expect(bytesToString(left[50]!.key)).toBe(key(350));

    const cas = await client.compareAndSwap(key(0), 'v0', 'v0-new');
    expect(cas.succeeded).toBe(true);
    expect(text(await client.get(key(0)))).toBe('v0-new');

    // Every replica holds the data: follower reads (ReadIndex) on each store return it.
    const replicaClient = createRawClient({ pdEndpoints: [cluster.pd.addr], replicaRead: true, timeoutMs: 15_000 });
    try {
      for (let i = 0; i < 6; i++) expect(text(await replicaClient.get(key(399)))).toBe('v399');
    } finally {
      await replicaClient.close();
    }
  }, 90_000);

  it('BatchCommands (stock gRPC stream): ids matched under concurrency, answers out of order', async () => {
    const [r] = await cluster.waitReplicated(4, 3);
    const region = r!.region;
    const leader = r!.leader!;
    const addr = cluster.storeById(leader.storeId).addr;
    const tikv: TikvClient = createTikvClient(addr);
    try {
      const stream = tikv.BatchCommands() as grpc.ClientDuplexStream<tikvpb.BatchCommandsRequest, tikvpb.BatchCommandsResponse__Output>;
      const answers = new Map<string, tikvpb.BatchCommandsResponse_Response__Output>();
      const order: string[] = [];
      let duplicates = 0;
      stream.on('data', (f: tikvpb.BatchCommandsResponse__Output) =>
        f.requestIds.forEach((id, i) => {
          if (answers.has(id)) duplicates++;
          answers.set(id, f.responses[i]!);
          order.push(id);
        }),
      );
      stream.on('error', () => {});
      const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
      const context = { regionId: region.id, regionEpoch: region.regionEpoch, peer: leader };

      // Ids are sparse and descending, and some are above 2^53, so nothing can line them up by
      // position or by number. A slow Empty (3 s) goes first; the writes sent after it answer first.
      const big = 2n ** 60n;
      const idOf = (i: number): string => (big - BigInt(i) * 7919n).toString();
      stream.write({ requests: [{ Empty: { testId: 1, delayTime: 3000 } }], requestIds: [idOf(0)] });
      // Four concurrent senders, 50 frames of 4 puts each, interleaved on one stream.
      const senders = Array.from({ length: 4 }, async (_, s) => {
        for (let f = 0; f < 50; f++) {
          const reqs: tikvpb.BatchCommandsRequest_Request[] = [];
          const ids: string[] = [];
          for (let j = 0; j < 4; j++) {
            const i = 1 + s * 200 + f * 4 + j;
            reqs.push({ RawPut: { context, key: Buffer.from(`bc/${i}`), value: Buffer.from(`value-${idOf(i)}`) } });
            ids.push(idOf(i));
          }
          stream.write({ requests: reqs, requestIds: ids });
          await new Promise((res) => setImmediate(res));
        }
      });
      await Promise.all(senders);
      await waitFor('800 put answers', async () => (answers.size >= 801 ? true : undefined), 20_000, 20);
      let served = 0;
      const servedIds = new Set<number>();
      for (let i = 1; i <= 800; i++) {
        const a = answers.get(idOf(i));
        expect(a?.cmd).toBe('RawPut');
        const regionError = a?.RawPut?.regionError;
        // PD may move the leader while the frames are in flight: a region error is then the
        // right answer for that id (what is tested here is that every id gets its own answer).
        if (regionError !== null && regionError !== undefined) expect(regionError.notLeader ?? regionError.epochNotMatch).toBeTruthy();
        else {
          expect(a?.RawPut?.error).toBe('');
          served++;
          servedIds.add(i);
        }
      }
      expect(served).toBeGreaterThan(0);
      expect(answers.get(idOf(0))?.Empty?.testId).toBe('1');
      expect(order.indexOf(idOf(0))).toBeGreaterThan(order.indexOf(idOf(1)));

      // Reads of those keys, each answer's value naming its own request id.
      const readIds = Array.from({ length: 200 }, (_, i) => `${9_000_000_000_000_000_000n + BigInt(i * 3)}`);
      stream.write({
        requests: readIds.map((_, i) => ({ RawGet: { context, key: Buffer.from(`bc/${1 + i * 4}`) } })),
        requestIds: readIds,
      });
      await waitFor('200 get answers', async () => (readIds.every((id) => answers.has(id)) ? true : undefined), 20_000, 20);
      readIds.forEach((id, i) => {
        const a = answers.get(id)?.RawGet;
        const regionError = a?.regionError;
        if (regionError !== null && regionError !== undefined) expect(regionError.notLeader ?? regionError.epochNotMatch).toBeTruthy();
        else if (servedIds.has(1 + i * 4)) expect(a?.value.toString()).toBe(`value-${idOf(1 + i * 4)}`);
      });
      expect(duplicates).toBe(0);

      stream.end();
      expect((await status).code).toBe(0);
    } finally {
      tikv.close();
    }
  }, 60_000);
});
