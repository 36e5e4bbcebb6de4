/**
 * Every RawClient call against a simulated cluster of 3 stores and 4 regions (sim-cluster.ts),
 * over BatchCommands and over unary calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster } from './__tests__/sim-cluster.js';
import { bytesToString } from './bytes.js';
import { ClientErrorCodes } from './errors.js';
import { createRawClient, type RawClientInternals } from './raw-client.js';
import type { KvPair } from './types.js';

const str = (pairs: KvPair[]): string[] => pairs.map((p) => `${bytesToString(p.key)}=${bytesToString(p.value)}`);
const keysOf = (pairs: KvPair[]): string[] => pairs.map((p) => bytesToString(p.key));

describe.each(['batch', 'unary'] as const)('RawClient over %s', (transport) => {
  let c: SimCluster;
  let client: RawClientInternals;

  beforeAll(async () => {
    c = await SimCluster.start({ stores: 3, splits: ['g', 'n', 't'] });
    client = createRawClient({ pdEndpoints: c.pdEndpoints, transport, timeoutMs: 5000 });
  });
  afterAll(async () => {
    await client.close();
    await c.close();
  });

  it('puts, gets and deletes single keys (strings and bytes)', async () => {
    await client.put('apple', 'red');
    await client.put(new Uint8Array([0x7a, 0xff]), new Uint8Array([1, 2, 3]));
    expect(bytesToString((await client.get('apple'))!)).toBe('red');
    expect(await client.get(new Uint8Array([0x7a, 0xff]))).toEqual(new Uint8Array([1, 2, 3]));
    expect(await client.get('missing')).toBeUndefined();
    await client.delete('apple');
    expect(await client.get('apple')).toBeUndefined();
    // The requests went to the leader of each key's region.
    const last = c.served.at(-1)!;
    expect(last.storeId).toBe(c.leaderOf(c.regionOf('apple').id));
  });

  it('batchPut and batchGet across regions, results in request order, missing keys left out', async () => {
    const keys = ['b1', 'h1', 'o1', 'u1', 'a1', 'z9'];
    await client.batchPut(keys.map((k) => ({ key: k, value: `v-${k}` })));
    const got = await client.batchGet(['z9', 'nope', 'a1', 'h1', 'u1', 'o1', 'b1']);
    expect(str(got)).toEqual(['z9=v-z9', 'a1=v-a1', 'h1=v-h1', 'u1=v-u1', 'o1=v-o1', 'b1=v-b1']);
    const regions = new Set(c.served.filter((s) => s.op === 'batchGet').slice(-4).map((s) => s.regionId));
    expect(regions.size).toBe(4);
    await client.batchDelete(['a1', 'h1', 'nope']);
    expect(keysOf(await client.batchGet(keys))).toEqual(['b1', 'o1', 'u1', 'z9']);
    expect(await client.batchGet([])).toEqual([]);
    await client.batchPut([]);
    await client.batchDelete([]);
  });

  it('cuts large batches into chunks per region and sends them concurrently', async () => {
    const small = createRawClient({ pdEndpoints: c.pdEndpoints, transport, maxBatchKeys: 3 });
    try {
      const keys = Array.from({ length: 40 }, (_, i) => `${'abcdefghijklmnopqrstuvwxyz'[i % 26]}-chunk-${i}`);
      const before = c.served.length;
      await small.batchPut(keys.map((k) => ({ key: k, value: k })));
      const puts = c.served.slice(before).filter((s) => s.op === 'batchPut');
      // 4 regions; each region's keys in chunks of at most 3.
      expect(puts.length).toBeGreaterThanOrEqual(Math.ceil(40 / 3));
      expect(new Set(puts.map((s) => s.regionId)).size).toBe(4);
      const got = await small.batchGet(keys);
      expect(got.map((p) => bytesToString(p.value))).toEqual(keys);
      await small.batchDelete(keys);
      expect(await small.batchGet(keys)).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('batchPut keeps the last value of a repeated key', async () => {
    await client.batchPut([
      { key: 'dup', value: '1' },
      { key: 'dup', value: '2' },
    ]);
    expect(bytesToString((await client.get('dup'))!)).toBe('2');
    await client.delete('dup');
  });

  it('scans across regions forward and reverse, with limits, keyOnly and small batches', async () => {
    await client.deleteRange('', '');
    const keys = 'abcdefghijklmnopqrstuvwxyz'.split('').map((ch) => `${ch}${ch}`);
    await client.batchPut(keys.map((k) => ({ key: k, value: k.toUpperCase() })));
    expect(keysOf(await client.scanAll('', ''))).toEqual(keys);
    expect(keysOf(await client.scanAll('', '', { reverse: true }))).toEqual([...keys].reverse());
    expect(keysOf(await client.scanAll('f', 'p'))).toEqual(['ff', 'gg', 'hh', 'ii', 'jj', 'kk', 'll', 'mm', 'nn', 'oo']);
    expect(keysOf(await client.scanAll('f', 'p', { reverse: true }))).toEqual(['oo', 'nn', 'mm', 'll', 'kk', 'jj', 'ii', 'hh', 'gg', 'ff']);
    expect(keysOf(await client.scanAll('e', '', { limit: 5, batchSize: 2 }))).toEqual(['ee', 'ff', 'gg', 'hh', 'ii']);
    expect(keysOf(await client.scanAll('', 'v', { limit: 7, batchSize: 3, reverse: true }))).toEqual(['uu', 'tt', 'ss', 'rr', 'qq', 'pp', 'oo']);
    expect(keysOf(await client.scanAll('', '', { batchSize: 1 }))).toEqual(keys);
    expect(keysOf(await client.scanAll('', '', { batchSize: 1, reverse: true }))).toEqual([...keys].reverse());
    const keyOnly = await client.scanAll('a', 'c', { keyOnly: true });
    expect(keyOnly.map((p) => p.value.length)).toEqual([0, 0]);
    expect(await client.scanAll('m', 'm')).toEqual([]);
    expect(await client.scanAll('a', '', { limit: 0 })).toEqual([]);
    // Breaking out of the loop stops fetching.
    const before = c.served.filter((s) => s.op === 'scan').length;
    for await (const kv of client.scan('', '', { batchSize: 2 })) {
      expect(bytesToString(kv.key)).toBe('aa');
      break;
    }
    expect(c.served.filter((s) => s.op === 'scan').length - before).toBe(1);
  });

  it('deleteRange splits the range per region', async () => {
    await client.batchPut(['a5', 'f5', 'h5', 'm5', 'p5', 'w5'].map((k) => ({ key: k, value: 'x' })));
    const before = c.served.length;
    await client.deleteRange('f', 'q');
    const sent = c.served.slice(before).filter((s) => s.op === 'deleteRange');
    expect(sent.length).toBe(3);
    expect(keysOf(await client.batchGet(['a5', 'f5', 'h5', 'm5', 'p5', 'w5']))).toEqual(['a5', 'w5']);
  });

  it('compareAndSwap: create, swap, fail with what it saw, delete', async () => {
    expect(await client.compareAndSwap('cas', null, 'one')).toEqual({ succeeded: true, previousValue: null });
    const failed = await client.compareAndSwap('cas', 'zero', 'two');
    expect(failed.succeeded).toBe(false);
    expect(bytesToString(failed.previousValue!)).toBe('one');
    expect((await client.compareAndSwap('cas', 'one', 'two')).succeeded).toBe(true);
    expect((await client.compareAndSwap('cas', null, 'three')).succeeded).toBe(false);
    expect((await client.compareAndSwap('cas', 'two', null)).succeeded).toBe(true);
    expect(await client.get('cas')).toBeUndefined();
  });

  it('accepts calls without a deadline (timeoutMs: Infinity)', async () => {
    const forever = createRawClient({ pdEndpoints: c.pdEndpoints, transport, timeoutMs: Infinity, rpcTimeoutMs: Infinity });
    try {
      await forever.put('eternal', 'yes');
      expect(bytesToString((await forever.get('eternal'))!)).toBe('yes');
      expect(await forever.compareAndSwap('eternal', 'yes', null)).toMatchObject({ succeeded: true });
    } finally {
      await forever.close();
    }
  });

  it('rejects bad arguments with INVALID_ARGUMENT before sending', async () => {
    await expect(client.get('')).rejects.toMatchObject({ code: ClientErrorCodes.INVALID_ARGUMENT });
    await expect(client.put('', 'v')).rejects.toMatchObject({ code: ClientErrorCodes.INVALID_ARGUMENT });
    await expect(client.batchPut([{ key: 'k', value: 5 as unknown as string }])).rejects.toMatchObject({ code: ClientErrorCodes.INVALID_ARGUMENT });
    await expect(client.deleteRange('z', 'a')).rejects.toMatchObject({ code: ClientErrorCodes.INVALID_ARGUMENT });
    await expect(client.scanAll('z', 'a')).rejects.toMatchObject({ code: ClientErrorCodes.INVALID_ARGUMENT });
    await expect(client.scanAll('a', 'z', { batchSize: 0 })).rejects.toMatchObject({ code: ClientErrorCodes.INVALID_ARGUMENT });
  });

  it('reads values larger than gRPC’s 4 MiB default in one scan batch', async () => {
    const big = new Uint8Array(3 * 1024 * 1024).fill(7);
    await client.batchPut([
      { key: 'big1', value: big },
      { key: 'big2', value: big },
    ]);
    const got = await client.scanAll('big', 'big3');
    expect(got.map((p) => p.value.length)).toEqual([big.length, big.length]);
    await client.deleteRange('big', 'big3');
  });

  it("surfaces a store's final refusal as REQUEST_FAILED with the store's code", async () => {
    const big = 'k'.repeat(9000);
    const err = await client.put(big, 'v').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ClientErrorCodes.REQUEST_FAILED, details: { requestCode: 'KV:Storage:KeyTooLarge' } });
  });
});
