/**
 * What PD knows about one region: its metadata (range, epoch, peers) plus what the leader last
 * reported in a heartbeat (leader, term, down and pending peers, size and flow). PD `RegionInfo`
 * (pkg/core/region.go). Immutable: a heartbeat replaces the whole object, so the schedulers can
 * hold one while the tree moves on.
 */
import { cloneRegion, type Peer, type Region } from '@mrkv/proto';

/** A peer the leader reports as unreachable for `downSeconds`. */
export interface DownPeer {
  readonly peer: Peer;
  readonly downSeconds: number;
}

/** Flow over the last heartbeat interval. */
export interface RegionFlow {
  readonly bytesWritten: number;
  readonly bytesRead: number;
  readonly keysWritten: number;
  readonly keysRead: number;
  /** Seconds the counters cover (0 when unknown). */
  readonly intervalSeconds: number;
}

export interface RegionInfo {
  readonly meta: Region;
  /** The leader peer; undefined when PD knows none (a region loaded from storage, or reported by split). */
  readonly leader: Peer | undefined;
  /** Raft term of the leader's report (0 when unknown). */
  readonly term: number;
  readonly downPeers: readonly DownPeer[];
  readonly pendingPeers: readonly Peer[];
  /** Approximate size in bytes, as TiKV reports it. */
  readonly approximateSize: number;
  readonly approximateKeys: number;
  readonly flow: RegionFlow;
}

/** No flow (regions loaded from storage or created by a split report). */
export const NO_FLOW: RegionFlow = Object.freeze({ bytesWritten: 0, bytesRead: 0, keysWritten: 0, keysRead: 0, intervalSeconds: 0 });

/** A RegionInfo that knows only the metadata (no leader, no stats). */
export function regionInfoFromMeta(meta: Region, leader?: Peer): RegionInfo {
  return { meta: cloneRegion(meta), leader, term: 0, downPeers: [], pendingPeers: [], approximateSize: 0, approximateKeys: 0, flow: NO_FLOW };
}

/** The region's peer on `storeId`, if any. */
export function peerOnStore(r: RegionInfo, storeId: number): Peer | undefined {
  return r.meta.peers.find((p) => p.storeId === storeId);
}

/** Voters (including joint-state voters) of the region. */
export function voters(r: RegionInfo): Peer[] {
  return r.meta.peers.filter((p) => p.role !== 'Learner');
}

/** Learners of the region. */
export function learners(r: RegionInfo): Peer[] {
  return r.meta.peers.filter((p) => p.role === 'Learner');
}

/** True if the leader reports `peer` as pending (needs a snapshot or catching up). */
export function isPending(r: RegionInfo, peerId: number): boolean {
  return r.pendingPeers.some((p) => p.id === peerId);
}

/** True if the leader reports `peer` as down. */
export function isDownPeer(r: RegionInfo, peerId: number): boolean {
  return r.downPeers.some((d) => d.peer.id === peerId);
}

/** Approximate size in MiB as PD counts it: a non-empty region is at least 1 MiB. */
export function sizeMib(r: RegionInfo): number {
  return r.approximateSize === 0 ? 0 : Math.max(1, Math.round(r.approximateSize / (1 << 20)));
}

/** Bytes written per second over the last interval (0 when unknown). */
export function writeRate(r: RegionInfo): number {
  return r.flow.intervalSeconds > 0 ? r.flow.bytesWritten / r.flow.intervalSeconds : 0;
}

/** Fields that, when changed, make PD persist the region (PD saves on meta changes only). */
export function metaChanged(a: Region, b: Region): boolean {
  if (a.regionEpoch.version !== b.regionEpoch.version || a.regionEpoch.confVer !== b.regionEpoch.confVer) return true;
  if (a.peers.length !== b.peers.length) return true;
  if (Buffer.compare(a.startKey, b.startKey) !== 0 || Buffer.compare(a.endKey, b.endKey) !== 0) return true;
  return a.peers.some((p, i) => {
    const q = b.peers[i]!;
    return p.id !== q.id || p.storeId !== q.storeId || p.role !== q.role;
  });
}
