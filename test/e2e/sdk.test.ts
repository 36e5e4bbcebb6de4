/**
 * Issue 8, real processes: the SDK (`@mrkv/client`) against mrkv-pd + 3 mrkv-store processes.
 *
 * 1. every call, over BatchCommands and over unary calls, with scans across four regions in both
 *    directions (limits, key-only, small batches);
 * 2. a running workload (writers and scanners) while leaders are transferred and regions split
 *    through PD's admin service (mrkv-ctl): no error reaches the caller, scans neither lose nor
 *    repeat keys, and every acknowledged write reads back;
 * 3. deadlines and cancellation against a store frozen with SIGSTOP, then recovery once a new
 *    leader is elected and the store is resumed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToString, ClientErrorCodes, createRawClient, isClientError, type RawClient, type RawClientInternals } from '@mrkv/client';
import { E2eCluster } from '../harness/cluster.js';
import { waitFor } from '../harness/wait.js';

let cluster: E2eCluster;
let client: RawClientInternals;

beforeAll(async () => {
  cluster = await E2eCluster.start({ stores: 3, disable: ['merge-checker', 'balance-hot-region-scheduler', 'balance-region-scheduler'] });
  client = createRawClient({ pdEndpoints: [cluster.pdAddr], timeoutMs: 20_000, rpcTimeoutMs: 3_000 });
}, 150_000);
afterAll(async () => {
  await client?.close();
  await cluster?.stop();
});

const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : bytesToString(b));
const keys = (ps: ReadonlyArray<{ key: Uint8Array }>): string[] => ps.map((p) => bytesToString(p.key));

/**
 * Every call of the RawKV API, against keys `<region>/<prefix>/<n>` spread over the regions
 * a/, b/, c/, d/ (which must hold no other keys; the run deletes its own at the end).
 */
