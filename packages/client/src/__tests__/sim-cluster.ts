/**
 * A test cluster for the client: N real store gRPC servers (@mrkv/store-server's
 * `startStoreServer`, BatchCommands included) over one shared in-memory key space, and fake PD
 * members (`pdpb.PD`: GetMembers, GetRegion, GetPrevRegion, GetRegionByID, ScanRegions, GetStore)
 * over PD's own view of the regions, which a test can let lag behind the stores.
 *
 * There is no raft: the cluster's region table is the truth, every store serves the regions it has
 * a peer in, and checks requests as a raftstore does (RegionNotFound, StoreNotMatch,
 * EpochNotMatch with the current region and its split siblings, NotLeader with the leader as hint,
 * KeyNotInRegion). Tests split regions, transfer leaders and move peers, with or without telling
 * PD, and inject one-off region errors or delays.
 */
import * as grpc from '@grpc/grpc-js';
import { compareBytes } from '@mrkv/common';
import {
  cloneRegion,
  EpochNotMatchError,
  KeyNotInRegionError,
  NotLeaderError,
  pdService,
  peerToWire,
  regionContainsKey,
  RegionNotFoundError,
  regionToWire,
  StoreNotMatchError,
  type PDHandlers,
  type Peer,
  type Region,
  type RegionError,
  type RequestContext,
  type pdpb,
} from '@mrkv/proto';
import type { KvPair, RawCasOptions, RawCasResult, RawKvApi, RawScanOptions } from '@mrkv/raftstore';
import { loadStoreConfig, startStoreServer, type StoreServer } from '@mrkv/store-server';
import { RecordingSink } from '@mrkv/store-server/testing';

export type SimOp = 'get' | 'batchGet' | 'put' | 'batchPut' | 'delete' | 'batchDelete' | 'deleteRange' | 'scan' | 'cas';

/** Runs before an operation is served (after the region checks pass); may throw or await. */
export type SimHook = (ev: { storeId: number; op: SimOp; ctx: RequestContext; signal: AbortSignal | undefined }) => void | Promise<void>;

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const k2s = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.length).toString('latin1');
const s2k = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

interface RegionState {
  region: Region;
  leaderStoreId: number;
}

export interface SimClusterOptions {
  stores?: number;
  /** Split keys of the initial regions (strings); regions get ids 1, 2, ... in key order. */
  splits?: string[];
  /** PD members. */
  pdMembers?: number;
}

/** Requests served, for assertions. */
export interface Served {
  storeId: number;
  op: SimOp;
  regionId: number;
  replicaRead: boolean;
}

export class SimCluster {
  /** The truth: regions by id. */
  readonly regions = new Map<number, RegionState>();
  /** PD's view (may lag behind `regions`). */
  readonly pdRegions = new Map<number, RegionState>();
  readonly data = new Map<string, Uint8Array>();
  readonly stores = new Map<number, { server: StoreServer | undefined; address: string }>();
  readonly pdServers: Array<{ server: grpc.Server; address: string; up: boolean }> = [];
  pdLeader = 0;
  readonly served: Served[] = [];
  /** One-off errors, consumed in order by matching requests. */
  readonly injected: Array<{ match: (s: Served) => boolean; error: () => RegionError }> = [];
  hook: SimHook | undefined;
  /** PD calls by method, for assertions. */
  readonly pdCalls = new Map<string, number>();
  private nextId = 1000;

