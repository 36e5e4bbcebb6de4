/**
 * Region churn during a run: concurrent writers and readers (put, get, batchPut, batchGet, scans)
 * while regions split, leaders transfer and peers move, sometimes before PD hears of it. No call
 * may fail, and at the end every acknowledged write reads back and a full scan (both directions)
 * returns exactly the expected contents. Seeded, so a failure replays.
 */
import { afterEach, expect, it } from 'vitest';
import { SeededRng } from '@mrkv/common';
import { SimCluster } from './__tests__/sim-cluster.js';
import { bytesToString } from './bytes.js';
import { createRawClient, type RawClientInternals } from './raw-client.js';

let c: SimCluster | undefined;
let client: RawClientInternals | undefined;
afterEach(async () => {
  await client?.close();
  await c?.close();
});

it.each([1, 2])('keeps every acknowledged write through splits, leader moves and peer moves (seed %i)', async (seed) => {
  c = await SimCluster.start({ stores: 4, splits: ['k100'] });
  const cluster = c;
  // Store 4 starts empty: peers move onto it (and off the others) as the run goes.
  client = createRawClient({ pdEndpoints: cluster.pdEndpoints, timeoutMs: 10_000, backoff: { tikvRpc: { baseMs: 2, capMs: 10 } } });
  const rc = client;
  const rng = new SeededRng(seed);
  const expected = new Map<string, string>();
  const key = (i: number): string => `k${String(i).padStart(3, '0')}`;
  let running = true;

  const churn = (async () => {
    let n = 0;
    while (running) {
      const roll = rng.nextInt(10);
      const tellPd = rng.chance(0.5);
      const regions = [...cluster.regions.values()].map((s) => s.region);
      const r = regions[rng.nextInt(regions.length)]!;
      if (roll < 4) {
        const k = key(rng.nextInt(200));
        if (!regions.some((x) => bytesToString(x.startKey) === k)) cluster.split(k, { tellPd });
      } else if (roll < 8) {
        const stores = r.peers.map((p) => p.storeId);
        cluster.transferLeader(r.id, stores[rng.nextInt(stores.length)]!, { tellPd });
      } else {
        const from = r.peers[rng.nextInt(r.peers.length)]!.storeId;
        const free = [1, 2, 3, 4].filter((s) => !r.peers.some((p) => p.storeId === s));
        if (free.length > 0) cluster.movePeer(r.id, from, free[rng.nextInt(free.length)]!, { tellPd });
      }
      if (++n % 5 === 0) cluster.syncPd(); // PD catches up now and then, as heartbeats would
      await new Promise((res) => setTimeout(res, 5));
    }
  })();

  // Each worker owns 40 keys, so the last acknowledged write of a key is the one that stays.
  const worker = async (w: number): Promise<void> => {
    const own = (j: number): string => key(w * 40 + (j % 40));
    for (let round = 0; round < 30; round++) {
      const v = `w${w}r${round}`;
      if (round % 4 === 0) {
        const batch = [round, round + 13, round + 27].map((j) => ({ key: own(j), value: `${v}-${j}` }));
        await rc.batchPut(batch);
        for (const p of batch) expected.set(p.key, p.value);
        const got = await rc.batchGet(batch.map((p) => p.key));
        expect(got.map((p) => bytesToString(p.value))).toEqual(batch.map((p) => p.value));
      } else {
        await rc.put(own(round), v);
        expected.set(own(round), v);
        expect(bytesToString((await rc.get(own(round)))!)).toBe(v);
      }
      if (round % 10 === 9) {
        const seen = await rc.scanAll(key(0), key(200), { batchSize: 7, reverse: round % 20 === 19 });
        const keys = seen.map((p) => bytesToString(p.key));
        expect(new Set(keys).size).toBe(keys.length);
      }
    }
  };
  await Promise.all(Array.from({ length: 5 }, (_, w) => worker(w)));
  running = false;
  await churn;

  expect(cluster.regions.size).toBeGreaterThan(3);
  const all = await rc.scanAll('', '', { batchSize: 11 });
  const want = [...expected].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`);
  expect(all.map((p) => `${bytesToString(p.key)}=${bytesToString(p.value)}`)).toEqual(want);
  const back = await rc.scanAll('', '', { batchSize: 5, reverse: true });
  expect(back.map((p) => bytesToString(p.key))).toEqual(want.map((s) => s.split('=')[0]).reverse());
});
