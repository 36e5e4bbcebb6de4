/**
 * The unary RawKV methods end to end: a real grpc-js server (startStoreServer) around the
 * in-memory RawKvApi, called with a stock TiKV-style client built from @mrkv/proto's generated
 * code. Covers TiKV's response shapes, every region error as TiKV encodes it, the gateway limits
 * and validation (with nothing reaching the raftstore), bad Context values, malformed protobuf,
 * unexpected failures, deadlines and cancellation.
 */
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvariantViolation, MrkvError } from '@mrkv/common';
import { regionErrorFromWire, requestErrorFromWire, type Region } from '@mrkv/proto';
import { b, ctxFor, rpc, startTestStore, type TestStore } from '../__tests__/fixtures.js';

let t: TestStore;
let region: Region;

beforeAll(async () => {
  t = await startTestStore({ flags: { 'limits.max-key-size': 64, 'limits.max-value-size': 1024, 'limits.max-batch-keys': 8, 'limits.max-scan-limit': 50, 'limits.raft-entry-max-size': 4096, 'limits.max-batch-bytes': 8192 }, clusterId: 7 });
});
afterAll(async () => {
  await t.close();
});
beforeEach(() => {
  t.kv.setHook(undefined);
  region = t.kv.regionList().find((r) => r.startKey.length === 0)!;
});

/** The current region holding `key`. */
function regionOf(key: string): Region {
  return t.kv.regionList().find((r) => Buffer.compare(Buffer.from(r.startKey), b(key)) <= 0 && (r.endKey.length === 0 || Buffer.compare(b(key), Buffer.from(r.endKey)) < 0))!;
}

