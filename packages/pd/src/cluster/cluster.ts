/**
 * The cluster state PD keeps (PD `RaftCluster` + `BasicCluster`, server/cluster): the cluster
 * record, the stores, the region tree, the schedule config, and the rules that change them:
 * bootstrap, store registration and heartbeats, region heartbeats (stale ones dropped, overlaps
 * resolved, meta changes persisted), split id allocation and split reports, store deletion.
 *
 * Everything here is synchronous over in-memory state except the persistence calls, which are
 * awaited before a call returns, so an acknowledged change survives a restart. Scheduling
 * (operators, checkers, schedulers) sits above this, in schedule/.
 */
import { randomInt } from 'node:crypto';
import { noopLogger, redactKey, type Clock, type Logger } from '@mrkv/common';
import { isEpochStale, type Region, type Store } from '@mrkv/proto';
import { normalizeConfig, withConfigValue, type ScheduleConfig } from '../config.js';
import { PdError, PdErrorCodes } from '../errors.js';
import { metaChanged, regionInfoFromMeta, type RegionInfo } from '../core/region-info.js';
import { RegionTree } from '../core/region-tree.js';
import { storeStatus, type StoreInfo, type StoreStats, type StoreStatus } from '../core/store-info.js';
import type { IdAllocator } from '../id/id-allocator.js';
import type { ClusterRecord, MetaStorage } from '../storage/meta-storage.js';

export interface ClusterOptions {
  readonly storage: MetaStorage;
  readonly ids: IdAllocator;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** The cluster id for a brand-new cluster (default: from the wall clock and randomness). */
  readonly newClusterId?: number;
  /** Config overrides applied at start (from the process config), over the persisted config. */
  readonly configOverrides?: Partial<ScheduleConfig>;
}

/** The outcome of a region heartbeat. */
export interface HeartbeatResult {
  /** The region as PD now holds it. */
  readonly region: RegionInfo;
  /** Regions the new one replaced (split parents, merge sources). */
  readonly overlaps: readonly RegionInfo[];
  /** True if range, epoch or peers changed (and were persisted). */
  readonly metaChanged: boolean;
}

/** Per-store counts computed from the region tree. */
export interface StoreLoad {
  regionCount: number;
  leaderCount: number;
  /** Sum of region sizes (MiB, PD's units). */
  regionSizeMib: number;
  /** Peers the leaders report as pending on this store. */
  pendingPeerCount: number;
}

/** A cluster id below 2^53: unix seconds in the high bits, 20 random bits (PD uses 32 in a uint64). */
function generateClusterId(wallMs: number): number {
  return Math.floor(wallMs / 1000) * 2 ** 20 + randomInt(0, 2 ** 20);
}

export class Cluster {
  readonly regions = new RegionTree();
  private readonly stores = new Map<number, StoreInfo>();
  private record: ClusterRecord;
  private cfg: ScheduleConfig;
  /** Monotonic ms of the last split of a region (for the merge checker). */
  private readonly lastSplitMs = new Map<number, number>();
  /**
   * Monotonic ms a heartbeat last showed a region's leader on another store than PD had (a
   * transfer or an election), for balance-leader's cool-down. Entries go with their region.
   */
  private readonly lastLeaderChangeMs = new Map<number, number>();
  /**
   * The bootstrap being persisted, if any. Stores that start together call Bootstrap at once;
   * the ones behind it wait for it and then get ALREADY_BOOTSTRAPPED (PD holds a lock there).
   */
  private bootstrapping: Promise<void> | undefined;
  /** Monotonic ms PD started at. */
  readonly startedAtMs: number;
  private readonly storage: MetaStorage;
  readonly ids: IdAllocator;
  readonly clock: Clock;
  private readonly logger: Logger;

  private constructor(opts: ClusterOptions, record: ClusterRecord, cfg: ScheduleConfig) {
    this.storage = opts.storage;
    this.ids = opts.ids;
    this.clock = opts.clock;
    this.logger = (opts.logger ?? noopLogger).child({ component: 'cluster' });
    this.record = record;
    this.cfg = cfg;
    this.startedAtMs = opts.clock.nowMs();
  }

