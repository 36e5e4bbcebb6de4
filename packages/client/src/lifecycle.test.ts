/**
 * Deadlines, cancellation, close(), PD leader failover, and BatchCommands request-id matching
 * under concurrency (responses completing out of order, a stream that breaks mid-flight).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimCluster } from './__tests__/sim-cluster.js';
import { bytesToString } from './bytes.js';
import { ClientErrorCodes } from './errors.js';
import { createRawClient, type RawClientInternals } from './raw-client.js';

let c: SimCluster;
let client: RawClientInternals;

beforeEach(async () => {
  c = await SimCluster.start({ stores: 3, splits: ['g', 'n', 't'], pdMembers: 2 });
  client = createRawClient({ pdEndpoints: c.pdEndpoints, timeoutMs: 5000, backoff: { tikvRpc: { baseMs: 5, capMs: 20 }, pdRpc: { baseMs: 5, capMs: 20 } } });
});
afterEach(async () => {
  c.hook = undefined;
  await client.close();
  await c.close();
});

/** Holds every operation until released (or the store aborts it). */
function holdAll(): { release: () => void; entered: Promise<void> } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  c.hook = async ({ signal }) => {
    entered();
    await Promise.race([gate, new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }))]);
  };
  return { release, entered: inside };
}

describe('deadlines and cancellation', () => {
  it('rejects with DEADLINE_EXCEEDED when the store does not answer in time', async () => {
    await client.put('a', '1');
    holdAll();
    const t0 = performance.now();
    const err = await client.get('a', { timeoutMs: 150 }).catch((e: unknown) => e);
    const took = performance.now() - t0;
    expect(err).toMatchObject({ code: ClientErrorCodes.DEADLINE_EXCEEDED, details: { timeoutMs: 150 } });
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(2000);
  });

  it('rejects with DEADLINE_EXCEEDED naming the last retried error when retries outlast the deadline', async () => {
    await client.put('a', '1');
    const r = c.regionOf('a');
    await c.stopStore(c.leaderOf(r.id));
    const err = await client.get('a', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ClientErrorCodes.DEADLINE_EXCEEDED });
    expect((err as { details: { lastError?: string } }).details.lastError).toBeDefined();
  });

  it('cancels an in-flight call with its AbortSignal (CANCELLED, reason as cause)', async () => {
    await client.put('a', '1');
    const held = holdAll();
    const ac = new AbortController();
    const p = client.get('a', { signal: ac.signal });
    await held.entered;
    ac.abort(new Error('user gave up'));
    const err = await p.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ClientErrorCodes.CANCELLED });
    expect(((err as Error).cause as Error).message).toBe('user gave up');
    // The connection dropped the request; a late answer is ignored.
    held.release();
    c.hook = undefined;
    expect(bytesToString((await client.get('a'))!)).toBe('1');
  });

  it('rejects at once with an already-aborted signal, and scans stop when cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(client.put('a', '1', { signal: ac.signal })).rejects.toMatchObject({ code: ClientErrorCodes.CANCELLED });
    await expect(client.scanAll('', '', { signal: ac.signal })).rejects.toMatchObject({ code: ClientErrorCodes.CANCELLED });
    await client.batchPut(Array.from({ length: 20 }, (_, i) => ({ key: `s${i}`, value: 'v' })));
    const ac2 = new AbortController();
    const seen: string[] = [];
    const err = await (async () => {
      for await (const kv of client.scan('s', 't', { batchSize: 3, signal: ac2.signal })) {
        seen.push(bytesToString(kv.key));
        if (seen.length === 4) ac2.abort();
      }
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ClientErrorCodes.CANCELLED });
    expect(seen.length).toBeLessThanOrEqual(6);
  });
});

describe('close()', () => {
  it('fails calls in flight with CLOSED, refuses later calls, and is idempotent', async () => {
    await client.put('a', '1');
    const held = holdAll();
    const inflight = [client.get('a'), client.put('h', '2'), client.scanAll('', '')];
    await held.entered;
    await client.close();
    for (const p of inflight) await expect(p).rejects.toMatchObject({ code: ClientErrorCodes.CLOSED });
    await expect(client.get('a')).rejects.toMatchObject({ code: ClientErrorCodes.CLOSED });
    await expect(client.scanAll('', '')).rejects.toMatchObject({ code: ClientErrorCodes.CLOSED });
    await client.close();
    expect(client.connections.size).toBe(0);
    held.release();
  });
});

