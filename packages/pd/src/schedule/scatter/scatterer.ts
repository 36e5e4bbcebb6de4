/**
 * The region scatterer (PD `RegionScatterer`, pkg/schedule/scatter/region_scatterer.go): spreads
 * a set of regions (a key range's, or listed ids) so that their peers and their leaders land
 * evenly over the Up stores, by one operator per region through the operator controller.
 *
 * Phases, per call:
 * 1. look each region up afresh (a region the call waited on may have changed);
 * 2. skip the ones that cannot move now, with a reason: unknown, no leader yet, pending or down
 *    peers, learners, another voter count than `max-replicas` (the replica checker's to fix
 *    first, as PD refuses those), an operator already running (scatter never replaces one),
 *    fewer Up stores than voters, or `region-schedule-limit` scatter operators already running;
 * 3. pick target stores and a target leader from the group's counts ({@link pickScatterPlacement})
 *    among the Up stores, leaving out those low on disk space unless the region already has a
 *    peer there (a peer that stays takes no new space; PD filters scatter targets the same way);
 *    a region already where the group wants it needs no operator and is reported `in-place`;
 * 4. build the operator ({@link scatterOperator}: add learner, promote, move the leader off a
 *    store being left, remove; then transfer the leader), add it to the controller, and count
 *    the placement into the group.
 * The controller takes it from there: delivery on heartbeats, step tracking, step timeouts,
 * staleness, cancellation when a target store goes down.
 *
 * Groups: counts are kept per group name across calls (the kvproto `group` of ScatterRegion;
 * "" is the cluster-wide default), so callers that scatter one region per call, as TiKV clients
 * do after a split, still get an even spread. A group idle for {@link SCATTER_GROUP_TTL_MS} is
 * forgotten. Counts live in memory only: a PD restart starts every group afresh, as PD does.
 */
import { isMrkvError, noopLogger, type Logger, type Rng } from '@mrkv/common';
import type { Cluster } from '../../cluster/cluster.js';
import type { RegionInfo } from '../../core/region-info.js';
import { scatterOperator } from '../builder.js';
import { ScheduleContext } from '../context.js';
import type { Operator } from '../operator.js';
import type { OperatorController } from '../operator-controller.js';
import { pickScatterPlacement, samePlacement, ScatterGroup, type ScatterPlacement } from './placement.js';

/** The `source` of scatter operators (as PD names its scatter operators). */
export const SCATTER_SOURCE = 'scatter-region';

/** How long a scatter group's counts outlive its last use. */
export const SCATTER_GROUP_TTL_MS = 10 * 60_000;

/** Groups kept at most (the least recently used go first). */
export const MAX_SCATTER_GROUPS = 256;

/** Why a region was not given a scatter operator. */
export type ScatterSkipCode =
  | 'not-found'
  | 'no-leader'
  | 'pending-peer'
  | 'down-peer'
  | 'learner'
  | 'replica-count'
  | 'has-operator'
  | 'too-few-stores'
  | 'limit'
  | 'in-place'
  | 'refused';

/** A region the scatter left alone, and why. */
export interface ScatterSkip {
  readonly regionId: number;
  readonly code: ScatterSkipCode;
  /** A short sentence for people ("has a pending peer 12 on store 3"). */
  readonly reason: string;
}

/** What one scatter call did. */
export interface ScatterOutcome {
  readonly group: string;
  /** Operators added, in the order of the regions asked for. */
  readonly operators: readonly Operator[];
  readonly skipped: readonly ScatterSkip[];
}

export interface RegionScattererOptions {
  readonly cluster: Cluster;
  readonly operators: OperatorController;
  /** Breaks ties between equally loaded stores (seeded, so a test replays). */
  readonly rng: Rng;
  readonly logger?: Logger;
}

export class RegionScatterer {
  private readonly groups = new Map<string, ScatterGroup>();
  private readonly cluster: Cluster;
  private readonly operators: OperatorController;
  private readonly rng: Rng;
  private readonly logger: Logger;

  constructor(opts: RegionScattererOptions) {
    this.cluster = opts.cluster;
    this.operators = opts.operators;
    this.rng = opts.rng;
    this.logger = (opts.logger ?? noopLogger).child({ component: 'scatter' });
  }

  /** The group named `name` if it is still kept (for inspection and tests). */
  group(name: string): ScatterGroup | undefined {
    return this.groups.get(name);
  }