  /** Loads (or creates) the cluster record, config, stores and regions. */
  static async open(opts: ClusterOptions): Promise<Cluster> {
    let record = await opts.storage.loadCluster();
    if (record === undefined) {
      record = { clusterId: opts.newClusterId ?? generateClusterId(opts.clock.wallMs()), bootstrapped: false, bootstrapTimeMs: 0 };
      await opts.storage.saveCluster(record);
    }
    const persisted = (await opts.storage.loadJson('config')) as Partial<Record<keyof ScheduleConfig, unknown>> | undefined;
    const cfg = normalizeConfig({ ...(persisted ?? {}), ...(opts.configOverrides ?? {}) });
    const c = new Cluster(opts, record, cfg);
    const now = opts.clock.nowMs();
    for (const s of await opts.storage.loadStores()) c.stores.set(s.id, { meta: s, stats: undefined, lastHeartbeatMs: now });
    for (const r of await opts.storage.loadRegions()) c.regions.put(regionInfoFromMeta(r));
    c.logger.info({ clusterId: record.clusterId, bootstrapped: record.bootstrapped, stores: c.stores.size, regions: c.regions.size }, 'cluster loaded');
    return c;
  }

  get clusterId(): number {
    return this.record.clusterId;
  }

  get bootstrapped(): boolean {
    return this.record.bootstrapped;
  }

  get bootstrapTimeMs(): number {
    return this.record.bootstrapTimeMs;
  }

  // ---- Config ----

  get config(): ScheduleConfig {
    return this.cfg;
  }

  /** Sets one config key from its text form and persists the whole config. */
  async setConfig(key: string, value: string): Promise<ScheduleConfig> {
    const next = withConfigValue(this.cfg, key, value);
    await this.storage.saveJson('config', next);
    this.cfg = next;
    this.logger.info({ key, value }, 'config changed');
    return next;
  }

  // ---- Bootstrap ----

  /**
   * Bootstraps the cluster with its first store and region (pdpb Bootstrap). Throws
   * ALREADY_BOOTSTRAPPED on a bootstrapped cluster and INVALID_VALUE for a malformed request.
   */
  async bootstrap(store: Store, region: Region): Promise<void> {
    // NB: without this wait, two concurrent calls both passed the check below while the first was
    // being written, and both regions ['', '') were accepted (found by test/e2e, 4 stores started together).
    while (this.bootstrapping !== undefined) await this.bootstrapping.catch(() => undefined);
    if (this.record.bootstrapped) throw new PdError(PdErrorCodes.ALREADY_BOOTSTRAPPED, 'cluster is already bootstrapped');
    if (store.id === 0) throw invalid('bootstrap store id must not be 0');
    if (store.state === 'Tombstone') throw invalid('bootstrap store must not be a tombstone');
    if (region.id === 0) throw invalid('bootstrap region id must not be 0');
    if (region.startKey.length > 0 || region.endKey.length > 0) throw invalid('the first region must cover the whole key space');
    if (region.peers.length !== 1 || region.peers[0]!.storeId !== store.id || region.peers[0]!.id === 0) {
      throw invalid('the first region must have exactly one peer, on the bootstrap store');
    }
    const rec: ClusterRecord = { clusterId: this.record.clusterId, bootstrapped: true, bootstrapTimeMs: this.clock.wallMs() };
    const saving = this.storage.saveBootstrap(rec, store, region);
    this.bootstrapping = saving;
    try {
      await saving;
    } finally {
      this.bootstrapping = undefined;
    }
    this.record = rec;
    this.stores.set(store.id, { meta: { ...store }, stats: undefined, lastHeartbeatMs: this.clock.nowMs() });
    this.regions.put(regionInfoFromMeta(region, region.peers[0]));
    this.logger.info({ storeId: store.id, regionId: region.id }, 'cluster bootstrapped');
  }

  /** Throws NOT_BOOTSTRAPPED unless bootstrapped. */
  requireBootstrapped(): void {
    if (!this.record.bootstrapped) throw new PdError(PdErrorCodes.NOT_BOOTSTRAPPED, 'cluster is not bootstrapped');
  }

  // ---- Stores ----

