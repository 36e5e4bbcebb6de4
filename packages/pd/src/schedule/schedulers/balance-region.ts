/**
 * balance-region (PD `balance_region.go`, reduced to region counts): while the Up store with the
 * most regions has more than `region-balance-tolerance` above the Up store with the fewest, move
 * a healthy, fully replicated region's peer from the fullest store to the emptiest one that does
 * not hold it (add learner, promote, move the leader if needed, remove). Up to 4 per run, under
 * `region-schedule-limit`; at most one move in flight per target store per run (snapshot cost).
 */
import { voters, type RegionInfo } from '../../core/region-info.js';
import { movePeerOperator } from '../builder.js';
import { isHealthy, type ScheduleContext } from '../context.js';
import type { Operator } from '../operator.js';
import type { Scheduler } from './scheduler.js';

export const BALANCE_REGION = 'balance-region-scheduler';
const BATCH = 4;

export class BalanceRegionScheduler implements Scheduler {
  readonly name = BALANCE_REGION;
  readonly description = 'moves replicas from the store with the most regions to the one with the fewest';

  constructor(private readonly allocId: () => Promise<number>) {}

  async schedule(ctx: ScheduleContext): Promise<Operator[]> {
    const out: Operator[] = [];
    const stores = ctx.upStores();
    if (stores.length < 2) return out;
    const regions = ctx.cluster.regions.all();
    const usedTargets = new Set<number>();
    for (let i = 0; i < BATCH && ctx.underLimit('region'); i++) {
      const count = (id: number) => ctx.loads.get(id)?.regionCount ?? 0;
      const byRegions = [...stores].sort((a, b) => count(b) - count(a) || a - b);
      const source = byRegions[0]!;
      let made: Operator | undefined;
      for (const target of [...byRegions].reverse()) {
        if (usedTargets.has(target)) continue;
        if (count(source) - count(target) <= ctx.config.regionBalanceTolerance) break;
        const r = regions.find((x) => this.movable(ctx, x, source, target));
        if (r === undefined) continue;
        made = movePeerOperator(r, source, target, await this.allocId(), ctx.build('region', this.name));
        ctx.notePeerMove(source, target);
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