async function exerciseEveryCall(c: RawClient, prefix: string): Promise<void> {
  const k = (region: string, i: number) => `${region}/${prefix}/${String(i).padStart(3, '0')}`;
  // put / get / delete
  await c.put(k('a', 1), 'one');
  expect(text(await c.get(k('a', 1)))).toBe('one');
  await c.put(new TextEncoder().encode(k('a', 1)), new Uint8Array([0, 255, 7]));
  expect([...(await c.get(k('a', 1)))!]).toEqual([0, 255, 7]);
  await c.delete(k('a', 1));
  expect(await c.get(k('a', 1))).toBeUndefined();

  // batchPut across the four regions; batchGet in request order, absent keys left out
  const regions = ['a', 'b', 'c', 'd'];
  const pairs = regions.flatMap((r) => Array.from({ length: 50 }, (_, i) => ({ key: k(r, i), value: `${r}${i}` })));
  await c.batchPut(pairs);
  const got = await c.batchGet([k('d', 7), k('a', 3), k('zz', 0), k('c', 49)]);
  expect(got.map((p) => [bytesToString(p.key), bytesToString(p.value)])).toEqual([
    [k('d', 7), 'd7'],
    [k('a', 3), 'a3'],
    [k('c', 49), 'c49'],
  ]);

  // scans across every region, forward and reverse, with limits, key-only and small batches
  const all = pairs.map((p) => p.key).sort();
  const scanOf = async (start: string, end: string, o = {}) => keys(await c.scanAll(start, end, o));
  expect(await scanOf(`a/${prefix}/`, `e`, { batchSize: 7 })).toEqual(all.filter((x) => x.includes(`/${prefix}/`)));
  expect(await scanOf(k('a', 40), k('d', 10), { batchSize: 9, limit: 100 })).toEqual(all.filter((x) => x >= k('a', 40) && x < k('d', 10)).slice(0, 100));
  expect(await scanOf(k('a', 40), k('d', 10), { reverse: true, batchSize: 11 })).toEqual(all.filter((x) => x >= k('a', 40) && x < k('d', 10)).reverse());
  expect(await scanOf(k('b', 0), k('d', 0), { reverse: true, limit: 60 })).toEqual(all.filter((x) => x >= k('b', 0) && x < k('d', 0)).reverse().slice(0, 60));
  const keyOnly = await c.scanAll(k('b', 45), k('c', 5), { keyOnly: true });
  expect(keys(keyOnly)).toEqual(all.filter((x) => x >= k('b', 45) && x < k('c', 5)));
  expect(keyOnly.every((p) => p.value.length === 0)).toBe(true);
  // an iterator broken out of early stops fetching
  const firstThree: string[] = [];
  for await (const p of c.scan(k('c', 0), '', { batchSize: 2 })) {
    firstThree.push(bytesToString(p.key));
    if (firstThree.length === 3) break;
  }
  expect(firstThree).toEqual([k('c', 0), k('c', 1), k('c', 2)]);
  expect(await scanOf(k('b', 5), k('b', 5))).toEqual([]);

  // batchDelete across regions, deleteRange across regions
  await c.batchDelete([k('a', 0), k('b', 0), k('c', 0), k('d', 0)]);
  expect(await c.batchGet([k('a', 0), k('b', 0), k('c', 0), k('d', 0)])).toEqual([]);
  await c.deleteRange(k('a', 10), k('c', 10));
  const left = await scanOf(`a/${prefix}/`, 'e');
  expect(left).toEqual(all.filter((x) => x.includes(`/${prefix}/`) && !(x >= k('a', 10) && x < k('c', 10)) && !/\/000$/.test(x)));

  // compareAndSwap: create if absent, swap on match, refuse on mismatch (with the value seen), delete
  expect(await c.compareAndSwap(k('a', 900), null, 'x')).toEqual({ succeeded: true, previousValue: null });
  const miss = await c.compareAndSwap(k('a', 900), null, 'y');
  expect(miss.succeeded).toBe(false);
  expect(text(miss.previousValue ?? undefined)).toBe('x');
  expect((await c.compareAndSwap(k('a', 900), 'x', 'z')).succeeded).toBe(true);
  const wrong = await c.compareAndSwap(k('a', 900), 'x', 'w');
  expect([wrong.succeeded, text(wrong.previousValue ?? undefined)]).toEqual([false, 'z']);
  expect((await c.compareAndSwap(k('a', 900), 'z', null)).succeeded).toBe(true);
  expect(await c.get(k('a', 900))).toBeUndefined();

  // a range delete over every region leaves nothing behind (the next run starts empty)
  await c.deleteRange('a', 'e');
  expect(await c.scanAll('a', 'e')).toEqual([]);

  // bad arguments fail before anything is sent
  await expect(c.put('', 'v')).rejects.toMatchObject({ code: ClientErrorCodes.INVALID_ARGUMENT });
  await expect(c.scanAll('b', 'a')).rejects.toMatchObject({ code: ClientErrorCodes.INVALID_ARGUMENT });
}

/**
 * Asks PD (mrkv-ctl) to move every region's leader to another voter. PD refuses a target whose
 * peer is still catching up (pending) under the write load; the next voter is tried then.
 * Resolves with the number of transfers PD accepted.
 */
async function transferEveryLeader(): Promise<number> {
  let accepted = 0;
  for (const r of await cluster.regions()) {
    for (const p of r.region.peers.filter((x) => x.storeId !== r.leader?.storeId)) {
      const res = await cluster.ctl('operator', 'add', 'transfer-leader', String(r.region.id), p.storeId);
      if (res.code === 0) {
        accepted++;
        break;
      }
      expect(res.err, 'the only acceptable refusal').toMatch(/pending or down|no leader known|already on store/);
    }
  }
  return accepted;
}

