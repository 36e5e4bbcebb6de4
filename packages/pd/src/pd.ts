/**
 * The placement driver as one object: storage, id allocator, TSO, cluster state, operator
 * controller and coordinator, opened together over one `KvEngine`, plus the admin-level
 * operations the gRPC services expose (operators by hand, region checks, cluster health).
 * Transport-free: services/pd puts gRPC around it; tests drive it directly with a memory engine
 * and a manual clock.
 */
import { compareBytes, noopLogger, SeededRng, type Clock, type Logger, type Rng } from '@mrkv/common';
import type { Region } from '@mrkv/proto';
import type { KvEngine } from '@mrkv/engine';
import { Cluster, type HeartbeatResult } from './cluster/cluster.js';
import type { ScheduleConfig } from './config.js';
import { PdError, PdErrorCodes } from './errors.js';
import { learners, voters, type RegionInfo } from './core/region-info.js';
import { storeStatus, type StoreStatus } from './core/store-info.js';
import { IdAllocator } from './id/id-allocator.js';
import { addPeerOperator, mergeOperators, removePeerOperator, splitOperator, transferLeaderOperator, type BuildContext } from './schedule/builder.js';
import { Coordinator } from './schedule/coordinator.js';
import type { HeartbeatCommand, Operator, SplitPolicy } from './schedule/operator.js';
import { OperatorController } from './schedule/operator-controller.js';
import { RegionScatterer, type ScatterOutcome } from './schedule/scatter/scatterer.js';
import { MetaStorage } from './storage/meta-storage.js';
import { Tso } from './tso/tso.js';

export interface PlacementDriverOptions {
  readonly engine: KvEngine;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Cluster id of a brand-new cluster (default generated). Ignored when the engine holds one. */
  readonly newClusterId?: number;
  /** Config keys forced at start (from the process config), over the persisted config. */
  readonly configOverrides?: Partial<ScheduleConfig>;
  /** How far ahead the TSO bound is persisted (default 3 s). */
  readonly tsoSaveIntervalMs?: number;
  /** Breaks scheduling ties (scatter); default seeded from the clock's wall time. */
  readonly rng?: Rng;
}

/** Regions ScatterRegions takes by id in one call at most. */
export const MAX_SCATTER_IDS = 10_000;

/**
 * What to scatter: the regions overlapping `[startKey, endKey)` (empty end = +inf; both empty =
 * every region), or the listed `regionIds` (then the range must be empty). `group` names the
 * scatter group whose counts the placement continues (default "", the cluster-wide group).
 */
export interface ScatterRequest {
  readonly startKey?: Uint8Array;
  readonly endKey?: Uint8Array;
  readonly regionIds?: readonly number[];
  readonly group?: string;
}

/** An operator asked for by hand (`mrkv-ctl operator add …`). */
export type AdminOperatorRequest =
  | { readonly type: 'transfer-leader'; readonly regionId: number; readonly toStore: number }
  | { readonly type: 'add-peer'; readonly regionId: number; readonly storeId: number }
  | { readonly type: 'remove-peer'; readonly regionId: number; readonly storeId: number }
  | { readonly type: 'split'; readonly regionId: number; readonly policy: SplitPolicy; readonly keys: readonly Uint8Array[] }
  | { readonly type: 'merge'; readonly sourceId: number; readonly targetId: number };

/** Region checks of `region check <kind>`. */
export type RegionCheck = 'down-peer' | 'pending-peer' | 'miss-peer' | 'extra-peer' | 'learner-peer' | 'offline-peer';
export const REGION_CHECKS: readonly RegionCheck[] = ['down-peer', 'pending-peer', 'miss-peer', 'extra-peer', 'learner-peer', 'offline-peer'];

/** What `cluster status` shows. */
export interface ClusterHealth {
  readonly clusterId: number;
  readonly bootstrapped: boolean;
  readonly healthy: boolean;
  /** Human-readable reasons when not healthy. */
  readonly problems: readonly string[];
  readonly storeStates: Readonly<Record<StoreStatus, number>>;
  readonly regionCount: number;
  readonly downPeerRegions: number;
  readonly pendingPeerRegions: number;
  readonly missPeerRegions: number;
  readonly runningOperators: number;
}