describe('PD', () => {
  it('fails over to the new PD leader when the old one dies', async () => {
    await client.put('a', '1');
    expect(client.pd.leaderAddress).toBe(c.pdServers[0]!.address);
    c.stopPd(0);
    c.pdLeader = 1;
    // A peer move the client must ask PD about (RegionNotFound on the old store).
    const r = c.regionOf('a');
    c.movePeer(r.id, c.leaderOf(r.id), (c.leaderOf(r.id) % 3) + 1);
    expect(bytesToString((await client.get('a'))!)).toBe('1');
    await client.batchPut([
      { key: 'b', value: '2' },
      { key: 'd', value: '3' },
    ]);
    expect(client.pd.leaderAddress).toBe(c.pdServers[1]!.address);
    expect(client.regionCache.byRegionId(r.id)!.region.regionEpoch.confVer).toBe(2);
  });

  it('follows a leader change among live members (the old one refuses as "not leader")', async () => {
    await client.put('a', '1');
    c.pdLeader = 1;
    const r = c.regionOf('a');
    c.movePeer(r.id, c.leaderOf(r.id), (c.leaderOf(r.id) % 3) + 1);
    expect(bytesToString((await client.get('a'))!)).toBe('1');
    expect(client.pd.leaderAddress).toBe(c.pdServers[1]!.address);
  });

  it('gives up with PD_UNAVAILABLE when no member answers within the backoff budget', async () => {
    const lonely = createRawClient({ pdEndpoints: ['127.0.0.1:1'], maxBackoffMs: 40, backoff: { pdRpc: { baseMs: 5, capMs: 10 } } });
    try {
      await expect(lonely.get('a')).rejects.toMatchObject({ code: ClientErrorCodes.PD_UNAVAILABLE });
    } finally {
      await lonely.close();
    }
  });
});

describe('BatchCommands', () => {
  it('matches answers to requests by id when they complete out of order, over one stream per store', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `${'abcdefghijklmnopqrstuvwxyz'[i % 26]}${i}`);
    await client.batchPut(keys.map((k) => ({ key: k, value: `v${k}` })));
    let seed = 7;
    c.hook = async () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      await new Promise((r) => setTimeout(r, seed % 15));
    };
    const got = await Promise.all(keys.map((k) => client.get(k)));
    expect(got.map((v) => bytesToString(v!))).toEqual(keys.map((k) => `v${k}`));
    expect(client.connections.size).toBe(3);
    for (const conn of client.connections.values()) {
      expect(conn.transport).toBe('batch');
      expect(conn.inflight).toBe(0);
    }
  });

  it('retries the requests of a stream that breaks mid-flight once the store is back', async () => {
    await client.put('a', '1');
    const r = c.regionOf('a');
    const leader = c.leaderOf(r.id);
    const held = holdAll();
    const p = client.get('a');
    await held.entered;
    c.hook = undefined;
    await c.stopStore(leader);
    await c.restartStore(leader);
    expect(bytesToString((await p)!)).toBe('1');
  });
});

describe('a hung store', () => {
  it.each(['batch', 'unary'] as const)('is given up on after rpcTimeoutMs and the call follows the new leader (%s)', async (transport) => {
    const hc = createRawClient({ pdEndpoints: c.pdEndpoints, transport, rpcTimeoutMs: 100, timeoutMs: 5000, backoff: { tikvRpc: { baseMs: 5, capMs: 10 } } });
    try {
      await hc.put('a', '1');
      const r = c.regionOf('a');
      const hung = c.leaderOf(r.id);
      let release!: () => void;
      const gate = new Promise<void>((res) => (release = res));
      c.hook = async ({ storeId }) => {
        if (storeId === hung) await gate;
      };
      c.transferLeader(r.id, (hung % 3) + 1);
      const t0 = performance.now();
      expect(bytesToString((await hc.get('a'))!)).toBe('1');
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(c.served.at(-1)!.storeId).toBe((hung % 3) + 1);
      release();
    } finally {
      await hc.close();
    }
  });
});
