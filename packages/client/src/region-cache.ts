/**
 * The region cache (client-go `internal/locate/region_cache.go`): which region holds a key, who
 * leads it, and where its stores listen, so that most requests go straight to the right store
 * without asking PD.
 *
 * - Regions are kept in an array sorted by start key (binary search by key) and a map by id.
 *   Inserting a region drops every cached region it overlaps, so the cache never holds two
 *   regions for one key; an entry can be marked invalid, after which lookups reload it from PD.
 * - Each entry remembers its leader peer (from PD, from a NotLeader hint, or the peer that
 *   answered), and a cursor for replica reads and leaderless rotation.
 * - Stores are resolved to addresses through PD's GetStore and cached until invalidated.
 *
 * The reactions to region errors live here, one method per error (client-go's `onRegionError`
 * plus `UpdateLeader` / `OnRegionEpochNotMatch`); `region-request.ts` calls them and backs off when
 * they say so. Interior code: keys and regions are already validated.
 */
import { compareBytes, noopLogger, type Logger } from '@mrkv/common';
import { compareEpoch, findPeerOnStore, isEpochStale, regionContainsKey, type Peer, type Region, type Store } from '@mrkv/proto';
import type { CallScope } from './call-scope.js';
import { ClientError, ClientErrorCodes } from './errors.js';
import type { PdClient, RegionInfo } from './pd-client.js';

/** One cached region. Replaced (never mutated in key range or epoch) when the region changes. */
export interface CachedRegion {
  readonly region: Region;
  /** The peer requests go to; undefined until one is known (then the first voter is tried). */
  leader: Peer | undefined;
  /** Set when an error showed the entry is out of date; the next lookup reloads it from PD. */
  invalid: boolean;
  /** Rotates over the peers for replica reads and for NotLeader answers without a hint. */
  cursor: number;
}

/** What a region error handler tells the sender to do next. */
export type Reaction = 'retry' | 'backoff';

/** How many regions one ScanRegions call asks for when walking the key space. */
const SCAN_BATCH = 64;

export class RegionCache {
  private readonly sorted: CachedRegion[] = [];
  private readonly byId = new Map<number, CachedRegion>();
  private readonly stores = new Map<number, Promise<Store>>();
  private readonly logger: Logger;

  constructor(
    private readonly pd: PdClient,
    logger: Logger = noopLogger,
  ) {
    this.logger = logger.child({ component: 'region-cache' });
  }

  /** Cached, valid regions (for tests and introspection), in key order. */
  regions(): Region[] {
    return this.sorted.filter((e) => !e.invalid).map((e) => e.region);
  }

  /** The cached entry for `regionId`, if any (valid or not). */
  byRegionId(regionId: number): CachedRegion | undefined {
    return this.byId.get(regionId);
  }

  /** The region holding `key`, from the cache or else from PD (GetRegion). */
  async locateKey(key: Uint8Array, scope: CallScope): Promise<CachedRegion> {
    for (;;) {
      const hit = this.findByKey(key);
      if (hit !== undefined) return hit;
      const info = await this.pd.getRegion(key, scope);
      if (info !== undefined && regionContainsKey(info.region, key)) return this.insert(info);
      await scope.backoff('regionMiss', new ClientError(ClientErrorCodes.REGION_UNAVAILABLE, 'PD knows no region for the key'));
    }
  }

  /**
   * The regions covering `[start, end)` (empty `end` = +inf), in key order: cached ones as they
   * are, the gaps filled with ScanRegions in batches (client-go `BatchLoadRegionsWithKeyRange`)
   * rather than one GetRegion per region.
   */
  async locateRange(start: Uint8Array, end: Uint8Array, scope: CallScope): Promise<CachedRegion[]> {
    const out: CachedRegion[] = [];
    let cur = start;
    for (;;) {
      let e = this.findByKey(cur);
      if (e === undefined) {
        const batch = await this.pd.scanRegions(cur, end, SCAN_BATCH, scope);
        for (const info of batch) this.insert(info);
        // A gap or a lagging PD: fall back to the single lookup (it backs off when PD knows nothing).
        e = this.findByKey(cur) ?? (await this.locateKey(cur, scope));
      }
      out.push(e);
      const rEnd = e.region.endKey;
      if (rEnd.length === 0 || (end.length > 0 && compareBytes(rEnd, end) >= 0)) return out;
      cur = rEnd;
    }
  }

  /**
   * The region holding the keys just below `endKey` (client-go `LocateEndKey`): the one with
   * `start < endKey <= end`. An empty `endKey` means +infinity (the last region).
   */
  async locateEndKey(endKey: Uint8Array, scope: CallScope): Promise<CachedRegion> {
    for (;;) {
      const hit = this.findByEndKey(endKey);
      if (hit !== undefined) return hit;
      const found = endKey.length === 0 ? await this.loadLast(scope) : await this.loadBefore(endKey, scope);
      if (found !== undefined) return found;
      await scope.backoff('regionMiss', new ClientError(ClientErrorCodes.REGION_UNAVAILABLE, 'PD knows no region before the key'));
    }
  }