  /**
   * Registers or updates a store (pdpb PutStore). A tombstone is refused with STORE_TOMBSTONE; an
   * address another live store uses is refused with INVALID_VALUE. The existing state (Offline)
   * is kept: a store does not undrain itself by restarting.
   */
  async putStore(store: Store): Promise<void> {
    this.requireBootstrapped();
    if (store.id === 0) throw invalid('store id must not be 0');
    if (store.address === '') throw invalid(`store ${store.id} has no address`);
    const old = this.stores.get(store.id);
    if (old?.meta.state === 'Tombstone' || store.state === 'Tombstone') {
      throw new PdError(PdErrorCodes.STORE_TOMBSTONE, `store ${store.id} is tombstone`, { details: { storeId: store.id } });
    }
    for (const s of this.stores.values()) {
      if (s.meta.id !== store.id && s.meta.address === store.address && s.meta.state !== 'Tombstone') {
        throw invalid(`duplicated store address ${store.address}: already used by store ${s.meta.id}`);
      }
    }
    const meta: Store = { ...store, state: old?.meta.state ?? 'Up', lastHeartbeat: old?.meta.lastHeartbeat ?? store.lastHeartbeat };
    await this.storage.saveStore(meta);
    this.stores.set(store.id, { meta, stats: old?.stats, lastHeartbeatMs: this.clock.nowMs() });
    if (old === undefined) this.logger.info({ storeId: store.id, address: store.address }, 'store registered');
  }

  /** The store with `id`; throws STORE_NOT_FOUND. */
  getStore(id: number): StoreInfo {
    const s = this.stores.get(id);
    if (s === undefined) throw new PdError(PdErrorCodes.STORE_NOT_FOUND, `invalid store ID ${id}, not found`, { details: { storeId: id } });
    return s;
  }

  /** Every store, by id. */
  allStores(): StoreInfo[] {
    return [...this.stores.values()].sort((a, b) => a.meta.id - b.meta.id);
  }

  /** The derived state of store `id` now. */
  storeStatus(id: number): StoreStatus {
    return storeStatus(this.getStore(id), this.clock.nowMs(), this.cfg);
  }

  /** Records a store heartbeat (pdpb StoreHeartbeat). */
  storeHeartbeat(storeId: number, stats: StoreStats): StoreInfo {
    this.requireBootstrapped();
    const s = this.getStore(storeId);
    if (s.meta.state === 'Tombstone') throw new PdError(PdErrorCodes.STORE_TOMBSTONE, `store ${storeId} is tombstone`, { details: { storeId } });
    const next: StoreInfo = {
      meta: { ...s.meta, lastHeartbeat: BigInt(Math.floor(this.clock.wallMs())) * 1_000_000n },
      stats,
      lastHeartbeatMs: this.clock.nowMs(),
    };
    this.stores.set(storeId, next);
    return next;
  }

  /**
   * Starts draining a store (`store delete`, PD `RemoveStore`): it becomes Offline, the replica
   * checker moves its replicas away, and once it holds none it becomes Tombstone. `force` (a
   * store that will never come back) makes it Tombstone at once, leaving its replicas to the
   * down-peer repair.
   */
  async deleteStore(id: number, force = false): Promise<StoreInfo> {
    const s = this.getStore(id);
    if (s.meta.state === 'Tombstone') throw new PdError(PdErrorCodes.STORE_STATE, `store ${id} is already tombstone`, { details: { storeId: id } });
    const state = force ? 'Tombstone' : 'Offline';
    const meta: Store = { ...s.meta, state, nodeState: force ? 'Removed' : 'Removing' };
    await this.storage.saveStore(meta);
    const next = { ...s, meta };
    this.stores.set(id, next);
    this.logger.info({ storeId: id, state }, 'store deleted');
    return next;
  }

  /** Offline stores that hold no region become Tombstone (PD `checkStores`). Returns their ids. */
  async buryDrainedStores(): Promise<number[]> {
    const load = this.storeLoads();
    const buried: number[] = [];
    for (const s of this.stores.values()) {
      if (s.meta.state !== 'Offline' || (load.get(s.meta.id)?.regionCount ?? 0) > 0) continue;
      const meta: Store = { ...s.meta, state: 'Tombstone', nodeState: 'Removed' };
      await this.storage.saveStore(meta);
      this.stores.set(s.meta.id, { ...s, meta });
      buried.push(s.meta.id);
      this.logger.info({ storeId: s.meta.id }, 'offline store drained: now tombstone');
    }
    return buried;
  }

