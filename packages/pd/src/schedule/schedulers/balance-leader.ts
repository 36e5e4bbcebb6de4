/**
 * balance-leader (PD `balance_leader.go`, reduced to leader counts): while the Up store with the
 * most leaders has more than `leader-balance-tolerance` leaders above the one with the fewest,
 * move a leader from the busiest store to a healthy voter on a less busy one. Up to 4 moves per
 * run (PD's batch), under `leader-schedule-limit`.
 */
import { isDownPeer, isPending, type RegionInfo } from '../../core/region-info.js';
import { transferLeaderOperator } from '../builder.js';
import { isHealthy, type ScheduleContext } from '../context.js';
import type { Operator } from '../operator.js';
import type { Scheduler } from './scheduler.js';

export const BALANCE_LEADER = 'balance-leader-scheduler';
const BATCH = 4;

export class BalanceLeaderScheduler implements Scheduler {
  readonly name = BALANCE_LEADER;
  readonly description = 'moves leaders from the store with the most leaders to the one with the fewest';

  async schedule(ctx: ScheduleContext): Promise<Operator[]> {
    const out: Operator[] = [];
    const stores = ctx.upStores();
    if (stores.length < 2) return out;
    const regions = ctx.cluster.regions.all();
    for (let i = 0; i < BATCH && ctx.underLimit('leader'); i++) {
      const count = (id: number) => ctx.loads.get(id)?.leaderCount ?? 0;
      const byLeaders = [...stores].sort((a, b) => count(b) - count(a) || a - b);
      const source = byLeaders[0]!;
      let made: Operator | undefined;
      for (const target of [...byLeaders].reverse()) {
        if (count(source) - count(target) <= ctx.config.leaderBalanceTolerance) break;
        const r = regions.find((x) => this.movable(ctx, x, source, target));
        if (r === undefined) continue;
        made = transferLeaderOperator(r, target, ctx.build('leader', this.name));
        ctx.noteLeaderMove(source, target);
        break;
      }
      if (made === undefined) break;
      ctx.operators.add(made);
      out.push(made);
    }
    return out;
  }

  private movable(ctx: ScheduleContext, r: RegionInfo, source: number, target: number): boolean {
    if (r.leader?.storeId !== source || ctx.operators.get(r.meta.id) !== undefined || !isHealthy(r)) return false;
    const to = r.meta.peers.find((p) => p.storeId === target);
    return to !== undefined && to.role === 'Voter' && !isPending(r, to.id) && !isDownPeer(r, to.id);
  }
}
