/**
 * balance-hot-region, write side, leaders only (a simple form of PD `hot_region.go`): a region
 * writing at least `hot-region-min-write-rate` bytes/s in `hot-region-cache-hits-threshold`
 * consecutive heartbeats is hot. Each store's hot load is the write rate of the hot regions it
 * leads. While moving the hottest region's leader from the hottest store to a follower on a
 * cooler store narrows the gap (the gap exceeds the region's rate), do it. Under
 * `hot-region-schedule-limit`.
 *
 * NB: PD also moves peers for write hotspots and balances reads; mrkv starts with leaders
 * (see pd#3144 in the reference: hot scheduling is subtle; start simple).
 */
import { writeRate, type RegionInfo } from '../../core/region-info.js';
import { transferLeaderOperator } from '../builder.js';
import { isHealthy, type ScheduleContext } from '../context.js';
import type { Operator } from '../operator.js';
import type { Scheduler } from './scheduler.js';

export const HOT_REGION = 'balance-hot-region-scheduler';

/** Consecutive-hot counters per region, fed by every region heartbeat. */
export class HotCache {
  private readonly hits = new Map<number, number>();

  /** Records a heartbeat's write rate against `minRate`. */
  observe(r: RegionInfo, minRate: number): void {
    if (minRate > 0 && writeRate(r) >= minRate) this.hits.set(r.meta.id, (this.hits.get(r.meta.id) ?? 0) + 1);
    else this.hits.delete(r.meta.id);
  }

  /** Forgets regions that no longer exist. */
  forget(regionId: number): void {
    this.hits.delete(regionId);
  }

  /** True if the region was hot in at least `threshold` consecutive reports. */
  isHot(regionId: number, threshold: number): boolean {
    return (this.hits.get(regionId) ?? 0) >= threshold;
  }
}

export class HotRegionScheduler implements Scheduler {
  readonly name = HOT_REGION;
  readonly description = 'moves leaders of write-hot regions from the hottest store to cooler followers';

  constructor(readonly cache: HotCache) {}

  async schedule(ctx: ScheduleContext): Promise<Operator[]> {
    if (!ctx.underLimit('hot')) return [];
    const threshold = ctx.config.hotRegionCacheHitsThreshold;
    const hot = ctx.cluster.regions.all().filter((r) => r.leader !== undefined && this.cache.isHot(r.meta.id, threshold));
    if (hot.length === 0) return [];
    const load = new Map<number, number>(ctx.upStores().map((id) => [id, 0]));
    for (const r of hot) if (load.has(r.leader!.storeId)) load.set(r.leader!.storeId, load.get(r.leader!.storeId)! + writeRate(r));
    const source = [...load].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
    if (source === undefined) return [];
    const candidates = hot
      .filter((r) => r.leader!.storeId === source[0] && ctx.operators.get(r.meta.id) === undefined && isHealthy(r))
      .sort((a, b) => writeRate(b) - writeRate(a));
    for (const r of candidates) {
      const rate = writeRate(r);
      const targets = r.meta.peers
        .filter((p) => p.role === 'Voter' && p.storeId !== source[0] && load.has(p.storeId))
        .sort((a, b) => load.get(a.storeId)! - load.get(b.storeId)!);
      const t = targets[0];
      if (t === undefined || source[1] - load.get(t.storeId)! <= rate) continue;
      const op = transferLeaderOperator(r, t.storeId, ctx.build('hot', this.name));
      ctx.operators.add(op);
      return [op];
    }
    return [];
  }
}