describe('the SDK against a real PD + 3 store cluster', () => {
  it('serves every call over both transports, scanning across four regions both ways', async () => {
    await cluster.waitRegions('the first region fully replicated', (rs) => rs.length === 1 && E2eCluster.fullyReplicated(rs[0]!), 60_000);
    await cluster.split(['b', 'c', 'd']);
    await cluster.waitRegions('4 regions fully replicated', (rs) => rs.length === 4 && rs.every((r) => E2eCluster.fullyReplicated(r)));
    await exerciseEveryCall(client, 'batch');
    const unary = createRawClient({ pdEndpoints: [cluster.pdAddr], transport: 'unary', timeoutMs: 20_000 });
    try {
      await exerciseEveryCall(unary, 'unary');
    } finally {
      await unary.close();
    }
    // close() ends calls with CLOSED and is idempotent
    const closing = createRawClient({ pdEndpoints: [cluster.pdAddr] });
    await closing.put('a/closing', 'open');
    expect(text(await closing.get('a/closing'))).toBe('open');
    await closing.close();
    await closing.close();
    await expect(closing.get('a/closing')).rejects.toMatchObject({ code: ClientErrorCodes.CLOSED });
  }, 120_000);

  it('retries through leader transfers and splits during a running workload: no errors, no lost or repeated keys', async () => {
    const errors: string[] = [];
    const acked = new Map<string, string>();
    let running = true;
    let scans = 0;
    const wkey = (w: number, seq: number) => `${'abcd'[seq % 4]}/w/${w}-${String(seq).padStart(6, '0')}`;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let seq = 0; running; seq++) {
        try {
          if (seq % 5 === 4) {
            const batch = [0, 1, 2, 3].map((j) => ({ key: wkey(w, seq * 10 + j), value: `v${seq}` }));
            await client.batchPut(batch);
            for (const p of batch) acked.set(p.key, p.value);
          } else {
            await client.put(wkey(w, seq), `v${seq}`);
            acked.set(wkey(w, seq), `v${seq}`);
          }
        } catch (e) {
          errors.push(`write: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    });
    // Scanners: every key acknowledged before a scan starts must appear in it, once, in order.
    const scanners = [false, true].map(async (reverse) => {
      while (running) {
        const mustSee = [...acked.keys()].filter((x) => x.includes('/w/'));
        try {
          const got = keys(await client.scanAll('a/w/', 'e', { reverse, batchSize: 50 })).filter((x) => x.includes('/w/'));
          const sorted = [...got].sort();
          if (reverse) sorted.reverse();
          expect(got, 'scan order').toEqual(sorted);
          expect(new Set(got).size, 'scan repeated a key').toBe(got.length);
          const seen = new Set(got);
          const lost = mustSee.filter((x) => !seen.has(x));
          expect(lost, `scan lost acknowledged keys: ${lost.slice(0, 3).join(', ')}`).toEqual([]);
          scans++;
        } catch (e) {
          errors.push(`scan: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    });

    try {
      await waitFor('the workload to get going', () => (acked.size > 50 ? true : undefined));
      // Leader transfers through PD's admin service, on every region, twice.
      let transfers = 0;
      for (let round = 0; round < 2; round++) {
        transfers += await transferEveryLeader();
        await cluster.waitRegions('transfers done', (rs) => rs.every((r) => r.leader !== undefined), 20_000);
        await waitFor('no running operators', async () => ((await cluster.ctlJson<unknown[]>('operator', 'list')).length === 0 ? true : undefined), { timeoutMs: 30_000, describe: () => cluster.describeOperators() });
      }
      expect(transfers).toBeGreaterThanOrEqual(4);
      // Splits through the admin service while the writers write into the regions being split.
      const before = (await cluster.regions()).length;
      for (const at of ['a/w/2', 'b/w/1', 'c/w/3', 'd/w/2']) {
        const r = await cluster.ctlJson<{ id: number }>('region', 'key', at);
        const res = await cluster.ctl('operator', 'add', 'split', String(r.id), '--key', at);
        expect(res.code, res.err).toBe(0);
      }
      await cluster.waitRegions(`${before + 4} regions`, (rs) => rs.length === before + 4 && rs.every((r) => r.leader !== undefined), 40_000);
      // And one more round of transfers on the split regions.
      await transferEveryLeader();
      const n = acked.size;
      await waitFor('more writes after the churn', () => (acked.size > n + 100 ? true : undefined), { timeoutMs: 30_000 });
      await waitFor('scans completed', () => (scans >= 4 ? true : undefined), { timeoutMs: 30_000 });
    } finally {
      running = false;
      await Promise.all([...writers, ...scanners]);
    }
    expect(errors, errors.slice(0, 3).join('\n')).toEqual([]);
    const all = [...acked.keys()];
    for (let i = 0; i < all.length; i += 500) {
      const chunk = all.slice(i, i + 500);
      const got = new Map((await client.batchGet(chunk)).map((p) => [bytesToString(p.key), bytesToString(p.value)]));
      expect(chunk.filter((k) => got.get(k) !== acked.get(k))).toEqual([]);
    }
    const final = keys(await client.scanAll('a/w/', 'e')).filter((x) => x.includes('/w/'));
    expect(new Set(final).size).toBe(final.length);
    expect(final.length).toBeGreaterThanOrEqual(acked.size);
  }, 150_000);

  it('honours deadlines and cancellation against a paused store, then recovers', async () => {
    await client.put('c/paused', 'before');
    const r = await cluster.view.regionOf(Buffer.from('c/paused'));
    const victim = cluster.storeById(r!.leader!.storeId);
    // A client that waits long on one store (rpcTimeoutMs 10 s), so the caller's deadline decides.
    const patient = createRawClient({ pdEndpoints: [cluster.pdAddr], timeoutMs: 30_000 });
    try {
      expect(text(await patient.get('c/paused'))).toBe('before');
      victim.pause();
      try {
        let t = Date.now();
        const late = await patient.get('c/paused', { timeoutMs: 400 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isClientError(late, ClientErrorCodes.DEADLINE_EXCEEDED), String(late)).toBe(true);
        expect(Date.now() - t).toBeLessThan(5_000);

        t = Date.now();
        const ac = new AbortController();
        setTimeout(() => ac.abort(new Error('caller gave up')), 200);
        const cancelled = await patient.put('c/paused', 'never', { signal: ac.signal }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isClientError(cancelled, ClientErrorCodes.CANCELLED), String(cancelled)).toBe(true);
        expect(Date.now() - t).toBeLessThan(5_000);

        // A scan's signal covers the whole iteration.
        const sc = new AbortController();
        setTimeout(() => sc.abort(), 200);
        await expect(patient.scanAll('c/', 'd', { signal: sc.signal })).rejects.toMatchObject({ code: ClientErrorCodes.CANCELLED });
        // An already aborted signal fails at once.
        await expect(patient.get('c/paused', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: ClientErrorCodes.CANCELLED });

        // With a store timeout shorter than the call, the SDK gives up on the frozen store and
        // finds the new leader the other two elect.
        const failover = createRawClient({ pdEndpoints: [cluster.pdAddr], timeoutMs: 30_000, rpcTimeoutMs: 1_000 });
        try {
          // The first attempt may reach the frozen leader and go unanswered: the SDK reports that
          // write as in doubt (UNDETERMINED) instead of sending it again; this caller retries it.
          for (let attempt = 0; ; attempt++) {
            try {
              await failover.put('c/paused', 'during');
              break;
            } catch (e) {
              if (!isClientError(e, ClientErrorCodes.UNDETERMINED) || attempt >= 5) throw e;
            }
          }
          expect(text(await failover.get('c/paused'))).toBe('during');
        } finally {
          await failover.close();
        }
      } finally {
        victim.resume();
      }
      await cluster.waitRegions('every region led after the resume', (rs) => rs.every((x) => x.leader !== undefined && E2eCluster.fullyReplicated(x)));
      expect(text(await patient.get('c/paused'))).toBe('during');
      await patient.put('c/paused', 'after');
      expect(text(await client.get('c/paused'))).toBe('after');
    } finally {
      await patient.close();
    }
  }, 90_000);
});
