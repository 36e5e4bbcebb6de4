/**
 * An in-memory `RawKvApi` for tests and the single-process test store: one store's regions over
 * one sorted map, with the region-level checks a raftstore makes, answered with the same typed
 * region errors (TiKV `store/util.rs::check_region_epoch`, `peer.rs` leader checks):
 * - unknown region → RegionNotFound; `Context.peer` on another store → StoreNotMatch;
 * - a missing or different epoch → EpochNotMatch with the current region (and its split siblings);
 * - a key outside the region → KeyNotInRegion; a region led elsewhere → NotLeader with the hint.
 * There is no raft here: writes apply at once, and `readIndex` is the count of applied writes.
 *
 * Hooks let a test hold, fail or observe any operation (`setHook`).
 */
import { compareBytes } from '@mrkv/common';
import {
  cloneRegion,
  EpochNotMatchError,
  KeyNotInRegionError,
  NotLeaderError,
  regionContainsKey,
  RegionNotFoundError,
  StoreNotMatchError,
  type Peer,
  type Region,
  type RequestContext,
} from '@mrkv/proto';
import type { KvPair, RawCasOptions, RawCasResult, RawKvApi, RawScanOptions } from '@mrkv/raftstore';

/** The operations of `RawKvApi`, for hooks. */
export type MemoryOp =
  | 'rawGet'
  | 'rawBatchGet'
  | 'rawPut'
  | 'rawBatchPut'
  | 'rawDelete'
  | 'rawBatchDelete'
  | 'rawDeleteRange'
  | 'rawScan'
  | 'rawCompareAndSwap'
  | 'splitRegion'
  | 'readIndex';

/** Runs before every operation (after the region checks); may delay (await) or throw. */
export type MemoryHook = (op: MemoryOp, ctx: RequestContext, signal: AbortSignal | undefined) => void | Promise<void>;

interface RegionState {
  region: Region;
  /** The leader peer when it is not this store's peer (requests get NotLeader). */
  leaderElsewhere: Peer | undefined;
}

export interface MemoryRawKvOptions {
  storeId?: number;
  /** The regions this store holds; default one region [−∞, +∞) with id 1 and one peer (id 1). */
  regions?: Region[];
}

const key = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

export class MemoryRawKv implements RawKvApi {
  readonly storeId: number;
  private readonly regions = new Map<number, RegionState>();
  /** Keys as latin1 strings: their code-unit order is the byte order. */
  private readonly data = new Map<string, Buffer>();
  private applied = 0;
  private nextId = 1000;
  private hook: MemoryHook | undefined;
  /** Operations served, in order (for assertions). */
  readonly log: Array<{ op: MemoryOp; regionId: number }> = [];

  constructor(opts: MemoryRawKvOptions = {}) {
    this.storeId = opts.storeId ?? 1;
    const regions = opts.regions ?? [
      { id: 1, startKey: new Uint8Array(), endKey: new Uint8Array(), regionEpoch: { confVer: 1, version: 1 }, peers: [{ id: 1, storeId: this.storeId, role: 'Voter' }] },
    ];
    for (const r of regions) this.regions.set(r.id, { region: cloneRegion(r), leaderElsewhere: undefined });
  }

  /** Installs (or with `undefined` removes) the operation hook. */
  setHook(hook: MemoryHook | undefined): void {
    this.hook = hook;
  }

  /** The current regions, in key order. */
  regionList(): Region[] {
    return [...this.regions.values()].map((s) => cloneRegion(s.region)).sort((a, b) => compareBytes(a.startKey, b.startKey));
  }

  get regionCount(): number {
    return this.regions.size;
  }

  /** Makes requests to `regionId` answer NotLeader with `leader` as the hint (undefined: this store leads). */
  setLeaderElsewhere(regionId: number, leader: Peer | undefined): void {
    this.state(regionId).leaderElsewhere = leader;
  }

  /** The stored value of a key (tests inspect state without a request context). */
  peek(k: Uint8Array): Buffer | undefined {
    return this.data.get(key(k));
  }

  /** Number of stored keys. */
  get size(): number {
    return this.data.size;
  }

  async rawGet(ctx: RequestContext, k: Uint8Array, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    await this.enter('rawGet', ctx, [k], signal);
    return this.data.get(key(k));
  }

  async rawBatchGet(ctx: RequestContext, keys: readonly Uint8Array[], signal?: AbortSignal): Promise<KvPair[]> {
    await this.enter('rawBatchGet', ctx, keys, signal);
    const out: KvPair[] = [];
    for (const k of keys) {
      const v = this.data.get(key(k));
      if (v !== undefined) out.push({ key: k, value: v });
    }
    return out;
  }

  async rawPut(ctx: RequestContext, k: Uint8Array, value: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.enter('rawPut', ctx, [k], signal);
    this.data.set(key(k), Buffer.from(value));
    this.applied++;
  }

  async rawBatchPut(ctx: RequestContext, pairs: readonly KvPair[], signal?: AbortSignal): Promise<void> {
    await this.enter(
      'rawBatchPut',
      ctx,
      pairs.map((p) => p.key),
      signal,
    );
    for (const p of pairs) this.data.set(key(p.key), Buffer.from(p.value));
    this.applied++;
  }

  async rawDelete(ctx: RequestContext, k: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.enter('rawDelete', ctx, [k], signal);
    this.data.delete(key(k));
    this.applied++;
  }