  static async start(opts: SimClusterOptions = {}): Promise<SimCluster> {
    const c = new SimCluster();
    const n = opts.stores ?? 3;
    const bounds = ['', ...(opts.splits ?? []), ''];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const id = i + 1;
      const region: Region = {
        id,
        startKey: b(bounds[i]!),
        endKey: b(bounds[i + 1]!),
        regionEpoch: { confVer: 1, version: 1 },
        peers: Array.from({ length: n }, (_, s) => ({ id: id * 10 + s + 1, storeId: s + 1, role: 'Voter' as const })),
      };
      c.regions.set(id, { region, leaderStoreId: (i % n) + 1 });
    }
    c.syncPd();
    for (let s = 1; s <= n; s++) await c.startStore(s);
    for (let m = 0; m < (opts.pdMembers ?? 1); m++) await c.startPd();
    return c;
  }

  get pdEndpoints(): string[] {
    return this.pdServers.map((p) => p.address);
  }

  /** Copies the truth into PD's view. */
  syncPd(): void {
    this.pdRegions.clear();
    for (const [id, s] of this.regions) this.pdRegions.set(id, { region: cloneRegion(s.region), leaderStoreId: s.leaderStoreId });
  }

  /** The region holding `key` now. */
  regionOf(key: string): Region {
    for (const s of this.regions.values()) if (regionContainsKey(s.region, b(key))) return s.region;
    throw new Error(`no region holds ${key}`);
  }

  leaderOf(regionId: number): number {
    return this.regions.get(regionId)!.leaderStoreId;
  }

  /** Splits the region holding `key` at `key` (right-derive: the right part keeps the id). Returns the new left region. */
  split(key: string, opts: { tellPd?: boolean } = {}): Region {
    const cur = this.regions.get(this.regionOf(key).id)!;
    const r = cur.region;
    const version = r.regionEpoch.version + 1;
    const left: Region = {
      id: this.nextId++,
      startKey: r.startKey,
      endKey: b(key),
      regionEpoch: { confVer: r.regionEpoch.confVer, version },
      peers: r.peers.map((p) => ({ ...p, id: this.nextId++ })),
    };
    cur.region = { ...r, startKey: b(key), regionEpoch: { confVer: r.regionEpoch.confVer, version } };
    this.regions.set(left.id, { region: left, leaderStoreId: cur.leaderStoreId });
    if (opts.tellPd ?? true) this.syncPd();
    return left;
  }

  /** Moves the leadership of a region to `storeId`. */
  transferLeader(regionId: number, storeId: number, opts: { tellPd?: boolean } = {}): void {
    this.regions.get(regionId)!.leaderStoreId = storeId;
    if (opts.tellPd ?? true) this.syncPd();
  }

  /** Moves a region's peer from store `from` to store `to` (conf change: confVer + 1). */
  movePeer(regionId: number, from: number, to: number, opts: { tellPd?: boolean } = {}): void {
    const s = this.regions.get(regionId)!;
    const r = s.region;
    s.region = {
      ...r,
      regionEpoch: { confVer: r.regionEpoch.confVer + 1, version: r.regionEpoch.version },
      peers: r.peers.map((p) => (p.storeId === from ? { id: this.nextId++, storeId: to, role: 'Voter' as const } : p)),
    };
    if (s.leaderStoreId === from) s.leaderStoreId = to;
    if (opts.tellPd ?? true) this.syncPd();
  }

  /** Makes the next request matching `match` fail with `error()`. */
  inject(match: (s: Served) => boolean, error: () => RegionError, times = 1): void {
    for (let i = 0; i < times; i++) this.injected.push({ match, error });
  }

  async startStore(storeId: number, port = 0): Promise<void> {
    const server = await startStoreServer({
      config: loadStoreConfig({ flags: { 'server.addr': `127.0.0.1:${port}`, 'server.status-addr': '127.0.0.1:0' } }),
      rawKv: new SimStoreKv(this, storeId),
      raftSink: new RecordingSink(),
      storeId: () => storeId,
      clusterId: () => 0,
    });
    server.markReady();
    this.stores.set(storeId, { server, address: server.grpcAddress });
  }

  /** Kills a store at once (its address stays registered in PD). */
  async stopStore(storeId: number): Promise<void> {
    const s = this.stores.get(storeId)!;
    await s.server?.forceStop();
    s.server = undefined;
  }

  /** Restarts a stopped store on its old port. */
  async restartStore(storeId: number): Promise<void> {
    const port = Number(this.stores.get(storeId)!.address.split(':')[1]);
    await this.startStore(storeId, port);
  }

  async startPd(): Promise<void> {
    const idx = this.pdServers.length;
    const server = new grpc.Server();
    server.addService(pdService(), this.pdHandlers(idx) as PDHandlers);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    this.pdServers.push({ server, address: `127.0.0.1:${port}`, up: true });
  }

  /** Kills PD member `idx`. */
  stopPd(idx: number): void {
    this.pdServers[idx]!.server.forceShutdown();
    this.pdServers[idx]!.up = false;
  }

  async close(): Promise<void> {
    for (const s of this.stores.values()) await s.server?.forceStop();
    for (const p of this.pdServers) if (p.up) p.server.forceShutdown();
  }

  // ---- store side ----

  /** The region checks of a raftstore; returns the region. */
  enter(storeId: number, op: SimOp, ctx: RequestContext, keys: readonly Uint8Array[], read: boolean): Region {
    const s = this.regions.get(ctx.regionId);
    if (s === undefined || !s.region.peers.some((p) => p.storeId === storeId)) throw new RegionNotFoundError({ regionId: ctx.regionId });
    if (ctx.peer !== undefined && ctx.peer.storeId !== storeId) throw new StoreNotMatchError({ requestStoreId: ctx.peer.storeId, actualStoreId: storeId });
    const r = s.region;
    const e = ctx.regionEpoch;
    if (e === undefined || e.version !== r.regionEpoch.version || e.confVer !== r.regionEpoch.confVer) {
      const siblings = [...this.regions.values()].map((x) => x.region).filter((x) => x.id === r.id || x.regionEpoch.version === r.regionEpoch.version);
      throw new EpochNotMatchError({ currentRegions: siblings.sort((a, c) => compareBytes(a.startKey, c.startKey)).map(cloneRegion) });
    }
    const served: Served = { storeId, op, regionId: r.id, replicaRead: ctx.replicaRead };
    const inj = this.injected.findIndex((i) => i.match(served));
    if (inj >= 0) throw this.injected.splice(inj, 1)[0]!.error();
    if (s.leaderStoreId !== storeId && !(read && ctx.replicaRead)) {
      throw new NotLeaderError({ regionId: r.id, leader: r.peers.find((p) => p.storeId === s.leaderStoreId)! });
    }
    for (const k of keys) {
      if (!regionContainsKey(r, k)) throw new KeyNotInRegionError({ key: k, regionId: r.id, startKey: r.startKey, endKey: r.endKey });
    }
    this.served.push(served);
    return r;
  }

  /** Keys of the data in [lo, hi) within the region, sorted. */
  keysIn(r: Region, start: Uint8Array, end: Uint8Array): string[] {
    const lo = k2s(compareBytes(start, r.startKey) > 0 ? start : r.startKey);
    let hi: Uint8Array | undefined = end.length > 0 ? end : undefined;
    if (r.endKey.length > 0 && (hi === undefined || compareBytes(hi, r.endKey) > 0)) hi = r.endKey;
    const his = hi === undefined ? undefined : k2s(hi);
    return [...this.data.keys()].filter((k) => k >= lo && (his === undefined || k < his)).sort();
  }

  // ---- PD side ----

  private pdHandlers(idx: number): Partial<PDHandlers> {
    const header = { clusterId: 7 };
    const count = (m: string): void => {
      this.pdCalls.set(m, (this.pdCalls.get(m) ?? 0) + 1);
    };
    const info = (s: RegionState | undefined) =>
      s === undefined
        ? { header, region: null, leader: null }
        : { header, region: regionToWire(s.region), leader: peerToWire(s.region.peers.find((p) => p.storeId === s.leaderStoreId)!) };
    const sorted = (): RegionState[] => [...this.pdRegions.values()].sort((a, c) => compareBytes(a.region.startKey, c.region.startKey));
    const leaderOnly =
      <Req, Res>(name: string, fn: (req: Req) => Res) =>
      (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => {
        count(name);
        if (this.pdLeader !== idx) {
          cb({ code: grpc.status.UNAVAILABLE, details: 'not leader' });
          return;
        }
        cb(null, fn(call.request));
      };
    return {
      GetMembers: (_call, cb) => {
        count('GetMembers');
        const leader = this.pdServers[this.pdLeader];
        cb(null, { header, leader: leader?.up ? { name: `pd${this.pdLeader}`, clientUrls: [`http://${leader.address}`] } : null });
      },
      GetRegion: leaderOnly('GetRegion', (req: pdpb.GetRegionRequest__Output) => info(sorted().find((s) => regionContainsKey(s.region, req.regionKey)))),
      GetPrevRegion: leaderOnly('GetPrevRegion', (req: pdpb.GetRegionRequest__Output) => {
        const all = sorted();
        const i = all.findIndex((s) => regionContainsKey(s.region, req.regionKey));
        return info(i > 0 ? all[i - 1] : undefined);
      }),
      GetRegionByID: leaderOnly('GetRegionByID', (req: pdpb.GetRegionByIDRequest__Output) => info(this.pdRegions.get(Number(req.regionId)))),
      ScanRegions: leaderOnly('ScanRegions', (req: pdpb.ScanRegionsRequest__Output) => {
        const out = sorted()
          .filter((s) => (s.region.endKey.length === 0 || compareBytes(s.region.endKey, req.startKey) > 0) && (req.endKey.length === 0 || compareBytes(s.region.startKey, req.endKey) < 0))
          .slice(0, req.limit > 0 ? req.limit : undefined);
        return { header, regions: out.map((s) => ({ region: regionToWire(s.region), leader: peerToWire(s.region.peers.find((p) => p.storeId === s.leaderStoreId)!) })) };
      }),
      GetStore: leaderOnly('GetStore', (req: pdpb.GetStoreRequest__Output) => {
        const s = this.stores.get(Number(req.storeId));
        if (s === undefined) return { header: { ...header, error: { type: 'UNKNOWN', message: `invalid store ID ${req.storeId}, not found` } } };
        return { header, store: { id: req.storeId, address: s.address, state: 'Up' } };
      }),
    };
  }
}

