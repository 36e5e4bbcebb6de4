/**
 * The merge checker (PD `pkg/schedule/checker/merge_checker.go`): a small region merges into an
 * adjacent one. Candidates are healthy, fully replicated regions with size ≤
 * `max-merge-region-size` MiB and keys ≤ `max-merge-region-keys`, not split (and PD not started)
 * within `split-merge-interval`. The target is the next region, else the previous one; it must
 * be healthy, have no operator and have its peers on the same stores. Operators count against
 * `merge-schedule-limit`. Execution (PrepareMerge/CommitMerge) is the store's side.
 */
import { learners, voters, type RegionInfo } from '../../core/region-info.js';
import { mergeOperators } from '../builder.js';
import { isHealthy, type ScheduleContext } from '../context.js';
import type { Operator } from '../operator.js';

export const MERGE_CHECKER = 'merge-checker';

/** Why a region is not a merge candidate, or undefined if it is one. */
export function mergeBlocker(ctx: ScheduleContext, r: RegionInfo): string | undefined {
  const c = ctx.config;
  if (c.maxMergeRegionSizeMib === 0 || c.mergeScheduleLimit === 0) return 'merging disabled';
  if (!isHealthy(r)) return 'unhealthy';
  if (voters(r).length !== c.maxReplicas || learners(r).length > 0) return 'not fully replicated';
  const sinceSplit = ctx.cluster.clock.nowMs() - ctx.cluster.lastSplitAt(r.meta.id);
  if (sinceSplit < c.splitMergeIntervalMs) return 'split recently';
  if (r.approximateSize > c.maxMergeRegionSizeMib * (1 << 20) || r.approximateKeys > c.maxMergeRegionKeys) return 'too large';
  return undefined;
}

export class MergeChecker {
  readonly name = MERGE_CHECKER;

  /** A merge pair for `region` ([active on it, passive on the target]), or undefined. */
  check(ctx: ScheduleContext, r: RegionInfo): [Operator, Operator] | undefined {
    if (ctx.operators.get(r.meta.id) !== undefined || !ctx.underLimit('merge')) return undefined;
    if (mergeBlocker(ctx, r) !== undefined) return undefined;
    for (const target of [ctx.cluster.regions.getNext(r), ctx.cluster.regions.getPrevOf(r)]) {
      if (target === undefined || ctx.operators.get(target.meta.id) !== undefined) continue;
      if (!isHealthy(target) || voters(target).length !== ctx.config.maxReplicas) continue;
      try {
        return mergeOperators(r, target, ctx.build('merge', this.name));
      } catch {
        continue; // peers not aligned: try the other side
      }
    }
    return undefined;
  }
}
