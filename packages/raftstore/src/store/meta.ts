/**
 * StoreMeta: the store-wide view of its regions (TiKV `StoreMeta`): the range index of
 * initialized regions (for routing keys and finding overlaps), and tombstones of destroyed peers
 * (so stale messages cannot re-create them).
 */
import type { Region, RegionEpoch } from '@mrkv/proto';
import { RegionIndex } from './region-index.js';

export interface Tombstone {
  readonly epoch: RegionEpoch;
  readonly peerId: number;
}

export class StoreMeta {
  readonly index = new RegionIndex();
  readonly tombstones = new Map<number, Tombstone>();
  /** Regions whose destroyed peer's raft log is still being removed: no new peer until it is gone. */
  readonly destroying = new Set<number>();
  /**
   * A vote for a region this store will create by a split it has not applied yet, kept until the
   * split creates the peer (TiKV keeps them likewise), so the child's election need not wait an
   * election timeout. One per region, bounded.
   */
  readonly pendingVotes = new Map<number, unknown>();

  /** Records an initialized region's range (after bootstrap, snapshot, split, conf change). */
  setRegion(region: Region): void {
    if (region.peers.length === 0) return;
    this.index.upsert(region);
  }

  removeRegion(regionId: number): void {
    this.index.remove(regionId);
  }
}