  async rawBatchDelete(ctx: RequestContext, keys: readonly Uint8Array[], signal?: AbortSignal): Promise<void> {
    await this.enter('rawBatchDelete', ctx, keys, signal);
    for (const k of keys) this.data.delete(key(k));
    this.applied++;
  }

  async rawDeleteRange(ctx: RequestContext, startKey: Uint8Array, endKey: Uint8Array, signal?: AbortSignal): Promise<void> {
    const region = await this.enter('rawDeleteRange', ctx, [], signal);
    const [lo, hi] = this.clamp(region, startKey, endKey);
    for (const k of [...this.data.keys()]) if (k >= lo && (hi === undefined || k < hi)) this.data.delete(k);
    this.applied++;
  }

  async rawScan(ctx: RequestContext, opts: RawScanOptions, signal?: AbortSignal): Promise<KvPair[]> {
    const region = await this.enter('rawScan', ctx, [], signal);
    // Forward: [start, end); reverse: [end, start) walking down. Empty bounds are the region's.
    const [lo, hi] = opts.reverse ? this.clamp(region, opts.endKey, opts.startKey) : this.clamp(region, opts.startKey, opts.endKey);
    const keys = [...this.data.keys()].filter((k) => k >= lo && (hi === undefined || k < hi)).sort();
    if (opts.reverse) keys.reverse();
    return keys.slice(0, opts.limit).map((k) => ({ key: bytes(k), value: opts.keyOnly ? new Uint8Array() : this.data.get(k)! }));
  }

  async rawCompareAndSwap(ctx: RequestContext, opts: RawCasOptions, signal?: AbortSignal): Promise<RawCasResult> {
    await this.enter('rawCompareAndSwap', ctx, [opts.key], signal);
    const cur = this.data.get(key(opts.key));
    const succeeded = cur === undefined ? opts.previousNotExist : !opts.previousNotExist && Buffer.compare(cur, opts.previousValue) === 0;
    if (succeeded) {
      if (opts.delete) this.data.delete(key(opts.key));
      else this.data.set(key(opts.key), Buffer.from(opts.value));
      this.applied++;
    }
    return { succeeded, previousNotExist: cur === undefined, previousValue: cur ?? new Uint8Array() };
  }

  async splitRegion(ctx: RequestContext, splitKeys: readonly Uint8Array[], signal?: AbortSignal): Promise<Region[]> {
    const region = await this.enter('splitRegion', ctx, splitKeys, signal);
    // Right-derive (TiKV's default): the original id keeps the rightmost part.
    const bounds = [region.startKey, ...splitKeys, region.endKey];
    const out: Region[] = [];
    const version = region.regionEpoch.version + splitKeys.length;
    for (let i = 0; i + 1 < bounds.length; i++) {
      const last = i + 2 === bounds.length;
      const id = last ? region.id : this.nextId++;
      const r: Region = {
        id,
        startKey: Uint8Array.from(bounds[i]!),
        endKey: Uint8Array.from(bounds[i + 1]!),
        regionEpoch: { confVer: region.regionEpoch.confVer, version },
        peers: region.peers.map((p) => ({ ...p, id: last ? p.id : this.nextId++ })),
      };
      this.regions.set(id, { region: r, leaderElsewhere: undefined });
      out.push(cloneRegion(r));
    }
    this.applied++;
    return out;
  }

  async readIndex(ctx: RequestContext, signal?: AbortSignal): Promise<number> {
    await this.enter('readIndex', ctx, [], signal);
    return this.applied;
  }

  /** The region checks, then the hook. Returns the region. */
  private async enter(op: MemoryOp, ctx: RequestContext, keys: readonly Uint8Array[], signal: AbortSignal | undefined): Promise<Region> {
    signal?.throwIfAborted();
    const s = this.regions.get(ctx.regionId);
    if (s === undefined) throw new RegionNotFoundError({ regionId: ctx.regionId });
    if (ctx.peer !== undefined && ctx.peer.storeId !== this.storeId) {
      throw new StoreNotMatchError({ requestStoreId: ctx.peer.storeId, actualStoreId: this.storeId });
    }
    const r = s.region;
    const e = ctx.regionEpoch;
    if (e === undefined || e.version !== r.regionEpoch.version || e.confVer !== r.regionEpoch.confVer) {
      throw new EpochNotMatchError({ currentRegions: this.regionList() });
    }
    if (s.leaderElsewhere !== undefined) throw new NotLeaderError({ regionId: r.id, leader: s.leaderElsewhere });
    for (const k of keys) {
      if (!regionContainsKey(r, k)) throw new KeyNotInRegionError({ key: Uint8Array.from(k), regionId: r.id, startKey: r.startKey, endKey: r.endKey });
    }
    this.log.push({ op, regionId: r.id });
    if (this.hook) await this.hook(op, ctx, signal);
    signal?.throwIfAborted();
    return r;
  }

  /** [lo, hi) of a request range within the region, as map keys; `hi` undefined = +∞. */
  private clamp(r: Region, start: Uint8Array, end: Uint8Array): [string, string | undefined] {
    const lo = compareBytes(start, r.startKey) > 0 ? start : r.startKey;
    let hi: Uint8Array | undefined = end.length > 0 ? end : undefined;
    if (r.endKey.length > 0 && (hi === undefined || compareBytes(hi, r.endKey) > 0)) hi = r.endKey;
    return [key(lo), hi === undefined ? undefined : key(hi)];
  }

  private state(regionId: number): RegionState {
    const s = this.regions.get(regionId);
    if (s === undefined) throw new RegionNotFoundError({ regionId });
    return s;
  }
}
