/**
 * What checkers and schedulers see: the cluster, the operator controller and a snapshot of store
 * states and loads taken once per round (PD's `SchedulerCluster` view), plus the filters every
 * one of them uses to pick stores.
 *
 * The loads include the influence of the running operators' unfinished steps (PD `OpInfluence`,
 * influence.ts): a leader transfer in flight already counts on its target, not its source, so the
 * next round does not repeat it elsewhere and overshoot. Stores low on disk space (`isLowSpace`)
 * stay Up and usable for leaders, but take no new replicas: {@link ScheduleContext.takesNewReplicas};
 * one with nothing available at all takes no leader either (`outOfSpace`).
 */
import type { Cluster, StoreLoad } from '../cluster/cluster.js';
import type { ScheduleConfig } from '../config.js';
import type { RegionInfo } from '../core/region-info.js';
import { acceptsNewPeers, isLowSpace, isOutOfSpace, storeStatus, type StoreStatus } from '../core/store-info.js';
import type { BuildContext } from './builder.js';
import { applyInfluence, unfinishedInfluence, type StoreInfluence } from './influence.js';
import type { OperatorKind } from './operator.js';
import type { OperatorController } from './operator-controller.js';

export class ScheduleContext {
  /** Store states at the start of the round. */
  readonly status = new Map<number, StoreStatus>();
  /**
   * Store loads at the start of the round with the running operators' unfinished influence added
   * (region and leader counts); operators built in the round update them.
   */
  readonly loads: Map<number, StoreLoad>;
  /** The running operators' unfinished influence at the start of the round, per store. */
  readonly influence: ReadonlyMap<number, StoreInfluence>;
  /** Stores low on disk space at the start of the round. */
  readonly lowSpace = new Set<number>();
  /** Stores with nothing available (at their reserve): they refuse leadership, so no leader goes there. */
  readonly outOfSpace = new Set<number>();

  constructor(
    readonly cluster: Cluster,
    readonly operators: OperatorController,
  ) {
    const now = cluster.clock.nowMs();
    for (const s of cluster.allStores()) {
      this.status.set(s.meta.id, storeStatus(s, now, cluster.config));
      if (isLowSpace(s, cluster.config.lowSpaceRatio)) this.lowSpace.add(s.meta.id);
      if (isOutOfSpace(s)) this.outOfSpace.add(s.meta.id);
    }
    this.loads = cluster.storeLoads();
    this.influence = unfinishedInfluence(operators.list(), (id) => cluster.getRegionById(id));
    applyInfluence(this.loads, this.influence);
  }

  get config(): ScheduleConfig {
    return this.cluster.config;
  }

  /** True if new peers and leaders may go to `storeId`. */
  usable(storeId: number): boolean {
    const s = this.status.get(storeId);
    return s !== undefined && acceptsNewPeers(s);
  }

  /** Up stores, by id. */
  upStores(): number[] {
    return [...this.status].filter(([, s]) => acceptsNewPeers(s)).map(([id]) => id).sort((a, b) => a - b);
  }

  /**
   * True if a new replica may go to `storeId`: Up and not low on disk space (PD's
   * `StorageThresholdFilter` on targets). Moving a replica off a low-space store stays allowed.
   */
  takesNewReplicas(storeId: number): boolean {
    return this.usable(storeId) && !this.lowSpace.has(storeId);
  }

  /** The builder context for an operator of `kind` made by `source`. */
  build(kind: OperatorKind, source: string): BuildContext {
    return { kind, source, storeUsable: (id) => this.usable(id) };
  }

  /** True if `more` operators of `kind` (one by default) fit under its limit. */
  underLimit(kind: OperatorKind, more = 1): boolean {
    const c = this.config;
    const limit =
      kind === 'leader' ? c.leaderScheduleLimit
      : kind === 'region' || kind === 'scatter' ? c.regionScheduleLimit
      : kind === 'replica' ? c.replicaScheduleLimit
      : kind === 'merge' ? c.mergeScheduleLimit
      : kind === 'hot' ? c.hotRegionScheduleLimit
      : Number.POSITIVE_INFINITY;
    return this.operators.count(kind) + more <= limit;
  }

  /**
   * The store with the fewest regions (running operators included) that takes new replicas and
   * holds no peer of `region` (ties: lowest id).
   */
  pickTargetStore(region: RegionInfo, exclude: ReadonlySet<number> = new Set()): number | undefined {
    let best: number | undefined;
    let bestCount = Number.POSITIVE_INFINITY;
    for (const id of this.upStores()) {
      if (exclude.has(id) || !this.takesNewReplicas(id) || region.meta.peers.some((p) => p.storeId === id)) continue;
      const n = this.loads.get(id)?.regionCount ?? 0;
      if (n < bestCount) {
        best = id;
        bestCount = n;
      }
    }
    return best;
  }

  /** Records that a peer moves from `from` to `to` (either may be undefined) in this round's loads. */
  notePeerMove(from: number | undefined, to: number | undefined): void {
    if (from !== undefined) this.load(from).regionCount--;
    if (to !== undefined) this.load(to).regionCount++;
  }

  /** Records a leader move in this round's loads. */
  noteLeaderMove(from: number, to: number): void {
    this.load(from).leaderCount--;
    this.load(to).leaderCount++;
  }

  private load(id: number): StoreLoad {
    let l = this.loads.get(id);
    if (l === undefined) this.loads.set(id, (l = { regionCount: 0, leaderCount: 0, regionSizeMib: 0, pendingPeerCount: 0 }));
    return l;
  }
}

/** True if the region is fully healthy: leader known, no pending or down peers. */
export function isHealthy(r: RegionInfo): boolean {
  return r.leader !== undefined && r.pendingPeers.length === 0 && r.downPeers.length === 0;
}