/** One store's RawKvApi over the shared cluster. */
class SimStoreKv implements RawKvApi {
  constructor(
    private readonly c: SimCluster,
    private readonly storeId: number,
  ) {}

  private async enter(op: SimOp, ctx: RequestContext, keys: readonly Uint8Array[], read: boolean, signal: AbortSignal | undefined): Promise<Region> {
    const r = this.c.enter(this.storeId, op, ctx, keys, read);
    if (this.c.hook) await this.c.hook({ storeId: this.storeId, op, ctx, signal });
    return r;
  }

  async rawGet(ctx: RequestContext, key: Uint8Array, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    await this.enter('get', ctx, [key], true, signal);
    return this.c.data.get(k2s(key));
  }

  async rawBatchGet(ctx: RequestContext, keys: readonly Uint8Array[], signal?: AbortSignal): Promise<KvPair[]> {
    await this.enter('batchGet', ctx, keys, true, signal);
    return keys.flatMap((k) => {
      const v = this.c.data.get(k2s(k));
      return v === undefined ? [] : [{ key: k, value: v }];
    });
  }

  async rawPut(ctx: RequestContext, key: Uint8Array, value: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.enter('put', ctx, [key], false, signal);
    this.c.data.set(k2s(key), Uint8Array.from(value));
  }