  /** Region count, leader count, size and pending peers per store id, from the tree. */
  storeLoads(): Map<number, StoreLoad> {
    const out = new Map<number, StoreLoad>();
    for (const s of this.stores.keys()) out.set(s, { regionCount: 0, leaderCount: 0, regionSizeMib: 0, pendingPeerCount: 0 });
    for (const r of this.regions.all()) {
      const size = r.approximateSize === 0 ? 0 : Math.max(1, Math.round(r.approximateSize / (1 << 20)));
      for (const p of r.meta.peers) {
        let l = out.get(p.storeId);
        if (l === undefined) out.set(p.storeId, (l = { regionCount: 0, leaderCount: 0, regionSizeMib: 0, pendingPeerCount: 0 }));
        l.regionCount++;
        l.regionSizeMib += size;
        if (r.leader?.id === p.id) l.leaderCount++;
        if (r.pendingPeers.length > 0 && r.pendingPeers.some((q) => q.id === p.id)) l.pendingPeerCount++;
      }
    }
    return out;
  }

  // ---- Regions ----

  /**
   * Processes a region heartbeat (PD `processRegionHeartbeat`): validates it, drops it as stale
   * (STALE_REGION) if anything PD holds is newer, otherwise updates the tree, removes the regions
   * it overlaps and persists meta changes.
   */
  async regionHeartbeat(info: RegionInfo): Promise<HeartbeatResult> {
    this.requireBootstrapped();
    validateRegion(info.meta);
    if (info.leader === undefined || !info.meta.peers.some((p) => p.id === info.leader!.id && p.storeId === info.leader!.storeId)) {
      throw invalid(`region ${info.meta.id}: the leader is not one of its peers`);
    }
    const old = this.regions.getById(info.meta.id);
    if (old !== undefined && old.term > info.term && info.term > 0 && !isEpochStale(old.meta.regionEpoch, info.meta.regionEpoch)) {
      throw stale(info, 'an older term');
    }
    const changed = old === undefined || metaChanged(old.meta, info.meta);
    if (!changed && this.regions.getById(info.meta.id) !== undefined) {
      this.regions.replaceSameRange(info);
      this.noteLeader(old, info);
      return { region: info, overlaps: [], metaChanged: false };
    }
    const res = this.regions.put(info);
    if (!res.accepted) throw stale(info, 'a newer epoch at PD');
    await this.storage.saveRegions([info.meta], res.overlaps.map((o) => o.meta.id));
    this.noteLeader(old, info);
    for (const o of res.overlaps) if (o.meta.id !== info.meta.id) this.lastLeaderChangeMs.delete(o.meta.id);
    if (old !== undefined && old.meta.regionEpoch.version < info.meta.regionEpoch.version) this.lastSplitMs.set(info.meta.id, this.clock.nowMs());
    if (res.overlaps.length > 0) {
      this.logger.info({ regionId: info.meta.id, overlaps: res.overlaps.map((o) => o.meta.id), startKey: redactKey(info.meta.startKey) }, 'region replaced overlapping regions');
    }
    return { region: info, overlaps: res.overlaps, metaChanged: true };
  }

  /** The region containing `key` (pdpb GetRegion). */
  getRegionByKey(key: Uint8Array): RegionInfo | undefined {
    return this.regions.getByKey(key);
  }

  /** The region with `id` (pdpb GetRegionByID). */
  getRegionById(id: number): RegionInfo | undefined {
    return this.regions.getById(id);
  }

  /** Throws REGION_NOT_FOUND if `id` is unknown. */
  requireRegion(id: number): RegionInfo {
    const r = this.regions.getById(id);
    if (r === undefined) throw new PdError(PdErrorCodes.REGION_NOT_FOUND, `region ${id} not found`, { details: { regionId: id } });
    return r;
  }

  /**
   * Monotonic ms a heartbeat last moved the region's leader to another store (undefined: not
   * since PD started). balance-leader leaves such a region alone for a while.
   */
  lastLeaderChangeAt(regionId: number): number | undefined {
    return this.lastLeaderChangeMs.get(regionId);
  }

  private noteLeader(old: RegionInfo | undefined, info: RegionInfo): void {
    const before = old?.leader?.storeId;
    if (before !== undefined && before !== info.leader?.storeId) this.lastLeaderChangeMs.set(info.meta.id, this.clock.nowMs());
  }

