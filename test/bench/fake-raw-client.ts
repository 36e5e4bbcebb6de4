/**
 * A test double of `@mrkv/client`'s `createRawClient` for the bench smoke tests, used through the
 * harness's `--client-module` until the SDK implementation lands. It talks real gRPC (PD's
 * GetMembers, GetRegion and GetStore, then the store's unary Raw* calls) but knows only one
 * region, served by its first peer: exactly what `fake-mrkv.ts` runs. Any region error or request
 * error rejects with a coded `MrkvError`.
 */
import * as grpc from '@grpc/grpc-js';
import { MrkvError } from '@mrkv/common';
import type { BytesLike, CasResult, KvPair, KvPairInput, RawClient, ScanOptions } from '@mrkv/client';
import { createPdClient, createTikvClient, type errorpb, type metapb } from '@mrkv/proto';

const bytes = (b: BytesLike): Buffer => (typeof b === 'string' ? Buffer.from(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

type Cb<Res> = (err: grpc.ServiceError | null, res?: Res) => void;
type Unary = (req: unknown, cb: Cb<unknown>) => unknown;

function call<Res>(client: object, method: string, req: unknown): Promise<Res> {
  const fn = (client as Record<string, Unary>)[method]!.bind(client);
  return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res as Res))));
}

interface Answer {
  regionError?: errorpb.Error__Output | null;
  error?: string;
}

function check<T extends Answer>(method: string, res: T): T {
  if (res.regionError) throw new MrkvError('KV:Test:RegionError', `${method}: region error ${JSON.stringify(res.regionError)}`);
  if (res.error) throw new MrkvError('KV:Test:RequestError', `${method}: ${res.error}`);
  return res;
}

/** Connects to the single-region cluster behind `pdEndpoints[0]`. */
export async function createRawClient(options: { pdEndpoints: readonly string[] }): Promise<RawClient> {
  const pd = createPdClient(options.pdEndpoints[0]!);
  const members = await call<{ header: { clusterId: string } }>(pd, 'GetMembers', {});
  const header = { clusterId: members.header.clusterId };
  const { region } = await call<{ region: metapb.Region__Output }>(pd, 'GetRegion', { header, regionKey: Buffer.alloc(0) });
  const peer = region.peers[0]!;
  const { store } = await call<{ store: { address: string } }>(pd, 'GetStore', { header, storeId: peer.storeId });
  pd.close();
  const tikv = createTikvClient(store.address);
  const context = { regionId: region.id, regionEpoch: region.regionEpoch, peer };
  const rpc = async <T extends Answer>(method: string, req: object) => check(method, await call<T>(tikv, method, { context, ...req }));
  const pairs = (kvs: Array<{ key: Uint8Array; value: Uint8Array }>): KvPair[] => kvs.map((p) => ({ key: p.key, value: p.value }));

  const scanAll = async (startKey: BytesLike, endKey: BytesLike, o: ScanOptions = {}): Promise<KvPair[]> => {
    const res = await rpc<Answer & { kvs: KvPair[] }>('RawScan', {
      startKey: bytes(startKey),
      endKey: bytes(endKey),
      limit: o.limit ?? 10_000,
      keyOnly: o.keyOnly ?? false,
      reverse: o.reverse ?? false,
    });
    return pairs(res.kvs);
  };
  return {
    async get(key) {
      const res = await rpc<Answer & { value: Uint8Array; notFound: boolean }>('RawGet', { key: bytes(key) });
      return res.notFound ? undefined : res.value;
    },
    async batchGet(keys) {
      return pairs((await rpc<Answer & { pairs: KvPair[] }>('RawBatchGet', { keys: keys.map(bytes) })).pairs);
    },
    async put(key, value) {
      await rpc('RawPut', { key: bytes(key), value: bytes(value) });
    },
    async batchPut(kvs: readonly KvPairInput[]) {
      await rpc('RawBatchPut', { pairs: kvs.map((p) => ({ key: bytes(p.key), value: bytes(p.value) })) });
    },
    async delete(key) {
      await rpc('RawDelete', { key: bytes(key) });
    },
    async batchDelete(keys) {
      await rpc('RawBatchDelete', { keys: keys.map(bytes) });
    },
    async *scan(startKey, endKey, o) {
      yield* await scanAll(startKey, endKey, o);
    },
    scanAll,
    async deleteRange(startKey, endKey) {
      await rpc('RawDeleteRange', { startKey: bytes(startKey), endKey: bytes(endKey) });
    },
    async compareAndSwap(key, expected, next): Promise<CasResult> {
      const res = await rpc<Answer & { succeed: boolean; previousNotExist: boolean; previousValue: Uint8Array }>('RawCompareAndSwap', {
        key: bytes(key),
        previousNotExist: expected === null,
        previousValue: expected === null ? Buffer.alloc(0) : bytes(expected),
        value: next === null ? Buffer.alloc(0) : bytes(next),
        delete: next === null,
      });
      return { succeeded: res.succeed, previousValue: res.previousNotExist ? null : res.previousValue };
    },
    async close() {
      tikv.close();
    },
  };
}
