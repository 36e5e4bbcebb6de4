/**
 * Well-formed requests with bad contents, against a real store process (and PD): empty and
 * oversized keys and values, batches over the key limit, the raft entry limit and the gRPC message
 * limit, inverted and empty scan ranges and bad scan limits, stale and future region epochs,
 * wrong region, store and peer ids, another cluster's id (store and PD), unsupported API version,
 * TTL and column family. Each gets the typed error the store documents (services/store/README.md,
 * "Failures"), none of the refused writes is applied, and the store keeps serving what was
 * acknowledged before.
 */
import * as grpc from '@grpc/grpc-js';
import { createPdClient, type errorpb, type kvrpcpb, type metapb, type pdpb, type TikvClient } from '@mrkv/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS, Target } from './target.js';

let t: Target;
let tikv: TikvClient;
let region: metapb.Region__Output;
let leader: metapb.Peer__Output;

type Unary<Req, Res> = (req: Req, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown;

/** Calls a typed unary method; resolves to the response, or to the gRPC error. */
function call<Req, Res>(method: Unary<Req, Res>, req: Req): Promise<Res | grpc.ServiceError> {
  return new Promise((resolve) => method.call(tikv, req, { deadline: Date.now() + 10_000 }, (err, res) => resolve(err ?? res!)));
}

function isGrpcError(x: unknown): x is grpc.ServiceError {
  return x instanceof Error && typeof (x as grpc.ServiceError).code === 'number';
}

/** The request error code of a RawKV answer (`error = "[<code>] …"`). */
function errorCode(res: unknown): string | undefined {
  if (isGrpcError(res)) return `grpc:${grpc.status[res.code]}`;
  const r = res as { error?: string; regionError?: errorpb.Error__Output | null; kvs?: kvrpcpb.KvPair__Output[]; pairs?: kvrpcpb.KvPair__Output[] };
  if (r.regionError) return `region:${Object.keys(r.regionError).find((k) => k !== 'message' && (r.regionError as unknown as Record<string, unknown>)[k] != null) ?? 'message'}`;
  const text = r.error || r.kvs?.[0]?.error?.abort || r.pairs?.[0]?.error?.abort || '';
  return /^\[([A-Za-z:]+)\]/.exec(text)?.[1];
}

const ctx = (over: Partial<kvrpcpb.Context> = {}): kvrpcpb.Context => ({ regionId: region.id, regionEpoch: region.regionEpoch, peer: leader, ...over });
const b = (s: string | number): Buffer => (typeof s === 'number' ? Buffer.alloc(s, 0x61) : Buffer.from(s));

beforeAll(async () => {
  t = await Target.start();
  await t.seed('requests');
  ({ region, leader } = await t.region());
  tikv = t.tikv();
}, 120_000);
afterAll(async () => {
  tikv?.close();
  await t?.stop();
});

describe('bad request contents', () => {
  it('empty, oversized and over-limit keys, values and batches get their typed errors', async () => {
    const cases: Array<[string, Promise<unknown>, string]> = [
      ['RawPut empty key', call(tikv.RawPut, { context: ctx(), key: b(''), value: b('v') }), 'KV:Storage:KeyIsEmpty'],
      ['RawGet empty key', call(tikv.RawGet, { context: ctx(), key: b('') }), 'KV:Storage:KeyIsEmpty'],
      ['RawDelete empty key', call(tikv.RawDelete, { context: ctx(), key: b('') }), 'KV:Storage:KeyIsEmpty'],
      ['RawCAS empty key', call(tikv.RawCompareAndSwap, { context: ctx(), key: b(''), value: b('v'), previousNotExist: true }), 'KV:Storage:KeyIsEmpty'],
      ['RawPut key over the limit', call(tikv.RawPut, { context: ctx(), key: b(LIMITS.maxKeySize + 1), value: b('v') }), 'KV:Storage:KeyTooLarge'],
      ['RawGet key over the limit', call(tikv.RawGet, { context: ctx(), key: b(LIMITS.maxKeySize + 1) }), 'KV:Storage:KeyTooLarge'],
      ['RawPut value over the limit', call(tikv.RawPut, { context: ctx(), key: b('bad/v'), value: b(LIMITS.maxValueSize + 1) }), 'KV:Storage:ValueTooLarge'],
      [
        'RawBatchPut over the key limit',
        call(tikv.RawBatchPut, { context: ctx(), pairs: Array.from({ length: LIMITS.maxBatchKeys + 1 }, (_, i) => ({ key: b(`bad/batch/${i}`), value: b('v') })) }),
        'KV:Storage:BatchTooLarge',
      ],
      ['RawBatchGet over the key limit', call(tikv.RawBatchGet, { context: ctx(), keys: Array.from({ length: LIMITS.maxBatchKeys + 1 }, (_, i) => b(`k${i}`)) }), 'KV:Storage:BatchTooLarge'],
      [
        'RawBatchPut whose raft entry is too large',
        call(tikv.RawBatchPut, { context: ctx(), pairs: Array.from({ length: 5 }, (_, i) => ({ key: b(`bad/entry/${i}`), value: b(LIMITS.maxValueSize - 1) })) }),
        'region:raftEntryTooLarge',
      ],
      [
        'RawBatchPut over the gRPC message limit',
        call(tikv.RawBatchPut, { context: ctx(), pairs: Array.from({ length: 14 }, (_, i) => ({ key: b(`bad/grpc/${i}`), value: b(LIMITS.maxValueSize - 1) })) }),
        'grpc:RESOURCE_EXHAUSTED',
      ],
      ['RawBatchPut with no pairs', call(tikv.RawBatchPut, { context: ctx(), pairs: [] }), 'KV:Storage:EmptyRequest'],
    ];
    for (const [what, p, want] of cases) expect(errorCode(await p) ?? 'ok', what).toBe(want);
    // None of the refused writes happened.
    expect(await t.client.scanAll('bad/', 'bad0'), 'a refused write was applied').toEqual([]);
    await t.expectAlive('oversized keys, values and batches');
  }, 60_000);

  it('scan ranges: inverted is refused, empty is empty, limits are checked', async () => {
    const scan = (startKey: string, endKey: string, limit: number, reverse = false) => call(tikv.RawScan, { context: ctx(), startKey: b(startKey), endKey: b(endKey), limit, reverse });
    expect(errorCode(await scan('requests/9', 'requests/1', 10))).toBe('KV:Storage:InvalidReqRange');
    expect(errorCode(await scan('requests/1', 'requests/9', 10, true))).toBe('KV:Storage:InvalidReqRange');
    // start == end: TiKV's check_key_ranges refuses it as well (the SDK answers it locally, empty).
    expect(errorCode(await scan('requests/5', 'requests/5', 10))).toBe('KV:Storage:InvalidReqRange');
    const unbounded = await scan('requests/0019', '', 10);
    expect((unbounded as kvrpcpb.RawScanResponse__Output).kvs.map((p) => p.key.toString())).toEqual(['requests/0019']);
    expect(errorCode(await scan('requests/', 'requests0', 0))).toBe('KV:Storage:InvalidScanLimit');
    expect(errorCode(await scan('requests/', 'requests0', 2 ** 31 - 1))).toBe('KV:Storage:InvalidScanLimit');
    const ok = await scan('requests/', 'requests0', 5);
    expect((ok as kvrpcpb.RawScanResponse__Output).kvs.length).toBe(5);
    expect(errorCode(await call(tikv.RawDeleteRange, { context: ctx(), startKey: b('requests/9'), endKey: b('requests/1') }))).toBe('KV:Storage:InvalidReqRange');
    await t.expectAlive('bad scan ranges');
  }, 30_000);

  it('stale and future epochs, wrong region, store and peer ids: region errors, nothing applied', async () => {
    const epoch = region.regionEpoch!;
    const put = (c: kvrpcpb.Context, key: string) => call(tikv.RawPut, { context: c, key: b(key), value: b('v') });
    const stale = { version: String(Number(epoch.version) - 1), confVer: epoch.confVer };
    const future = { version: String(Number(epoch.version) + 10), confVer: epoch.confVer };
    const futureConf = { version: epoch.version, confVer: String(Number(epoch.confVer) + 10) };
    expect(errorCode(await put(ctx({ regionEpoch: stale }), 'bad/epoch/stale'))).toBe('region:epochNotMatch');
    expect(errorCode(await put(ctx({ regionEpoch: future }), 'bad/epoch/future'))).toBe('region:epochNotMatch');
    // Data requests check the epoch's version only, as TiKV does ("for get/set/delete, we don't
    // care conf_version"): a request with another conf_ver but the current version is served.
    expect(errorCode(await put(ctx({ regionEpoch: futureConf }), 'ok/epoch/conf'))).toBeUndefined();
    expect(errorCode(await put(ctx({ regionId: '987654' }), 'bad/region'))).toBe('region:regionNotFound');
    expect(errorCode(await put(ctx({ peer: { ...leader, storeId: '987654' } }), 'bad/store'))).toBe('region:storeNotMatch');
    expect(errorCode(await call(tikv.RawGet, { context: ctx({ regionEpoch: stale }), key: b('requests/0001') }))).toBe('region:epochNotMatch');
    expect(await t.client.scanAll('bad/', 'bad0'), 'a refused write was applied').toEqual([]);
    await t.expectAlive('stale epochs and wrong ids');
  }, 30_000);

  // Regression (finding mismatch-peer-id, fixed in 2bdbfa8): a RawPut whose Context names the right
  // region and store but a peer id that is not the store's peer was served and applied; TiKV
  // answers MismatchPeerId and applies nothing.
  it('BUG mismatch-peer-id (fixed): a request naming the wrong peer id is refused with MismatchPeerId and not applied', async () => {
    const res = await call(tikv.RawPut, { context: ctx({ peer: { ...leader, id: '987654' } }), key: b('bad/peer'), value: b('v') });
    expect(errorCode(res)).toBe('region:mismatchPeerId');
    expect(await t.client.get('bad/peer')).toBeUndefined();
  });

  it('another cluster id, API version, TTL or column family are refused', async () => {
    const put = (c: kvrpcpb.Context, extra: Partial<kvrpcpb.RawPutRequest> = {}) => call(tikv.RawPut, { context: c, key: b('bad/ctx'), value: b('v'), ...extra });
    expect(errorCode(await put(ctx({ clusterId: '424242' })))).toBe('KV:Server:ClusterIdMismatch');
    expect(errorCode(await put(ctx({ apiVersion: 'V2' })))).toBe('KV:Storage:ApiVersionNotSupported');
    expect(errorCode(await put(ctx(), { ttl: '60' }))).toBe('KV:Storage:TtlNotSupported');
    expect(errorCode(await put(ctx(), { cf: 'write' }))).toBe('KV:Storage:InvalidCF');
    expect(await t.client.scanAll('bad/', 'bad0'), 'a refused write was applied').toEqual([]);
    await t.expectAlive('bad contexts');
  }, 30_000);

  it('PD refuses requests for another cluster and keeps serving', async () => {
    const pd = createPdClient(t.pd.addr);
    try {
      const ask = (clusterId: string) =>
        new Promise<pdpb.GetRegionResponse__Output | grpc.ServiceError>((resolve) =>
          pd.GetRegion({ header: { clusterId }, regionKey: b('a') }, { deadline: Date.now() + 5_000 }, (err, res) => resolve(err ?? res!)),
        );
      const wrong = await ask('424242');
      const refused = isGrpcError(wrong) || (wrong.header?.error !== null && wrong.header?.error !== undefined && wrong.header.error.type !== 'OK');
      expect(refused, `PD answered a request for cluster 424242: ${JSON.stringify(wrong)}`).toBe(true);
      expect(isGrpcError(wrong) ? undefined : wrong.region).toBeFalsy();
      const clusterId = String((await t.store.status()).clusterId);
      const right = await ask(clusterId);
      expect(isGrpcError(right) ? right.message : right.region?.id).toBe(region.id);
      expect((await t.pd.http('/ready')).status).toBe(200);
    } finally {
      pd.close();
    }
    await t.expectAlive('a PD request for another cluster');
  }, 30_000);
});