describe('RawKV responses, as TiKV shapes them', () => {
  it('RawPut then RawGet; an absent key answers not_found', async () => {
    expect(await rpc(t.client, 'RawPut', { context: ctxFor(region), key: b('a'), value: b('1') })).toEqual({ regionError: null, error: '' });
    const got = await rpc(t.client, 'RawGet', { context: ctxFor(region), key: b('a') });
    expect(got).toEqual({ regionError: null, error: '', value: b('1'), notFound: false });
    const missing = await rpc(t.client, 'RawGet', { context: ctxFor(region), key: b('nope') });
    expect(missing.notFound).toBe(true);
    expect(missing.value.length).toBe(0);
  });

  it('RawBatchPut / RawBatchGet: only the pairs found, in request order', async () => {
    await rpc(t.client, 'RawBatchPut', { context: ctxFor(region), pairs: [{ key: b('b1'), value: b('x') }, { key: b('b2'), value: b('y') }] });
    const r = await rpc(t.client, 'RawBatchGet', { context: ctxFor(region), keys: [b('b2'), b('zz'), b('b1')] });
    expect(r.regionError).toBeNull();
    expect(r.pairs.map((p) => [p.key.toString(), p.value.toString(), p.error])).toEqual([
      ['b2', 'y', null],
      ['b1', 'x', null],
    ]);
  });

  it('RawDelete and RawBatchDelete remove keys', async () => {
    await rpc(t.client, 'RawBatchPut', { context: ctxFor(region), pairs: ['d1', 'd2', 'd3'].map((k) => ({ key: b(k), value: b('v') })) });
    expect((await rpc(t.client, 'RawDelete', { context: ctxFor(region), key: b('d1') })).error).toBe('');
    expect((await rpc(t.client, 'RawBatchDelete', { context: ctxFor(region), keys: [b('d2'), b('d3')] })).error).toBe('');
    expect(t.kv.peek(b('d1'))).toBeUndefined();
    expect(t.kv.peek(b('d3'))).toBeUndefined();
  });

  it('RawScan: forward [start, end), limit, key_only, and reverse [end, start)', async () => {
    await rpc(t.client, 'RawBatchPut', { context: ctxFor(region), pairs: ['s1', 's2', 's3', 's4'].map((k) => ({ key: b(k), value: b(`v${k}`) })) });
    const fwd = await rpc(t.client, 'RawScan', { context: ctxFor(region), startKey: b('s1'), endKey: b('s4'), limit: 2 });
    expect(fwd.kvs.map((p) => [p.key.toString(), p.value.toString()])).toEqual([
      ['s1', 'vs1'],
      ['s2', 'vs2'],
    ]);
    const keyOnly = await rpc(t.client, 'RawScan', { context: ctxFor(region), startKey: b('s1'), endKey: b('s4'), limit: 10, keyOnly: true });
    expect(keyOnly.kvs.map((p) => [p.key.toString(), p.value.length])).toEqual([
      ['s1', 0],
      ['s2', 0],
      ['s3', 0],
    ]);
    const rev = await rpc(t.client, 'RawScan', { context: ctxFor(region), startKey: b('s4'), endKey: b('s1'), limit: 10, reverse: true });
    expect(rev.kvs.map((p) => p.key.toString())).toEqual(['s3', "s2", 's1']);
    const revOpen = await rpc(t.client, 'RawScan', { context: ctxFor(region), startKey: b(''), endKey: b('s3'), limit: 2, reverse: true });
    const top = revOpen.kvs.map((p) => p.key.toString());
    expect(top.length).toBe(2);
    expect(top[0]! > top[1]! && top[1]! >= 's3').toBe(true);
  });

  it('RawDeleteRange deletes [start, end)', async () => {
    await rpc(t.client, 'RawBatchPut', { context: ctxFor(region), pairs: ['r1', 'r2', 'r3'].map((k) => ({ key: b(k), value: b('v') })) });
    expect((await rpc(t.client, 'RawDeleteRange', { context: ctxFor(region), startKey: b('r1'), endKey: b('r3') })).error).toBe('');
    expect([t.kv.peek(b('r1')), t.kv.peek(b('r2')), t.kv.peek(b('r3'))?.toString()]).toEqual([undefined, undefined, 'v']);
  });

  it('RawCompareAndSwap reports what it saw, whether or not it swapped', async () => {
    const c = ctxFor(region);
    const first = await rpc(t.client, 'RawCompareAndSwap', { context: c, key: b('cas'), value: b('1'), previousNotExist: true });
    expect(first).toMatchObject({ succeed: true, previousNotExist: true, error: '' });
    const wrong = await rpc(t.client, 'RawCompareAndSwap', { context: c, key: b('cas'), value: b('2'), previousValue: b('0') });
    expect(wrong).toMatchObject({ succeed: false, previousNotExist: false });
    expect(wrong.previousValue.toString()).toBe('1');
    const right = await rpc(t.client, 'RawCompareAndSwap', { context: c, key: b('cas'), value: b('2'), previousValue: b('1') });
    expect(right.succeed).toBe(true);
    const del = await rpc(t.client, 'RawCompareAndSwap', { context: c, key: b('cas'), previousValue: b('2'), delete: true });
    expect(del.succeed).toBe(true);
    expect(t.kv.peek(b('cas'))).toBeUndefined();
  });

  it('ReadIndex answers the read index', async () => {
    const r = await rpc(t.client, 'ReadIndex', { context: ctxFor(region) });
    expect(r.regionError).toBeNull();
    expect(Number(r.readIndex)).toBeGreaterThan(0);
  });
});

