/**
 * What PD knows about one store: its registration (metapb.Store), its last heartbeat's
 * statistics, and when that heartbeat arrived (PD `StoreInfo`, pkg/core/store.go).
 *
 * The state a scheduler sees ({@link StoreStatus}) combines the persisted `metapb.StoreState`
 * (Up, Offline, Tombstone) with heartbeat silence (PD `IsDisconnected`, `IsUnhealthy`,
 * `DownTime`):
 * - `Tombstone`: removed for good; PutStore and heartbeats are refused.
 * - `Offline`: being drained (`store delete`); its replicas move elsewhere; when it holds no
 *   region it becomes Tombstone.
 * - `Down`: silent longer than `max-store-down-time`; its replicas are rebuilt elsewhere.
 * - `Disconnected`: silent longer than `store-disconnect-time`; nothing new goes there.
 * - `Up`: heartbeating.
 */
import type { Store } from '@mrkv/proto';
import type { ScheduleConfig } from '../config.js';

/** The state PD derives for a store. */
export type StoreStatus = 'Up' | 'Disconnected' | 'Down' | 'Offline' | 'Tombstone';

/** The statistics of a store heartbeat (pdpb.StoreStats, the fields PD uses). */
export interface StoreStats {
  readonly capacity: number;
  readonly available: number;
  readonly usedSize: number;
  readonly regionCount: number;
  readonly sendingSnapCount: number;
  readonly receivingSnapCount: number;
  readonly applyingSnapCount: number;
  readonly isBusy: boolean;
  readonly bytesWritten: number;
  readonly keysWritten: number;
  readonly bytesRead: number;
  readonly keysRead: number;
  /** Unix seconds the store started. */
  readonly startTime: number;
}

export interface StoreInfo {
  readonly meta: Store;
  /** The last heartbeat's statistics, if one arrived since PD started. */
  readonly stats: StoreStats | undefined;
  /**
   * Monotonic ms of the last heartbeat. A store loaded from storage (PD restarted) or just
   * registered counts from that moment, so it is not Down merely because PD restarted.
   */
  readonly lastHeartbeatMs: number;
}

/** The derived state of `s` at monotonic time `nowMs`. */
export function storeStatus(s: StoreInfo, nowMs: number, config: ScheduleConfig): StoreStatus {
  if (s.meta.state === 'Tombstone') return 'Tombstone';
  if (s.meta.state === 'Offline') return 'Offline';
  const silent = nowMs - s.lastHeartbeatMs;
  if (silent > config.maxStoreDownMs) return 'Down';
  if (silent > config.storeDisconnectMs) return 'Disconnected';
  return 'Up';
}

/** True if new replicas or leaders may go to a store in `status`. */
export function acceptsNewPeers(status: StoreStatus): boolean {
  return status === 'Up';
}

/** True if replicas on a store in `status` must be rebuilt elsewhere. */
export function needsReplacement(status: StoreStatus): boolean {
  return status === 'Down' || status === 'Offline' || status === 'Tombstone';
}

/** PD `InitClusterRegionThreshold`: a store with fewer regions and plenty of bytes free is never low on space. */
export const INIT_CLUSTER_REGION_THRESHOLD = 100;

/** PD `initialMinSpace` (8 GiB): "plenty of bytes free" for {@link INIT_CLUSTER_REGION_THRESHOLD}. */
export const INITIAL_MIN_SPACE = 8 * 1024 ** 3;

/**
 * True if `s` is low on disk space (PD `StoreInfo.IsLowSpace`), so no new replica may go there;
 * replicas may still move off it and leaders may still move onto it (they take no space).
 *
 * - `available` is what the store reports: the free space of its data directory as its raftstore
 *   sees it (the `disk-free` failpoint included) minus its `storage.reserve-space`, so 0 means at
 *   or below the reserve, where the store already refuses client writes: always low;
 * - otherwise low when less than `1 - lowSpaceRatio` of the capacity is available (PD's
 *   `low-space-ratio`, 0.8: more than 80 % used), except for a store with fewer than
 *   {@link INIT_CLUSTER_REGION_THRESHOLD} regions and more than {@link INITIAL_MIN_SPACE} free
 *   (PD's exception for a new cluster on a big, already well-used disk; pd#3444).
 * A store that has not reported (no stats, or capacity 0) is not low.
 */
/**
 * True if the store reports nothing available: it is at its `storage.reserve-space` (AlreadyFull).
 * Such a store refuses to take leadership by transfer (as TiKV), so it is no leader target.
 */
export function isOutOfSpace(s: StoreInfo): boolean {
  const st = s.stats;
  return st !== undefined && st.capacity > 0 && st.available <= 0;
}

export function isLowSpace(s: StoreInfo, lowSpaceRatio: number): boolean {
  if (isOutOfSpace(s)) return true;
  const st = s.stats;
  if (st === undefined || st.capacity <= 0) return false;
  if (st.regionCount < INIT_CLUSTER_REGION_THRESHOLD && st.available > INITIAL_MIN_SPACE) return false;
  return st.available < st.capacity * (1 - lowSpaceRatio);
}