  /** Monotonic ms of the region's last split seen by PD (or PD start). */
  lastSplitAt(regionId: number): number {
    return this.lastSplitMs.get(regionId) ?? this.startedAtMs;
  }

  /**
   * Ids for splitting `region` into `count + 1` regions (pdpb AskBatchSplit): each new region
   * gets a region id and one peer id per peer of `region`. The region must be known and not stale.
   */
  async askBatchSplit(region: Region, count: number): Promise<Array<{ newRegionId: number; newPeerIds: number[] }>> {
    this.requireBootstrapped();
    validateRegion(region);
    if (!Number.isSafeInteger(count) || count < 1 || count > 1000) throw invalid(`split count must be in 1..1000, got ${count}`);
    const cur = this.requireRegion(region.id);
    if (isEpochStale(region.regionEpoch, cur.meta.regionEpoch)) {
      throw new PdError(PdErrorCodes.STALE_REGION, `region ${region.id} epoch is stale: asked with ${JSON.stringify(region.regionEpoch)}, PD has ${JSON.stringify(cur.meta.regionEpoch)}`, {
        details: { regionId: region.id },
      });
    }
    const per = 1 + region.peers.length;
    const last = await this.ids.alloc(per * count);
    let next = last - per * count + 1;
    const out: Array<{ newRegionId: number; newPeerIds: number[] }> = [];
    for (let i = 0; i < count; i++) {
      const newRegionId = next++;
      out.push({ newRegionId, newPeerIds: region.peers.map(() => next++) });
    }
    this.lastSplitMs.set(region.id, this.clock.nowMs());
    return out;
  }

  /**
   * A split report (pdpb ReportBatchSplit): the regions after a split. Each one not stale goes
   * into the tree and is persisted. Its leader is taken to be its peer on the store that led the
   * region it splits from (the split happened there); the next heartbeat confirms or corrects it.
   * Returns what changed, for the operator controller.
   */
  async reportBatchSplit(regions: readonly Region[]): Promise<HeartbeatResult[]> {
    this.requireBootstrapped();
    for (const r of regions) validateRegion(r);
    const now = this.clock.nowMs();
    const out: HeartbeatResult[] = [];
    // leaders as the tree knew them before the report (a region of it may displace another)
    const leaderStores = regions.map((r) => (this.regions.getById(r.id) ?? this.regions.getByKey(r.startKey))?.leader?.storeId);
    for (const [i, r] of regions.entries()) {
      const info = regionInfoFromMeta(r, r.peers.find((p) => p.storeId === leaderStores[i]));
      const res = this.regions.put(info);
      if (!res.accepted) continue;
      this.lastSplitMs.set(r.id, now);
      await this.storage.saveRegions([r], res.overlaps.map((o) => o.meta.id));
      for (const o of res.overlaps) if (o.meta.id !== r.id) this.lastLeaderChangeMs.delete(o.meta.id);
      out.push({ region: info, overlaps: res.overlaps, metaChanged: true });
    }
    return out;
  }
}

function invalid(message: string): PdError {
  return new PdError(PdErrorCodes.INVALID_VALUE, message);
}

function stale(info: RegionInfo, why: string): PdError {
  return new PdError(PdErrorCodes.STALE_REGION, `region ${info.meta.id} heartbeat is stale: ${why}`, {
    details: { regionId: info.meta.id, epoch: info.meta.regionEpoch, term: info.term },
  });
}

/** Gateway checks of a region from the wire: ids set, peers on distinct stores with distinct ids, ordered keys. */
function validateRegion(r: Region): void {
  if (r.id === 0) throw invalid('region id must not be 0');
  if (r.peers.length === 0) throw invalid(`region ${r.id} has no peers`);
  const stores = new Set<number>();
  const peers = new Set<number>();
  for (const p of r.peers) {
    if (p.id === 0 || p.storeId === 0) throw invalid(`region ${r.id} has a peer with id 0 or store 0`);
    if (stores.has(p.storeId) || peers.has(p.id)) throw invalid(`region ${r.id} has two peers on store ${p.storeId} or with id ${p.id}`);
    stores.add(p.storeId);
    peers.add(p.id);
  }
  if (r.endKey.length > 0 && Buffer.compare(r.startKey, r.endKey) >= 0) throw invalid(`region ${r.id} has start key ≥ end key`);
}