describe('region errors, exactly as TiKV returns them', () => {
  it('NotLeader carries the leader hint', async () => {
    t.kv.setLeaderElsewhere(region.id, { id: 9, storeId: 3, role: 'Voter' });
    try {
      const r = await rpc(t.client, 'RawGet', { context: ctxFor(region), key: b('a') });
      expect(r.regionError?.notLeader).toEqual({ regionId: String(region.id), leader: { id: '9', storeId: '3', role: 'Voter', isWitness: false } });
      expect(regionErrorFromWire(r.regionError!).code).toBe('KV:Raftstore:NotLeader');
    } finally {
      t.kv.setLeaderElsewhere(region.id, undefined);
    }
  });

  it('RegionNotFound, StoreNotMatch and a missing epoch', async () => {
    const nf = await rpc(t.client, 'RawGet', { context: { ...ctxFor(region), regionId: 424242 }, key: b('a') });
    expect(nf.regionError?.regionNotFound).toEqual({ regionId: '424242' });
    const sm = await rpc(t.client, 'RawPut', { context: { ...ctxFor(region), peer: { id: 1, storeId: 77 } }, key: b('a'), value: b('v') });
    expect(sm.regionError?.storeNotMatch).toEqual({ requestStoreId: '77', actualStoreId: '1' });
    const ne = await rpc(t.client, 'RawGet', { context: { ...ctxFor(region), regionEpoch: null }, key: b('a') });
    expect(ne.regionError?.epochNotMatch).not.toBeNull();
  });

  it('SplitRegion, then EpochNotMatch with the current regions and KeyNotInRegion', async () => {
    const before = regionOf('m');
    const split = await rpc(t.client, 'SplitRegion', { context: ctxFor(before), splitKeys: [b('m')], isRawKv: true });
    expect(split.regionError).toBeNull();
    expect(split.regions.map((r) => [r.startKey.toString(), r.endKey.toString()])).toEqual([
      ['', 'm'],
      ['m', ''],
    ]);
    expect(split.left?.endKey.toString()).toBe('m');
    expect(split.right?.startKey.toString()).toBe('m');

    const stale = await rpc(t.client, 'RawGet', { context: ctxFor(before), key: b('a') });
    const err = regionErrorFromWire(stale.regionError!);
    expect(err.code).toBe('KV:Raftstore:EpochNotMatch');
    expect(stale.regionError?.epochNotMatch?.currentRegions.map((r) => r.endKey.toString())).toEqual(['m', '']);

    const left = regionOf('a');
    const knr = await rpc(t.client, 'RawPut', { context: ctxFor(left), key: b('z'), value: b('v') });
    expect(knr.regionError?.keyNotInRegion).toMatchObject({ key: b('z'), regionId: String(left.id), startKey: b(''), endKey: b('m') });
    // The scan response has no error string: the region error is all there is.
    const scan = await rpc(t.client, 'RawScan', { context: ctxFor(before), startKey: b('a'), limit: 1 });
    expect(scan.kvs).toEqual([]);
    expect(scan.regionError?.epochNotMatch).not.toBeNull();
  });

  it('RaftEntryTooLarge for a write whose entry would exceed the limit, before proposing', async () => {
    const r = regionOf('e');
    const ops = t.kv.log.length;
    const pairs = Array.from({ length: 5 }, (_, i) => ({ key: b(`e${i}`), value: Buffer.alloc(1000) }));
    const resp = await rpc(t.client, 'RawBatchPut', { context: ctxFor(r), pairs: pairs.slice(0, 2) });
    expect(resp.error).toBe('');
    const big = await rpc(t.client, 'RawBatchPut', { context: ctxFor(r), pairs: [...pairs.slice(0, 2), { key: b('e9'), value: Buffer.alloc(1000) }, { key: b('e8'), value: Buffer.alloc(1000) }, { key: b('e7'), value: Buffer.alloc(100) }] });
    expect(big.regionError?.raftEntryTooLarge?.regionId).toBe(String(r.id));
    expect(Number(big.regionError?.raftEntryTooLarge?.entrySize)).toBeGreaterThan(4096);
    expect(t.kv.log.length).toBe(ops + 1);
  });

  it('ServerIsBusy when the in-flight bound is reached', async () => {
    const busy = await startTestStore({ flags: { 'server.max-inflight-requests': 1 } });
    try {
      const r = busy.kv.regionList()[0]!;
      let release!: () => void;
      const held = new Promise<void>((res) => (release = res));
      let entered!: () => void;
      const inside = new Promise<void>((res) => (entered = res));
      busy.kv.setHook(async () => {
        entered();
        await held;
      });
      const first = rpc(busy.client, 'RawGet', { context: ctxFor(r), key: b('a') });
      await inside;
      const second = await rpc(busy.client, 'RawGet', { context: ctxFor(r), key: b('a') });
      expect(second.regionError?.serverIsBusy).toMatchObject({ reason: expect.stringContaining('limit 1') });
      release();
      expect((await first).regionError).toBeNull();
    } finally {
      await busy.close();
    }
  });
});