  /** The region with id `regionId`, from the cache or else from PD (GetRegionByID); undefined if PD knows none. */
  async locateById(regionId: number, scope: CallScope): Promise<CachedRegion | undefined> {
    const hit = this.byId.get(regionId);
    if (hit !== undefined && !hit.invalid) return hit;
    const info = await this.pd.getRegionById(regionId, scope);
    return info === undefined ? undefined : this.insert(info);
  }

  /**
   * Groups `keys` by the region holding each (client-go `GroupKeysByRegion`): the map's values are
   * indexes into `keys`, in the order given. Consecutive keys in one region cost one lookup.
   */
  async groupKeys(keys: readonly Uint8Array[], scope: CallScope): Promise<Map<CachedRegion, number[]>> {
    const groups = new Map<CachedRegion, number[]>();
    let last: CachedRegion | undefined;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (last === undefined || last.invalid || !regionContainsKey(last.region, k)) last = await this.locateKey(k, scope);
      let g = groups.get(last);
      if (g === undefined) groups.set(last, (g = []));
      g.push(i);
    }
    return groups;
  }

  /** The address of `storeId`, from the cache or else from PD (GetStore). */
  async storeAddress(storeId: number, scope: CallScope): Promise<string> {
    let p = this.stores.get(storeId);
    if (p === undefined) {
      p = this.pd.getStore(storeId, scope).then((s) => {
        if (s === undefined || s.state === 'Tombstone' || s.address === '') {
          throw new ClientError(ClientErrorCodes.STORE_UNAVAILABLE, `store ${storeId} is unknown to PD or removed`, { details: { storeId } });
        }
        return s;
      });
      this.stores.set(storeId, p);
      // A failed lookup is not cached: the next request asks PD again.
      p.catch(() => {
        if (this.stores.get(storeId) === p) this.stores.delete(storeId);
      });
    }
    return (await p).address;
  }

  /** Inserts a region from PD or an error payload, dropping every cached region it overlaps. */
  insert(info: RegionInfo): CachedRegion {
    const r = info.region;
    const same = this.byId.get(r.id);
    if (same !== undefined && !same.invalid && compareEpoch(same.region.regionEpoch, r.regionEpoch) === 'equal') {
      // Nothing changed (a ScanRegions batch overlapping the cache): keep the entry and the
      // leader it learned, so requests holding it need not re-locate.
      same.leader ??= info.leader;
      return same;
    }
    const entry: CachedRegion = { region: r, leader: info.leader ?? undefined, invalid: false, cursor: 0 };
    // Every entry overlapping [r.start, r.end) sits from the one holding r.start onward.
    let i = this.upperBound(r.startKey) - 1;
    if (i < 0 || !this.overlaps(this.sorted[i]!.region, r)) i++;
    let j = i;
    while (j < this.sorted.length && this.overlaps(this.sorted[j]!.region, r)) j++;
    for (const old of this.sorted.splice(i, j - i, entry)) {
      // Requests holding a replaced entry see it invalid and re-locate.
      old.invalid = true;
      if (this.byId.get(old.region.id) === old) this.byId.delete(old.region.id);
    }
    const prev = this.byId.get(r.id);
    if (prev !== undefined && prev !== entry) {
      prev.invalid = true;
      this.remove(prev);
    }
    this.byId.set(r.id, entry);
    return entry;
  }

  /** Marks `entry` out of date (RegionNotFound, KeyNotInRegion, a failed send): the next lookup asks PD. */
  invalidate(entry: CachedRegion, reason: string): void {
    if (!entry.invalid && this.logger.isLevelEnabled('debug')) this.logger.debug({ regionId: entry.region.id, reason }, 'region invalidated');
    entry.invalid = true;
  }

  /** Forgets the address of `storeId` (StoreNotMatch, an unreachable store). */
  invalidateStore(storeId: number): void {
    this.stores.delete(storeId);
  }

  /** Invalidates every cached region with a peer on `storeId` (a store that cannot be reached). */
  invalidateRegionsOnStore(storeId: number): void {
    for (const e of this.sorted) if (findPeerOnStore(e.region, storeId) !== undefined) this.invalidate(e, 'store unreachable');
  }

  /**
   * NotLeader (client-go `UpdateLeader`): with a hint naming a peer of the region, switch to it
   * and retry at once, unless that peer is the one that just refused (then back off: an election
   * is under way). A hint naming no known peer means the membership changed: reload. Without a
   * hint, rotate to the next peer and back off (`regionScheduling`).
   */
  onNotLeader(entry: CachedRegion, triedStoreId: number, hint: Peer | undefined): Reaction {
    if (hint === undefined || hint.id === 0) {
      entry.cursor++;
      const peers = entry.region.peers;
      entry.leader = peers.length === 0 ? undefined : peers[entry.cursor % peers.length];
      return 'backoff';
    }
    const peer = entry.region.peers.find((p) => p.id === hint.id && p.storeId === hint.storeId);
    if (peer === undefined) {
      this.invalidate(entry, 'leader hint is not a known peer');
      return 'backoff';
    }
    entry.leader = peer;
    return peer.storeId === triedStoreId ? 'backoff' : 'retry';
  }

  /**
   * EpochNotMatch (client-go `OnRegionEpochNotMatch`): if any returned region is older than what
   * the cache holds for it, the answering store lags: back off. Otherwise the returned regions
   * replace the cache (they carry the split siblings too), their leader being the peer on the
   * store that answered, and the request is re-split and retried at once.
   */
  onEpochNotMatch(entry: CachedRegion, triedStoreId: number, current: readonly Region[]): Reaction {
    if (current.length === 0) {
      this.invalidate(entry, 'EpochNotMatch without current regions');
      return 'backoff';
    }
    // An answer that repeats the epoch the request carried teaches nothing: do not spin on it.
    const same = current.find((r) => r.id === entry.region.id);
    if (same !== undefined && compareEpoch(same.regionEpoch, entry.region.regionEpoch) === 'equal') {
      this.invalidate(entry, 'EpochNotMatch with the epoch sent');
      return 'backoff';
    }
    for (const r of current) {
      const cached = this.byId.get(r.id);
      if (cached !== undefined && !cached.invalid && isEpochStale(r.regionEpoch, cached.region.regionEpoch)) {
        this.invalidate(entry, 'EpochNotMatch answered with an older region');
        return 'backoff';
      }
    }
    this.invalidate(entry, 'EpochNotMatch');
    for (const r of current) this.insert({ region: r, leader: findPeerOnStore(r, triedStoreId) });
    return 'retry';
  }

  /** The peer a request for `entry` goes to: the leader, or round-robin over voters for replica reads. */
  pickPeer(entry: CachedRegion, replicaRead: boolean): Peer | undefined {
    const voters = entry.region.peers.filter((p) => p.role === 'Voter' || p.role === 'IncomingVoter');
    const peers = voters.length > 0 ? voters : entry.region.peers;
    if (peers.length === 0) return undefined;
    if (replicaRead) return peers[entry.cursor++ % peers.length];
    return entry.leader ?? peers[0];
  }

  // ---- lookups ----

  /** Index of the first entry whose start key is > `key`. */
  private upperBound(key: Uint8Array): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.sorted[mid]!.region.startKey, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first entry whose start key is ≥ `key`. */
  private lowerBound(key: Uint8Array): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.sorted[mid]!.region.startKey, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private findByKey(key: Uint8Array): CachedRegion | undefined {
    const e = this.sorted[this.upperBound(key) - 1];
    return e !== undefined && !e.invalid && regionContainsKey(e.region, key) ? e : undefined;
  }

  private findByEndKey(endKey: Uint8Array): CachedRegion | undefined {
    if (endKey.length === 0) {
      const e = this.sorted[this.sorted.length - 1];
      return e !== undefined && !e.invalid && e.region.endKey.length === 0 ? e : undefined;
    }
    const e = this.sorted[this.lowerBound(endKey) - 1];
    if (e === undefined || e.invalid) return undefined;
    return e.region.endKey.length === 0 || compareBytes(endKey, e.region.endKey) <= 0 ? e : undefined;
  }

  /** The region ending at or after `endKey` and starting before it (GetRegion, else GetPrevRegion). */
  private async loadBefore(endKey: Uint8Array, scope: CallScope): Promise<CachedRegion | undefined> {
    const at = await this.pd.getRegion(endKey, scope);
    if (at !== undefined && compareBytes(at.region.startKey, endKey) < 0) return this.insert(at);
    if (at !== undefined) this.insert(at);
    const prev = await this.pd.getPrevRegion(endKey, scope);
    if (prev === undefined) return undefined;
    const e = this.insert(prev);
    return prev.region.endKey.length === 0 || compareBytes(endKey, prev.region.endKey) <= 0 ? e : undefined;
  }

  /** The last region (empty end key), walking PD's ScanRegions from the last start key cached. */
  private async loadLast(scope: CallScope): Promise<CachedRegion | undefined> {
    const tail = this.sorted[this.sorted.length - 1];
    let from = tail === undefined || tail.invalid ? new Uint8Array() : tail.region.startKey;
    for (;;) {
      const batch = await this.pd.scanRegions(from, new Uint8Array(), SCAN_BATCH, scope);
      if (batch.length === 0) return undefined;
      let last: CachedRegion | undefined;
      for (const info of batch) last = this.insert(info);
      const end = last!.region.endKey;
      if (end.length === 0) return last;
      if (compareBytes(end, from) <= 0) return undefined;
      from = end;
    }
  }

  private overlaps(a: Region, b: Region): boolean {
    const aBeforeBEnd = b.endKey.length === 0 || compareBytes(a.startKey, b.endKey) < 0;
    const bBeforeAEnd = a.endKey.length === 0 || compareBytes(b.startKey, a.endKey) < 0;
    return aBeforeBEnd && bBeforeAEnd;
  }

  private remove(entry: CachedRegion): void {
    const i = this.sorted.indexOf(entry);
    if (i >= 0) this.sorted.splice(i, 1);
    if (this.byId.get(entry.region.id) === entry) this.byId.delete(entry.region.id);
  }
}
