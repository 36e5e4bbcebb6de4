/**
 * The region tree: every region PD knows, by start key and by id (PD `regionTree` +
 * `RegionsInfo`, pkg/core/region_tree.go). Regions never overlap in the tree. A newer region
 * that overlaps older ones replaces them; that is how splits and merges show up at PD.
 *
 * Structure: an array sorted by start key (binary search for lookups; splice for updates) and a
 * map by id. NB: splice is O(n) per update; at mrkv's scale (thousands of regions) a heartbeat
 * costs microseconds. A B-tree (PD uses one) is the upgrade path if that ever shows.
 *
 * Staleness (PD `checkStale` in cluster.processRegionHeartbeat): a region is stale, and must not
 * be written, if the cached region with its id has a newer version or conf_ver, or if any cached
 * region overlapping its range has a newer version.
 *
 * Invariant: `sorted` is ordered by start key, ranges are disjoint, and `byId` holds exactly the
 * regions in `sorted`.
 */
import { compareBytes } from '@mrkv/common';
import { isEpochStale } from '@mrkv/proto';
import type { RegionInfo } from './region-info.js';

/** The outcome of {@link RegionTree.put}. */
export interface PutResult {
  /** False if the region was stale and nothing changed. */
  readonly accepted: boolean;
  /** Regions removed because the new one overlaps them (not the old copy of the same id). */
  readonly overlaps: readonly RegionInfo[];
  /** The previous copy of the same region, if any. */
  readonly previous: RegionInfo | undefined;
}

/** True if `[aStart, aEnd)` and `[bStart, bEnd)` intersect (empty end = +inf). */
export function rangesOverlap(aStart: Uint8Array, aEnd: Uint8Array, bStart: Uint8Array, bEnd: Uint8Array): boolean {
  const aBeforeB = aEnd.length > 0 && compareBytes(aEnd, bStart) <= 0;
  const bBeforeA = bEnd.length > 0 && compareBytes(bEnd, aStart) <= 0;
  return !aBeforeB && !bBeforeA;
}

function sameRange(a: RegionInfo, b: RegionInfo): boolean {
  return compareBytes(a.meta.startKey, b.meta.startKey) === 0 && compareBytes(a.meta.endKey, b.meta.endKey) === 0;
}

export class RegionTree {
  private sorted: RegionInfo[] = [];
  private readonly byId = new Map<number, RegionInfo>();

  /** Number of regions. */
  get size(): number {
    return this.byId.size;
  }

  /** The region with `id`. */
  getById(id: number): RegionInfo | undefined {
    return this.byId.get(id);
  }

  /** The region containing `key`. */
  getByKey(key: Uint8Array): RegionInfo | undefined {
    const i = this.floorIndex(key);
    if (i < 0) return undefined;
    const r = this.sorted[i]!;
    return r.meta.endKey.length === 0 || compareBytes(key, r.meta.endKey) < 0 ? r : undefined;
  }

  /**
   * The region right before the one containing `key` (PD `GetPrevRegionByKey`): only if it ends
   * exactly where that one starts.
   */
  getPrev(key: Uint8Array): RegionInfo | undefined {
    const cur = this.getByKey(key);
    if (cur === undefined) return undefined;
    const i = this.indexOf(cur);
    const prev = i > 0 ? this.sorted[i - 1] : undefined;
    return prev !== undefined && compareBytes(prev.meta.endKey, cur.meta.startKey) === 0 ? prev : undefined;
  }

  /** The region right after `r` in key order, if adjacent. */
  getNext(r: RegionInfo): RegionInfo | undefined {
    const i = this.indexOf(r);
    const next = i >= 0 ? this.sorted[i + 1] : undefined;
    return next !== undefined && compareBytes(next.meta.startKey, r.meta.endKey) === 0 && r.meta.endKey.length > 0 ? next : undefined;
  }

  /** The region right before `r` in key order, if adjacent. */
  getPrevOf(r: RegionInfo): RegionInfo | undefined {
    const i = this.indexOf(r);
    const prev = i > 0 ? this.sorted[i - 1] : undefined;
    return prev !== undefined && compareBytes(prev.meta.endKey, r.meta.startKey) === 0 ? prev : undefined;
  }