describe('limits and validation: typed errors, nothing reaches the raftstore', () => {
  const cases: Array<[string, () => Promise<{ error?: string; kvs?: Array<{ error: { abort: string } | null }>; pairs?: Array<{ error: { abort: string } | null }> }>, string]> = [
    ['RawGet empty key', () => rpc(t.client, 'RawGet', { context: ctxFor(region), key: b('') }), 'KV:Storage:KeyIsEmpty'],
    ['RawPut empty key', () => rpc(t.client, 'RawPut', { context: ctxFor(region), key: b(''), value: b('v') }), 'KV:Storage:KeyIsEmpty'],
    ['RawDelete empty key', () => rpc(t.client, 'RawDelete', { context: ctxFor(region), key: b('') }), 'KV:Storage:KeyIsEmpty'],
    ['RawCAS empty key', () => rpc(t.client, 'RawCompareAndSwap', { context: ctxFor(region), key: b(''), value: b('v') }), 'KV:Storage:KeyIsEmpty'],
    ['key too large', () => rpc(t.client, 'RawPut', { context: ctxFor(region), key: Buffer.alloc(65, 1), value: b('v') }), 'KV:Storage:KeyTooLarge'],
    ['value too large', () => rpc(t.client, 'RawPut', { context: ctxFor(region), key: b('k'), value: Buffer.alloc(1025) }), 'KV:Storage:ValueTooLarge'],
    ['batch with too many keys', () => rpc(t.client, 'RawBatchDelete', { context: ctxFor(region), keys: Array.from({ length: 9 }, (_, i) => b(`k${i}`)) }), 'KV:Storage:BatchTooLarge'],
    ['batch with too many bytes', () => rpc(t.client, 'RawBatchPut', { context: ctxFor(region), pairs: [1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ key: b(`k${i}`), value: Buffer.alloc(1024) })) }), 'KV:Storage:BatchTooLarge'],
    ['empty batch', () => rpc(t.client, 'RawBatchPut', { context: ctxFor(region), pairs: [] }), 'KV:Storage:EmptyRequest'],
    ['batch with an empty key', () => rpc(t.client, 'RawBatchPut', { context: ctxFor(region), pairs: [{ key: b('ok'), value: b('') }, { key: b(''), value: b('') }] }), 'KV:Storage:KeyIsEmpty'],
    ['non-zero ttl', () => rpc(t.client, 'RawPut', { context: ctxFor(region), key: b('k'), value: b('v'), ttl: 5 }), 'KV:Storage:TtlNotSupported'],
    ['ttls not matching pairs', () => rpc(t.client, 'RawBatchPut', { context: ctxFor(region), pairs: [{ key: b('a'), value: b('') }], ttls: [0, 0] }), 'KV:Storage:TtlLenNotEqualsToPairs'],
    ['unknown column family', () => rpc(t.client, 'RawPut', { context: ctxFor(region), key: b('k'), value: b('v'), cf: 'lock' }), 'KV:Storage:InvalidCF'],
    ['api version V2', () => rpc(t.client, 'RawGet', { context: ctxFor(region, { apiVersion: 'V2' }), key: b('k') }), 'KV:Storage:ApiVersionNotSupported'],
    ['another cluster', () => rpc(t.client, 'RawPut', { context: ctxFor(region, { clusterId: 8 }), key: b('k'), value: b('v') }), 'KV:Server:ClusterIdMismatch'],
    ['inverted delete range', () => rpc(t.client, 'RawDeleteRange', { context: ctxFor(region), startKey: b('b'), endKey: b('a') }), 'KV:Storage:InvalidReqRange'],
    ['region id beyond 2^53', () => rpc(t.client, 'RawGet', { context: { ...ctxFor(region), regionId: '18446744073709551615' }, key: b('k') }), 'KV:Proto:IntegerOutOfRange'],
    ['inverted forward scan', () => rpc(t.client, 'RawScan', { context: ctxFor(region), startKey: b('b'), endKey: b('a'), limit: 1 }), 'KV:Storage:InvalidReqRange'],
    ['inverted reverse scan', () => rpc(t.client, 'RawScan', { context: ctxFor(region), startKey: b('a'), endKey: b('b'), limit: 1, reverse: true }), 'KV:Storage:InvalidReqRange'],
    ['scan limit 0', () => rpc(t.client, 'RawScan', { context: ctxFor(region), startKey: b('a'), limit: 0 }), 'KV:Storage:InvalidScanLimit'],
    ['scan limit too large', () => rpc(t.client, 'RawScan', { context: ctxFor(region), startKey: b('a'), limit: 51 }), 'KV:Storage:InvalidScanLimit'],
    ['batch get key too large', () => rpc(t.client, 'RawBatchGet', { context: ctxFor(region), keys: [Buffer.alloc(100, 1)] }), 'KV:Storage:KeyTooLarge'],
    ['scan with a bad peer id', () => rpc(t.client, 'RawScan', { context: { ...ctxFor(region), peer: { id: '99999999999999999999', storeId: 1 } }, startKey: b('a'), limit: 1 }), 'KV:Proto:IntegerOutOfRange'],
  ];

  for (const [name, send, code] of cases) {
    it(`${name} → ${code}`, async () => {
      const ops = t.kv.log.length;
      const keys = t.kv.size;
      const resp = await send();
      const text = resp.error || resp.kvs?.[0]?.error?.abort || resp.pairs?.[0]?.error?.abort || '';
      expect(text.startsWith(`[${code}] `), text).toBe(true);
      if (code.startsWith('KV:Storage:')) expect(requestErrorFromWire(text).code).toBe(code);
      expect(t.kv.log.length).toBe(ops);
      expect(t.kv.size).toBe(keys);
    });
  }

  it('SplitRegion without keys answers a message-only region error, as TiKV does', async () => {
    const r = await rpc(t.client, 'SplitRegion', { context: ctxFor(region), splitKeys: [] });
    expect(r.regionError?.message).toMatch(/^\[KV:Storage:EmptyRequest\]/);
    expect(r.regions).toEqual([]);
  });
});