export class PlacementDriver {
  private constructor(
    readonly storage: MetaStorage,
    readonly ids: IdAllocator,
    readonly tso: Tso,
    readonly cluster: Cluster,
    readonly operators: OperatorController,
    readonly coordinator: Coordinator,
    /** Spreads regions over the stores (ScatterRegions, pdpb ScatterRegion). */
    readonly scatterer: RegionScatterer,
    private readonly logger: Logger,
  ) {}

  /** Opens PD over `engine`, loading everything persisted. */
  static async open(opts: PlacementDriverOptions): Promise<PlacementDriver> {
    const logger = opts.logger ?? noopLogger;
    const storage = new MetaStorage(opts.engine);
    const ids = await IdAllocator.open(storage);
    const cluster = await Cluster.open({ storage, ids, clock: opts.clock, logger, newClusterId: opts.newClusterId, configOverrides: opts.configOverrides });
    const tso = await Tso.open(storage, { clock: opts.clock, saveIntervalMs: opts.tsoSaveIntervalMs });
    const operators = new OperatorController({
      clock: opts.clock,
      config: () => cluster.config,
      region: (id) => cluster.getRegionById(id),
      logger,
    });
    const coordinator = await Coordinator.open({ cluster, operators, storage, logger });
    const scatterer = new RegionScatterer({ cluster, operators, rng: opts.rng ?? new SeededRng(Math.floor(opts.clock.wallMs())), logger });
    return new PlacementDriver(storage, ids, tso, cluster, operators, coordinator, scatterer, logger.child({ component: 'pd' }));
  }

  /** Processes a region heartbeat; resolves with the command for the leader, if any. */
  async regionHeartbeat(info: RegionInfo): Promise<{ result: HeartbeatResult; command: HeartbeatCommand | undefined }> {
    const result = await this.cluster.regionHeartbeat(info);
    return { result, command: this.coordinator.onRegionHeartbeat(result) };
  }

  /**
   * A split report: the new regions go into the tree, and operators of the regions involved
   * advance (a split operator finishes here, without waiting for the next heartbeat).
   */
  async reportBatchSplit(regions: readonly Region[]): Promise<void> {
    const reported = new Set(regions.map((r) => r.id));
    for (const res of await this.cluster.reportBatchSplit(regions)) {
      // a region of the report that an earlier one of it displaced comes right back: not removed
      this.coordinator.onRegionHeartbeat({ ...res, overlaps: res.overlaps.filter((o) => !reported.has(o.meta.id)) });
    }
  }

  /** Builds and adds an operator asked for by hand; replaces a scheduler's operator on the region. */
  async addAdminOperator(req: AdminOperatorRequest): Promise<Operator> {
    const ctx = new AdminBuild(this.cluster);
    switch (req.type) {
      case 'transfer-leader':
        return this.operators.add(transferLeaderOperator(this.cluster.requireRegion(req.regionId), req.toStore, ctx.build()), { replace: true });
      case 'add-peer': {
        const r = this.cluster.requireRegion(req.regionId);
        this.cluster.getStore(req.storeId);
        return this.operators.add(addPeerOperator(r, req.storeId, await this.cluster.ids.alloc(1), ctx.build()), { replace: true });
      }
      case 'remove-peer':
        return this.operators.add(removePeerOperator(this.cluster.requireRegion(req.regionId), req.storeId, ctx.build()), { replace: true });
      case 'split':
        return this.operators.add(splitOperator(this.cluster.requireRegion(req.regionId), req.policy, req.keys, ctx.build()), { replace: true });
      case 'merge': {
        const [active, passive] = mergeOperators(this.cluster.requireRegion(req.sourceId), this.cluster.requireRegion(req.targetId), ctx.build());
        return this.operators.add(active, { replace: true, twin: passive });
      }
    }
  }

