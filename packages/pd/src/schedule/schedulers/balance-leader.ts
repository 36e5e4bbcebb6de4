/**
 * balance-leader (PD `balance_leader.go`, reduced to leader counts): while the Up store with the
 * most leaders has more than the tolerance above the one with the fewest, move a leader from the
 * busiest store to a healthy voter on a less busy one. Up to 4 moves per run (PD's batch), under
 * `leader-schedule-limit`.
 *
 * Three rules keep it from moving a leader back and forth (seen as 2→1→2→1 on one region within
 * seconds of a pre-split, each move pausing the region's writes):
 * - counts include the running operators' unfinished steps (PD `OpInfluence`, see
 *   ScheduleContext): a transfer not yet confirmed by a heartbeat already counts on its target, so
 *   the next run does not repeat it and overshoot;
 * - the tolerance grows with the counts (PD `adjustTolerantRatio`: {@link LEADER_TOLERANCE_RATIO}
 *   of the largest store's region count, at least `leader-balance-tolerance`) and is never below
 *   1: one move narrows the gap by 2, so a gap of 1 would only be swapped around;
 * - a region whose leader changed stores within {@link LEADER_MOVE_COOLDOWN_MS} is not picked
 *   (its peers have just been through a transfer or an election; another region can go instead).
 *
 * When no region led by the busiest store has a voter on a store far enough below it, the gap is
 * closed in two hops through a middle store: one leader busiest → middle, another middle →
 * least busy (the middle store's count does not change). Without it, replica layouts left by a
 * pre-split stay unbalanced for good: leaders [2, 3, 2, 1] where none of the 3 regions led by
 * the second store has a peer on the fourth (seen in CI: no operator for 45 s), and no single
 * move narrows the gap while both hops together do.
 */
import { isDownPeer, isPending, type RegionInfo } from '../../core/region-info.js';
import { transferLeaderOperator } from '../builder.js';
import { isHealthy, type ScheduleContext } from '../context.js';
import type { Operator } from '../operator.js';
import type { Scheduler } from './scheduler.js';

export const BALANCE_LEADER = 'balance-leader-scheduler';
const BATCH = 4;

/** Share of the largest store's region count tolerated as a leader-count gap (PD `adjustRatio`, 0.005). */
export const LEADER_TOLERANCE_RATIO = 0.005;

/** How long after its leader changed stores a region is left out of balance-leader's picks. */
export const LEADER_MOVE_COOLDOWN_MS = 30_000;

/** The leader-count gap balance-leader tolerates between the Up `stores` (see the module comment). */
export function leaderTolerance(ctx: ScheduleContext, stores: readonly number[]): number {
  let maxRegions = 0;
  for (const id of stores) maxRegions = Math.max(maxRegions, ctx.loads.get(id)?.regionCount ?? 0);
  return Math.max(1, ctx.config.leaderBalanceTolerance, Math.floor(maxRegions * LEADER_TOLERANCE_RATIO));
}

export class BalanceLeaderScheduler implements Scheduler {
  readonly name = BALANCE_LEADER;
  readonly description = 'moves leaders from the store with the most leaders to the one with the fewest';

  async schedule(ctx: ScheduleContext): Promise<Operator[]> {
    const out: Operator[] = [];
    const stores = ctx.upStores();
    if (stores.length < 2) return out;
    const regions = ctx.cluster.regions.all();
    const tolerance = leaderTolerance(ctx, stores);
    for (let i = 0; i < BATCH && ctx.underLimit('leader'); i++) {
      const count = (id: number) => ctx.loads.get(id)?.leaderCount ?? 0;
      const byLeaders = [...stores].sort((a, b) => count(b) - count(a) || a - b);
      const source = byLeaders[0]!;
      let made: Operator[] = [];
      for (const target of [...byLeaders].reverse()) {
        if (count(source) - count(target) <= tolerance) break;
        const r = regions.find((x) => this.movable(ctx, x, source, target));
        if (r === undefined) continue;
        made = [transferLeaderOperator(r, target, ctx.build('leader', this.name))];
        ctx.noteLeaderMove(source, target);
        break;
      }
      if (made.length === 0) made = this.twoHops(ctx, regions, byLeaders, count, tolerance);
      if (made.length === 0) break;
      for (const op of made) {
        ctx.operators.add(op);
        out.push(op);
      }
    }
    return out;
  }

  /**
   * busiest → middle and middle → least busy, on two different regions, for a gap no single move
   * can narrow (see the module comment); [] if no such pair exists.
   */
  private twoHops(ctx: ScheduleContext, regions: readonly RegionInfo[], byLeaders: readonly number[], count: (id: number) => number, tolerance: number): Operator[] {
    const source = byLeaders[0]!;
    for (const target of [...byLeaders].reverse()) {
      if (count(source) - count(target) <= tolerance) break;
      for (const middle of byLeaders) {
        if (middle === source || middle === target) continue;
        const second = regions.find((x) => this.movable(ctx, x, middle, target));
        if (second === undefined) continue;
        const first = regions.find((x) => x !== second && this.movable(ctx, x, source, middle));
        if (first === undefined) continue;
        if (!ctx.underLimit('leader', 2)) return [];
        ctx.noteLeaderMove(source, middle);
        ctx.noteLeaderMove(middle, target);
        return [transferLeaderOperator(first, middle, ctx.build('leader', this.name)), transferLeaderOperator(second, target, ctx.build('leader', this.name))];
      }
    }
    return [];
  }

  private movable(ctx: ScheduleContext, r: RegionInfo, source: number, target: number): boolean {
    if (r.leader?.storeId !== source || ctx.operators.get(r.meta.id) !== undefined || !isHealthy(r) || ctx.outOfSpace.has(target)) return false;
    const changedAt = ctx.cluster.lastLeaderChangeAt(r.meta.id);
    if (changedAt !== undefined && ctx.cluster.clock.nowMs() - changedAt < LEADER_MOVE_COOLDOWN_MS) return false;
    const to = r.meta.peers.find((p) => p.storeId === target);
    return to !== undefined && to.role === 'Voter' && !isPending(r, to.id) && !isDownPeer(r, to.id);
  }
}