  /**
   * Regions overlapping `[start, end)` (empty end = +inf) in key order, at most `limit` (≤ 0 =
   * no limit) (PD `ScanRange`): the first is the one containing `start`, if any.
   */
  scan(start: Uint8Array, end: Uint8Array, limit = 0): RegionInfo[] {
    const out: RegionInfo[] = [];
    let i = Math.max(0, this.floorIndex(start));
    for (; i < this.sorted.length; i++) {
      const r = this.sorted[i]!;
      if (end.length > 0 && compareBytes(r.meta.startKey, end) >= 0) break;
      if (r.meta.endKey.length > 0 && compareBytes(r.meta.endKey, start) <= 0) continue;
      out.push(r);
      if (limit > 0 && out.length >= limit) break;
    }
    return out;
  }

  /** Every region in key order (a copy). */
  all(): RegionInfo[] {
    return [...this.sorted];
  }

  /** True if `r` must not be written: something in the tree is newer (see module doc). */
  isStale(r: RegionInfo): boolean {
    const same = this.byId.get(r.meta.id);
    if (same !== undefined && isEpochStale(r.meta.regionEpoch, same.meta.regionEpoch)) return true;
    return this.overlapping(r).some((o) => o.meta.id !== r.meta.id && r.meta.regionEpoch.version < o.meta.regionEpoch.version);
  }

  /**
   * Inserts or replaces `r`, removing every region its range overlaps. Refuses (accepted: false)
   * a stale region.
   */
  put(r: RegionInfo): PutResult {
    if (this.isStale(r)) return { accepted: false, overlaps: [], previous: this.byId.get(r.meta.id) };
    const previous = this.byId.get(r.meta.id);
    if (previous !== undefined && sameRange(previous, r)) {
      // a conf change or a newer report of the same range: replace in place, O(log n)
      this.sorted[this.indexOf(previous)] = r;
      this.byId.set(r.meta.id, r);
      return { accepted: true, overlaps: [], previous };
    }
    if (previous !== undefined) this.removeAt(this.indexOf(previous));
    const overlaps = this.overlapping(r);
    for (const o of overlaps) this.removeAt(this.indexOf(o));
    const at = this.insertionIndex(r.meta.startKey);
    this.sorted.splice(at, 0, r);
    this.byId.set(r.meta.id, r);
    return { accepted: true, overlaps, previous };
  }

  /** Replaces the stats of a region already in the tree with the same range and epoch (no range change). */
  replaceSameRange(r: RegionInfo): void {
    const old = this.byId.get(r.meta.id);
    if (old === undefined) return;
    const i = this.indexOf(old);
    this.sorted[i] = r;
    this.byId.set(r.meta.id, r);
  }

  /** Removes the region with `id`; returns it. */
  remove(id: number): RegionInfo | undefined {
    const r = this.byId.get(id);
    if (r !== undefined) this.removeAt(this.indexOf(r));
    return r;
  }

  /** Regions in the tree overlapping `r`'s range (any id). */
  overlapping(r: RegionInfo): RegionInfo[] {
    return this.scan(r.meta.startKey, r.meta.endKey).filter((o) => rangesOverlap(o.meta.startKey, o.meta.endKey, r.meta.startKey, r.meta.endKey));
  }

  private removeAt(i: number): void {
    const [r] = this.sorted.splice(i, 1);
    if (r !== undefined) this.byId.delete(r.meta.id);
  }

  private indexOf(r: RegionInfo): number {
    const i = this.floorIndex(r.meta.startKey);
    return i >= 0 && this.sorted[i]!.meta.id === r.meta.id ? i : this.sorted.findIndex((x) => x.meta.id === r.meta.id);
  }

  /** Index of the last region whose start key is ≤ `key`, or -1. */
  private floorIndex(key: Uint8Array): number {
    let lo = 0;
    let hi = this.sorted.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.sorted[mid]!.meta.startKey, key) <= 0) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** Index of the first region whose start key is > `key` (where a region starting at `key` goes). */
  private insertionIndex(key: Uint8Array): number {
    return this.floorIndex(key) + 1;
  }
}
