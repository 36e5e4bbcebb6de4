/**
 * The merge checker (PD `pkg/schedule/checker/merge_checker.go`): a small region merges into an
 * adjacent one. Candidates are healthy, fully replicated regions with size ≤
 * `max-merge-region-size` MiB and keys ≤ `max-merge-region-keys`, not split (and PD not started)
 * within `split-merge-interval`. The target is the next region, else the previous one; it must
 * be healthy, fully replicated and have no operator. When the two regions' peers sit on
 * different stores, the merge operator first moves the source's peers onto the target's stores
 * (PD's `matchPeerSteps`), then merges. Operators count against `merge-schedule-limit`.
 * Execution (PrepareMerge/CommitMerge) is the store's side.
 */
import { isMrkvError } from '@mrkv/common';
import { learners, voters, type RegionInfo } from '../../core/region-info.js';
import { alignAndMergeOperators } from '../builder.js';
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

  constructor(private readonly allocId: () => Promise<number>) {}

  /**
   * A merge pair for `region` ([active on it, passive on the target]), or undefined. The active
   * operator lines the source's peers up with the target's first if they differ.
   */
  async check(ctx: ScheduleContext, r: RegionInfo): Promise<[Operator, Operator] | undefined> {
    if (ctx.operators.get(r.meta.id) !== undefined || !ctx.underLimit('merge')) return undefined;
    if (mergeBlocker(ctx, r) !== undefined) return undefined;
    for (const target of [ctx.cluster.regions.getNext(r), ctx.cluster.regions.getPrevOf(r)]) {
      if (target === undefined || ctx.operators.get(target.meta.id) !== undefined) continue;
      if (!isHealthy(target) || voters(target).length !== ctx.config.maxReplicas || learners(target).length > 0) continue;
      const missing = target.meta.peers.filter((p) => !r.meta.peers.some((q) => q.storeId === p.storeId));
      if (missing.some((p) => !ctx.usable(p.storeId))) continue;
      const ids: number[] = [];
      for (let i = 0; i < missing.length; i++) ids.push(await this.allocId());
      try {
        const pair = alignAndMergeOperators(r, target, ids, ctx.build('merge', this.name));
        const stays = new Set(target.meta.peers.map((p) => p.storeId));
        for (const p of r.meta.peers) if (!stays.has(p.storeId)) ctx.notePeerMove(p.storeId, undefined);
        for (const p of missing) ctx.notePeerMove(undefined, p.storeId);
        return pair;
      } catch (err) {
        if (!isMrkvError(err)) throw err;
        continue; // cannot line them up (e.g. a store went away): try the other side
      }
    }
    return undefined;
  }
}
