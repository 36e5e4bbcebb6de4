/**
 * balance-region (PD `balance_region.go`, with a simpler score): a store's score is the sum of
 * its regions' sizes in MiB, each region counting at least 1 (so with no size reports it is the
 * region count). While the Up store with the highest score is more than
 * `region-balance-tolerance` average regions above the Up store with the lowest, move a healthy,
 * fully replicated region's peer from the former to the latter — one whose size is below the gap,
 * so the move narrows it (add learner, promote, move the leader if needed, remove). Up to 4 moves
 * per run, at most one per target store (snapshot cost), under `region-schedule-limit`.
 *
 * Scores include the running operators' unfinished steps (PD `OpInfluence`): a peer being added
 * already weighs on its target, one being removed no longer on its source. A store low on disk
 * space (`isLowSpace`) is never a target, but stays a source: its replicas may move off it.
 */
import { sizeMib, voters, type RegionInfo } from '../../core/region-info.js';
import { movePeerOperator } from '../builder.js';
import { isHealthy, type ScheduleContext } from '../context.js';
import type { Operator } from '../operator.js';
import type { Scheduler } from './scheduler.js';

export const BALANCE_REGION = 'balance-region-scheduler';
const BATCH = 4;

/** What a region weighs in a store's score: its size in MiB, at least 1. */
export function regionUnits(r: RegionInfo): number {
  return Math.max(1, sizeMib(r));
}

export class BalanceRegionScheduler implements Scheduler {
  readonly name = BALANCE_REGION;
  readonly description = 'moves replicas from the store with the most region data (size, or count) to the one with the least';

  constructor(private readonly allocId: () => Promise<number>) {}

  async schedule(ctx: ScheduleContext): Promise<Operator[]> {
    const out: Operator[] = [];
    const stores = ctx.upStores();
    if (stores.length < 2) return out;
    const regions = ctx.cluster.regions.all();
    if (regions.length === 0) return out;
    const score = new Map<number, number>(stores.map((id) => [id, 0]));
    let total = 0;
    for (const r of regions) {
      const u = regionUnits(r);
      total += u;
      for (const p of r.meta.peers) if (score.has(p.storeId)) score.set(p.storeId, score.get(p.storeId)! + u);
    }
    for (const [id, inf] of ctx.influence) if (score.has(id)) score.set(id, score.get(id)! + inf.regionUnits);
    const tolerance = ctx.config.regionBalanceTolerance * (total / regions.length);
    const usedTargets = new Set<number>();
    for (let i = 0; i < BATCH && ctx.underLimit('region'); i++) {
      const byScore = [...stores].sort((a, b) => score.get(b)! - score.get(a)! || a - b);
      const source = byScore[0]!;
      let made: Operator | undefined;
      for (const target of [...byScore].reverse()) {
        if (usedTargets.has(target) || !ctx.takesNewReplicas(target)) continue;
        const gap = score.get(source)! - score.get(target)!;
        if (gap <= tolerance) break;
        const r = regions
          .filter((x) => regionUnits(x) < gap && this.movable(ctx, x, source, target))
          .sort((a, b) => regionUnits(b) - regionUnits(a))[0];
        if (r === undefined) continue;
        made = movePeerOperator(r, source, target, await this.allocId(), ctx.build('region', this.name));
        ctx.notePeerMove(source, target);
        score.set(source, score.get(source)! - regionUnits(r));
        score.set(target, score.get(target)! + regionUnits(r));
        usedTargets.add(target);
        break;
      }
      if (made === undefined) break;
      ctx.operators.add(made);
      out.push(made);
    }
    return out;
  }

  private movable(ctx: ScheduleContext, r: RegionInfo, source: number, target: number): boolean {
    if (ctx.operators.get(r.meta.id) !== undefined || !isHealthy(r)) return false;
    if (voters(r).length !== ctx.config.maxReplicas || r.meta.peers.length !== voters(r).length) return false;
    return r.meta.peers.some((p) => p.storeId === source) && !r.meta.peers.some((p) => p.storeId === target);
  }
}