  /**
   * Scatters a key range's regions or the listed ones (see {@link ScatterRequest} and
   * schedule/scatter): one operator per region that can move, a reason for each one skipped.
   * Throws INVALID_VALUE for a request naming both a range and ids, a reversed range, too many
   * ids or an id of 0, and NOT_BOOTSTRAPPED before bootstrap.
   */
  async scatterRegions(req: ScatterRequest): Promise<ScatterOutcome> {
    this.cluster.requireBootstrapped();
    const start = req.startKey ?? new Uint8Array(0);
    const end = req.endKey ?? new Uint8Array(0);
    const ids = req.regionIds ?? [];
    const invalid = (m: string) => new PdError(PdErrorCodes.INVALID_VALUE, m);
    if (ids.length > 0 && (start.length > 0 || end.length > 0)) throw invalid('scatter takes a key range or region ids, not both');
    if (ids.length > MAX_SCATTER_IDS) throw invalid(`scatter takes at most ${MAX_SCATTER_IDS} region ids, got ${ids.length}`);
    if (ids.some((id) => !Number.isSafeInteger(id) || id <= 0)) throw invalid('region ids must be positive integers');
    if (end.length > 0 && compareBytes(start, end) >= 0) throw invalid('scatter range: start key must be below end key');
    const targets = ids.length > 0 ? ids : this.cluster.regions.scan(start, end).map((r) => r.meta.id);
    return this.scatterer.scatter(targets, req.group ?? '');
  }

  /** Regions failing `check`, in key order. */
  checkRegions(check: RegionCheck): RegionInfo[] {
    const now = this.cluster.clock.nowMs();
    const cfg = this.cluster.config;
    const status = new Map(this.cluster.allStores().map((s) => [s.meta.id, storeStatus(s, now, cfg)]));
    const on = (r: RegionInfo, pred: (s: StoreStatus | undefined) => boolean) => r.meta.peers.some((p) => pred(status.get(p.storeId)));
    const test: Record<RegionCheck, (r: RegionInfo) => boolean> = {
      'down-peer': (r) => r.downPeers.length > 0 || on(r, (s) => s === undefined || s === 'Down' || s === 'Tombstone'),
      'pending-peer': (r) => r.pendingPeers.length > 0,
      'miss-peer': (r) => voters(r).length < cfg.maxReplicas,
      'extra-peer': (r) => voters(r).length > cfg.maxReplicas,
      'learner-peer': (r) => learners(r).length > 0,
      'offline-peer': (r) => on(r, (s) => s === 'Offline'),
    };
    return this.cluster.regions.all().filter(test[check]);
  }

  /** The cluster's health summary. */
  health(): ClusterHealth {
    const now = this.cluster.clock.nowMs();
    const cfg = this.cluster.config;
    const storeStates: Record<StoreStatus, number> = { Up: 0, Disconnected: 0, Down: 0, Offline: 0, Tombstone: 0 };
    for (const s of this.cluster.allStores()) storeStates[storeStatus(s, now, cfg)]++;
    const down = this.checkRegions('down-peer').length;
    const pending = this.checkRegions('pending-peer').length;
    const miss = this.checkRegions('miss-peer').length;
    const problems: string[] = [];
    if (!this.cluster.bootstrapped) problems.push('cluster is not bootstrapped');
    for (const st of ['Disconnected', 'Down', 'Offline'] as const) if (storeStates[st] > 0) problems.push(`${storeStates[st]} store(s) ${st}`);
    if (down > 0) problems.push(`${down} region(s) with down peers`);
    if (miss > 0) problems.push(`${miss} region(s) missing replicas`);
    const noLeader = this.cluster.regions.all().filter((r) => r.leader === undefined).length;
    if (noLeader > 0) problems.push(`${noLeader} region(s) without a known leader`);
    return {
      clusterId: this.cluster.clusterId,
      bootstrapped: this.cluster.bootstrapped,
      healthy: problems.length === 0,
      problems,
      storeStates,
      regionCount: this.cluster.regions.size,
      downPeerRegions: down,
      pendingPeerRegions: pending,
      missPeerRegions: miss,
      runningOperators: this.operators.list().length,
    };
  }

  /** Makes every write durable (called at shutdown; the engine itself is closed by its owner). */
  async close(): Promise<void> {
    await this.storage.sync();
    this.logger.info({}, 'pd closed');
  }
}

/** Build context of admin operators: counted as `admin`, usable stores are Up ones. */
class AdminBuild {
  constructor(private readonly cluster: Cluster) {}
  build(): BuildContext {
    return {
      kind: 'admin',
      source: 'admin',
      storeUsable: (id) => {
        try {
          return this.cluster.storeStatus(id) === 'Up';
        } catch (e) {
          if (e instanceof PdError && e.code === PdErrorCodes.STORE_NOT_FOUND) return false;
          throw e;
        }
      },
    };
  }
}