  /** Scatters the regions with `regionIds` (duplicates ignored) in `group` (module comment). */
  async scatter(regionIds: readonly number[], group = ''): Promise<ScatterOutcome> {
    const g = this.useGroup(group);
    const operators: Operator[] = [];
    const skipped: ScatterSkip[] = [];
    // one view of store states for the call (the operator counts it checks stay live)
    const ctx = new ScheduleContext(this.cluster, this.operators);
    for (const id of [...new Set(regionIds)]) {
      const res = await this.scatterOne(id, g, ctx);
      if ('code' in res) skipped.push(res);
      else operators.push(res);
    }
    this.logger.info(
      { group, regions: regionIds.length, operators: operators.length, skipped: skipped.length, skippedCodes: [...new Set(skipped.map((s) => s.code))] },
      'regions scattered',
    );
    return { group, operators, skipped };
  }

  private async scatterOne(regionId: number, g: ScatterGroup, ctx: ScheduleContext): Promise<Operator | ScatterSkip> {
    const skip = (code: ScatterSkipCode, reason: string): ScatterSkip => ({ regionId, code, reason });
    const r = this.cluster.getRegionById(regionId);
    if (r === undefined) return skip('not-found', 'region not found');
    const why = unmovable(r, ctx);
    if (why !== undefined) return skip(why[0], why[1]);
    const current: ScatterPlacement = { stores: r.meta.peers.map((p) => p.storeId), leaderStore: r.leader!.storeId };
    const up = ctx.upStores().filter((s) => ctx.takesNewReplicas(s) || current.stores.includes(s));
    const target = pickScatterPlacement(current, up, r.meta.peers.length, g, this.rng);
    if (target === undefined) {
      return skip('too-few-stores', `needs ${r.meta.peers.length} Up stores with disk space for its voters, only ${up.length} are`);
    }
    if (samePlacement(current, target)) {
      g.place(target);
      return skip('in-place', `already in place: stores [${target.stores.join(',')}], leader on store ${target.leaderStore}`);
    }
    const adds = target.stores.filter((s) => !current.stores.includes(s)).length;
    const last = adds > 0 ? await this.cluster.ids.alloc(adds) : 0;
    const ids = Array.from({ length: adds }, (_, i) => last - adds + 1 + i);
    // the id allocation may have waited: build and add against the region as it is now
    const now = this.cluster.getRegionById(regionId);
    if (now === undefined) return skip('not-found', 'region disappeared while the scatter waited (split or merged)');
    const whyNow = unmovable(now, ctx);
    if (whyNow !== undefined) return skip(whyNow[0], whyNow[1]);
    try {
      const op = this.operators.add(scatterOperator(now, target.stores, target.leaderStore, ids, ctx.build('scatter', SCATTER_SOURCE)));
      g.place(target);
      return op;
    } catch (e) {
      if (!isMrkvError(e)) throw e;
      return skip('refused', e.message);
    }
  }

  /** The group named `name`, created or refreshed; idle and surplus groups are dropped first. */
  private useGroup(name: string): ScatterGroup {
    const now = this.cluster.clock.nowMs();
    for (const [n, g] of this.groups) if (now - g.lastUsedMs > SCATTER_GROUP_TTL_MS) this.groups.delete(n);
    let g = this.groups.get(name);
    if (g === undefined) {
      while (this.groups.size >= MAX_SCATTER_GROUPS) this.groups.delete(this.groups.keys().next().value!);
      g = new ScatterGroup(name, now);
    }
    // re-inserted: the map's order is least recently used first
    this.groups.delete(name);
    this.groups.set(name, g);
    g.lastUsedMs = now;
    return g;
  }
}

/** Why `r` cannot be scattered now (code and reason), or undefined. */
function unmovable(r: RegionInfo, ctx: ScheduleContext): [ScatterSkipCode, string] | undefined {
  if (r.leader === undefined) return ['no-leader', 'no leader known yet (wait for its heartbeat)'];
  const running = ctx.operators.get(r.meta.id);
  if (running !== undefined) return ['has-operator', `already has an operator: ${running.toString()}`];
  const pending = r.pendingPeers[0];
  if (pending !== undefined) return ['pending-peer', `has a pending peer ${pending.id} on store ${pending.storeId}`];
  const down = r.downPeers[0];
  if (down !== undefined) return ['down-peer', `has a down peer ${down.peer.id} on store ${down.peer.storeId}`];
  const learner = r.meta.peers.find((p) => p.role !== 'Voter');
  if (learner !== undefined) return ['learner', `has a ${learner.role} peer ${learner.id} on store ${learner.storeId}; scatter moves voters only`];
  if (r.meta.peers.length !== ctx.config.maxReplicas) return ['replica-count', `has ${r.meta.peers.length} voters, max-replicas is ${ctx.config.maxReplicas}`];
  if (!ctx.underLimit('scatter')) return ['limit', `region-schedule-limit reached (${ctx.config.regionScheduleLimit} scatter operators running)`];
  return undefined;
}