  async rawBatchPut(ctx: RequestContext, pairs: readonly KvPair[], signal?: AbortSignal): Promise<void> {
    await this.enter(
      'batchPut',
      ctx,
      pairs.map((p) => p.key),
      false,
      signal,
    );
    for (const p of pairs) this.c.data.set(k2s(p.key), Uint8Array.from(p.value));
  }

  async rawDelete(ctx: RequestContext, key: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.enter('delete', ctx, [key], false, signal);
    this.c.data.delete(k2s(key));
  }

  async rawBatchDelete(ctx: RequestContext, keys: readonly Uint8Array[], signal?: AbortSignal): Promise<void> {
    await this.enter('batchDelete', ctx, keys, false, signal);
    for (const k of keys) this.c.data.delete(k2s(k));
  }

  async rawDeleteRange(ctx: RequestContext, startKey: Uint8Array, endKey: Uint8Array, signal?: AbortSignal): Promise<void> {
    const r = await this.enter('deleteRange', ctx, [], false, signal);
    if (!regionContainsKey(r, startKey)) throw new KeyNotInRegionError({ key: startKey, regionId: r.id, startKey: r.startKey, endKey: r.endKey });
    for (const k of this.c.keysIn(r, startKey, endKey)) this.c.data.delete(k);
  }

  async rawScan(ctx: RequestContext, opts: RawScanOptions, signal?: AbortSignal): Promise<KvPair[]> {
    const r = await this.enter('scan', ctx, [], true, signal);
    const keys = opts.reverse ? this.c.keysIn(r, opts.endKey, opts.startKey).reverse() : this.c.keysIn(r, opts.startKey, opts.endKey);
    return keys.slice(0, opts.limit).map((k) => ({ key: s2k(k), value: opts.keyOnly ? new Uint8Array() : this.c.data.get(k)! }));
  }

  async rawCompareAndSwap(ctx: RequestContext, opts: RawCasOptions, signal?: AbortSignal): Promise<RawCasResult> {
    await this.enter('cas', ctx, [opts.key], false, signal);
    const cur = this.c.data.get(k2s(opts.key));
    const succeeded = cur === undefined ? opts.previousNotExist : !opts.previousNotExist && Buffer.compare(cur, opts.previousValue) === 0;
    if (succeeded) {
      if (opts.delete) this.c.data.delete(k2s(opts.key));
      else this.c.data.set(k2s(opts.key), Uint8Array.from(opts.value));
    }
    return { succeeded, previousNotExist: cur === undefined, previousValue: cur ?? new Uint8Array() };
  }

  splitRegion(): Promise<Region[]> {
    return Promise.reject(new RegionNotFoundError({ regionId: 0 }, { message: 'SplitRegion is not simulated' }));
  }

  readIndex(): Promise<number> {
    return Promise.resolve(0);
  }
}

/** Peers of a region, for hints in tests. */
export function peerOn(r: Region, storeId: number): Peer {
  return r.peers.find((p) => p.storeId === storeId)!;
}
