/**
 * The key-range index of the regions on one store (TiKV `StoreMeta.region_ranges`): which local
 * region holds a key, and which local regions overlap a range. Used to route requests and raft
 * messages of unknown regions, to refuse overlapping peers, and to attach sibling regions to
 * EpochNotMatch errors.
 *
 * Invariant: entries are sorted by start key and do not overlap (the store never hosts two
 * initialized regions with overlapping ranges). Backed by a sorted array: lookups are binary
 * searches; inserts and removals move memory, which is fine at the rate regions split and merge.
 */
import { compareBytes, invariant } from '@mrkv/common';
import type { Region } from '@mrkv/proto';

/** True if `key` is in `[start, end)`, where an empty `end` means +infinity. */
export function keyInRange(key: Uint8Array, start: Uint8Array, end: Uint8Array): boolean {
  return compareBytes(key, start) >= 0 && (end.length === 0 || compareBytes(key, end) < 0);
}

/** True if `[aStart, aEnd)` and `[bStart, bEnd)` intersect (empty ends are +infinity). */
export function rangesOverlap(aStart: Uint8Array, aEnd: Uint8Array, bStart: Uint8Array, bEnd: Uint8Array): boolean {
  const aBeforeB = aEnd.length > 0 && compareBytes(aEnd, bStart) <= 0;
  const bBeforeA = bEnd.length > 0 && compareBytes(bEnd, aStart) <= 0;
  return !aBeforeB && !bBeforeA;
}

export class RegionIndex {
  private items: Region[] = [];

  get size(): number {
    return this.items.length;
  }

  /** All regions in key order. */
  all(): readonly Region[] {
    return this.items;
  }

  /** Inserts or replaces `region` (same id). Throws if it overlaps another region. */
  upsert(region: Region): void {
    this.remove(region.id);
    const overl = this.overlapping(region.startKey, region.endKey);
    invariant(overl.length === 0, 'region range overlaps another local region', {
      regionId: region.id,
      overlaps: overl.map((r) => r.id),
    });
    const i = this.lowerBound(region.startKey);
    this.items.splice(i, 0, region);
  }

  /** Removes the region with this id (no-op if absent). */
  remove(regionId: number): Region | undefined {
    const i = this.items.findIndex((r) => r.id === regionId);
    if (i < 0) return undefined;
    return this.items.splice(i, 1)[0];
  }

  /** The region containing `key`, if any. */
  find(key: Uint8Array): Region | undefined {
    // Last region whose start ≤ key.
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.items[mid]!.startKey, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const r = this.items[lo - 1];
    return r !== undefined && keyInRange(key, r.startKey, r.endKey) ? r : undefined;
  }

  /** Regions intersecting `[start, end)` (empty end = +infinity), in key order. */
  overlapping(start: Uint8Array, end: Uint8Array): Region[] {
    const out: Region[] = [];
    // The first candidate is the last region starting at or before `start`.
    let i = Math.max(0, this.lowerBound(start) - 1);
    for (; i < this.items.length; i++) {
      const r = this.items[i]!;
      if (end.length > 0 && compareBytes(r.startKey, end) >= 0) break;
      if (rangesOverlap(r.startKey, r.endKey, start, end)) out.push(r);
    }
    return out;
  }

  /** Index of the first region whose start key is ≥ `key`. */
  private lowerBound(key: Uint8Array): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.items[mid]!.startKey, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