describe('never crashing on a client', () => {
  it('answers INTERNAL for bytes that do not decode, and keeps serving', async () => {
    const raw = new grpc.Client(t.server.grpcAddress, grpc.credentials.createInsecure());
    const send = (bytes: Buffer) =>
      new Promise<{ code: number; body?: Buffer }>((resolve) =>
        raw.makeUnaryRequest(
          '/tikvpb.Tikv/RawPut',
          (x: Buffer) => x,
          (x: Buffer) => x,
          bytes,
          { deadline: Date.now() + 10_000 },
          (err, body) => resolve(err ? { code: err.code } : { code: 0, body: body! }),
        ),
      );
    try {
      // A length that runs past the end and a field with wire type 7 cannot decode.
      expect((await send(Buffer.from([0x12, 0x7f, 0x01]))).code).toBe(grpc.status.INTERNAL);
      expect((await send(Buffer.from([0x0f]))).code).toBe(grpc.status.INTERNAL);
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 64 }), async (bytes) => {
          const r = await send(Buffer.from(bytes));
          // Either a decode failure, or a well-formed answer (random bytes can decode).
          expect([grpc.status.OK, grpc.status.INTERNAL]).toContain(r.code);
        }),
        { numRuns: 60 },
      );
      const ok = await rpc(t.client, 'RawGet', { context: ctxFor(region), key: b('a') });
      expect(ok.regionError).toBeNull();
    } finally {
      raw.close();
    }
  });

  it('answers an unexpected failure as an internal error without details, and logs it with the context', async () => {
    t.kv.setHook(() => {
      throw new TypeError('secret stack detail');
    });
    const r = await rpc(t.client, 'RawPut', { context: ctxFor(region, { requestSource: 'unit' }), key: b('k'), value: b('v') });
    expect(r.error).toMatch(/^\[KV:Server:Internal\]/);
    expect(r.error).not.toMatch(/secret|TypeError|at /);
    const line = t.logs.find((l) => l.level === 'error' && l.obj.method === 'RawPut');
    expect(line?.obj).toMatchObject({ regionId: region.id, requestSource: 'unit' });
    expect(String(line?.obj.err)).toMatch(/secret stack detail/);
  });

  it('answers a request aborted by its caller as cancelled, without an error log', async () => {
    t.kv.setHook(() => {
      throw new DOMException('This operation was aborted', 'AbortError');
    });
    const before = t.logs.filter((l) => l.level === 'error').length;
    const r = await rpc(t.client, 'RawGet', { context: ctxFor(region), key: b('k') });
    expect(r.error).toMatch(/^\[KV:Common:Cancelled\]/);
    expect(t.logs.filter((l) => l.level === 'error').length).toBe(before);
  });

  it('hands an invariant violation to the fatal hook (fail fast) and still answers', async () => {
    t.kv.setHook(() => {
      throw new InvariantViolation('test bug');
    });
    const before = t.fatal.length;
    const r = await rpc(t.client, 'RawGet', { context: ctxFor(region), key: b('k') });
    expect(r.error).toMatch(/^\[KV:Server:Internal\]/);
    expect(t.fatal.length).toBe(before + 1);
  });

  it('answers a typed error from the raftstore with its code', async () => {
    t.kv.setHook(() => {
      throw new MrkvError('KV:Raftstore:ProposalDropped', 'proposal dropped');
    });
    const r = await rpc(t.client, 'RawPut', { context: ctxFor(region), key: b('k'), value: b('v') });
    expect(r.error).toBe('[KV:Raftstore:ProposalDropped] proposal dropped');
  });
});

