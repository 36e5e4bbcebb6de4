/**
 * What the playground asks the cluster, over the wire as any client would: PD for its cluster id,
 * the region map (walked key by key with GetRegion, so it works against any PD that serves
 * GetRegion) and store addresses; the region leaders' stores for the smoke write/read and for
 * pre-splitting (tikvpb.SplitRegion); PD's admin service for scattering the pre-split regions. Region errors are answers to wait out (a leader is being
 * elected, a split is applying), so each step is retried until the caller's deadline.
 */
import * as grpc from '@grpc/grpc-js';
import { createPdAdminClient, createPdClient, createTikvClient, type PDClient, type PdAdminClient, type TikvClient, type errorpb, type metapb, type pdadmin } from '@mrkv/proto';

/** Per-call gRPC deadline. */
const CALL_TIMEOUT_MS = 3000;
/** Regions walked at most (a guard against a PD that answers a cycle). */
const MAX_REGIONS = 100_000;

type Callback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;

/** Promisified unary call with a deadline. */
function unary<Res>(call: (opts: grpc.CallOptions, cb: Callback<Res>) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    call({ deadline: Date.now() + CALL_TIMEOUT_MS }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}

/** A region and its leader (absent while PD knows none). */
export interface RegionView {
  readonly region: metapb.Region__Output;
  readonly leader: metapb.Peer__Output | undefined;
}

/** The short text of a region error (its message, else the name of its variant). */
export function regionErrorText(e: errorpb.Error__Output): string {
  if (e.message) return e.message;
  const variant = Object.entries(e).find(([k, v]) => k !== 'message' && v !== null && v !== undefined && v !== '');
  return variant ? variant[0] : 'region error';
}

/** A connection to PD and, lazily, to the stores it names. */
export class ClusterView {
  private readonly pd: PDClient;
  private readonly stores = new Map<string, TikvClient>();
  private admin: PdAdminClient | undefined;
  private clusterId: string | undefined;

  constructor(readonly pdAddress: string) {
    this.pd = createPdClient(pdAddress);
  }

  /** PD's cluster id (GetMembers); throws while PD does not answer. */
  async getClusterId(): Promise<string> {
    if (this.clusterId !== undefined) return this.clusterId;
    const res = await unary<{ header: { clusterId: string } | null }>((o, cb) => this.pd.GetMembers({}, o, cb));
    const id = res.header?.clusterId ?? '0';
    if (id !== '0') this.clusterId = id;
    return id;
  }

  private async header() {
    return { clusterId: await this.getClusterId() };
  }

  /** The region holding `key`, or undefined before PD knows any (not bootstrapped). */
  async regionOf(key: Uint8Array): Promise<RegionView | undefined> {
    const header = await this.header();
    const res = await unary<{ region: metapb.Region__Output | null; leader: metapb.Peer__Output | null }>((o, cb) =>
      this.pd.GetRegion({ header, regionKey: key }, o, cb),
    );
    if (!res.region) return undefined;
    return { region: res.region, leader: res.leader && res.leader.storeId !== '0' ? res.leader : undefined };
  }

  /** Every region in key order, walking from the empty key to the end (empty when not bootstrapped). */
  async regions(): Promise<RegionView[]> {
    const out: RegionView[] = [];
    let key: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < MAX_REGIONS; i++) {
      const r = await this.regionOf(key);
      if (!r) break;
      out.push(r);
      const end = r.region.endKey;
      if (end.length === 0) break;
      key = end;
    }
    return out;
  }

  /** Stores PD knows, with their state (GetAllStores, tombstones excluded). */
  async storeCount(): Promise<number> {
    const header = await this.header();
    const res = await unary<{ stores: unknown[] }>((o, cb) => this.pd.GetAllStores({ header, excludeTombstoneStores: true }, o, cb));
    return res.stores.length;
  }

  /** A Tikv client for store `storeId` (address from PD's GetStore). */
  async storeClient(storeId: string): Promise<TikvClient> {
    const header = await this.header();
    const res = await unary<{ store: { address: string } | null }>((o, cb) => this.pd.GetStore({ header, storeId }, o, cb));
    const addr = res.store?.address;
    if (!addr) throw new Error(`PD has no address for store ${storeId}`);
    let c = this.stores.get(addr);
    if (!c) {
      c = createTikvClient(addr);
      this.stores.set(addr, c);
    }
    return c;
  }

  /**
   * One attempt at RawPut(key, value) then RawGet(key) on the region leader. Resolves to the value
   * read back, or to a string saying why this attempt did not get that far (no leader yet, a
   * region error): the caller retries.
   */
  async putGet(key: Uint8Array, value: Uint8Array): Promise<{ value: Uint8Array } | { retry: string }> {
    const r = await this.regionOf(key);
    if (!r?.leader) return { retry: 'no leader for the smoke key yet' };
    const client = await this.storeClient(r.leader.storeId);
    const context = { regionId: r.region.id, regionEpoch: r.region.regionEpoch, peer: r.leader };
    const put = await unary<{ regionError: errorpb.Error__Output | null; error: string }>((o, cb) => client.RawPut({ context, key, value }, o, cb));
    if (put.regionError) return { retry: `RawPut: ${regionErrorText(put.regionError)}` };
    if (put.error) throw new Error(`RawPut failed: ${put.error}`);
    const got = await unary<{ regionError: errorpb.Error__Output | null; error: string; value: Uint8Array; notFound: boolean }>((o, cb) =>
      client.RawGet({ context, key }, o, cb),
    );
    if (got.regionError) return { retry: `RawGet: ${regionErrorText(got.regionError)}` };
    if (got.error) throw new Error(`RawGet failed: ${got.error}`);
    return { value: got.notFound ? new Uint8Array(0) : got.value };
  }

  /**
   * Asks the leader of the region holding `keys[0]` to split at those of `keys` inside it
   * (tikvpb.SplitRegion). Resolves to the number of keys sent, or to a reason to retry.
   */
  async splitAt(keys: readonly Uint8Array[]): Promise<{ sent: number } | { retry: string }> {
    const r = await this.regionOf(keys[0]!);
    if (!r?.leader) return { retry: 'no leader for the region to split yet' };
    const inside = keys.filter((k) => Buffer.compare(k, r.region.startKey) > 0 && (r.region.endKey.length === 0 || Buffer.compare(k, r.region.endKey) < 0));
    if (inside.length === 0) return { sent: 0 };
    const client = await this.storeClient(r.leader.storeId);
    const context = { regionId: r.region.id, regionEpoch: r.region.regionEpoch, peer: r.leader };
    const res = await unary<{ regionError: errorpb.Error__Output | null }>((o, cb) => client.SplitRegion({ context, splitKeys: inside, isRawKv: true }, o, cb));
    if (res.regionError) return { retry: `SplitRegion: ${regionErrorText(res.regionError)}` };
    return { sent: inside.length };
  }

  /**
   * Asks PD to scatter regions (mrkv.pdadmin ScatterRegions): the listed ids, or every region when
   * none are listed. Resolves with the operators PD added and the regions it skipped.
   */
  async scatter(regionIds: readonly string[], group: string): Promise<pdadmin.ScatterRegionsResponse__Output> {
    const admin = (this.admin ??= createPdAdminClient(this.pdAddress));
    return unary<pdadmin.ScatterRegionsResponse__Output>((o, cb) => admin.ScatterRegions({ regionIds: [...regionIds], group }, o, cb));
  }

  /** Ids of the operators PD is running now (mrkv.pdadmin ListOperators). */
  async runningOperatorIds(): Promise<Set<string>> {
    const admin = (this.admin ??= createPdAdminClient(this.pdAddress));
    const res = await unary<pdadmin.ListOperatorsResponse__Output>((o, cb) => admin.ListOperators({}, o, cb));
    return new Set(res.operators.map((op) => String(op.id)));
  }

  /** Closes every connection. */
  close(): void {
    this.admin?.close();
    this.admin = undefined;
    this.pd.close();
    for (const c of this.stores.values()) c.close();
    this.stores.clear();
  }
}