describe('deadlines and cancellation', () => {
  it('answers DeadlineExceeded after max_execution_duration_ms and aborts the raftstore call', async () => {
    let aborted: unknown;
    t.kv.setHook(
      (_op, _ctx, signal) =>
        new Promise<void>((_, reject) => {
          signal?.addEventListener('abort', () => {
            aborted = signal.reason;
            reject(signal.reason);
          });
        }),
    );
    const r = await rpc(t.client, 'RawPut', { context: ctxFor(region, { maxExecutionDurationMs: 30 }), key: b('k'), value: b('v') });
    expect(r.error).toMatch(/^\[KV:Storage:DeadlineExceeded\] deadline of 30 ms exceeded/);
    expect((aborted as MrkvError).code).toBe('KV:Storage:DeadlineExceeded');
  });

  it('aborts the raftstore call when the client cancels', async () => {
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const aborted = new Promise<void>((resolve) =>
      t.kv.setHook(
        (_op, _ctx, signal) =>
          new Promise<void>((_, reject) => {
            entered();
            signal?.addEventListener('abort', () => {
              resolve();
              reject(signal.reason);
            });
          }),
      ),
    );
    const call = t.client.RawGet({ context: ctxFor(region), key: b('k') }, () => {});
    await inside;
    call.cancel();
    await aborted;
    await new Promise<void>((r) => {
      const check = () => (t.server.inflight === 0 ? r() : setImmediate(check));
      check();
    });
    expect(t.server.inflight).toBe(0);
  });
});
