/**
 * Conversions between pdpb / mrkv.pdadmin wire objects and @mrkv/pd's domain values. Gateway
 * code: `*FromWire` validates (ids below 2^53, enums known, a region with an epoch) and throws a
 * ProtoError; the services map that onto an INVALID_VALUE header or INVALID_ARGUMENT status.
 */
import { peerFromWire, peerToWire, regionFromWire, regionToWire, storeToWire, wireU64, type pdadmin, type pdpb } from '@mrkv/proto';
import {
  PdError,
  PdErrorCodes,
  describeStep,
  type HeartbeatCommand,
  type Operator,
  type RegionInfo,
  type ScatterOutcome,
  type StoreInfo,
  type StoreLoad,
  type StoreStats,
} from '@mrkv/pd';

function u64(v: string | number | null | undefined, field: string): number {
  return wireU64(v ?? 0, field);
}

/** A region heartbeat as PD's domain RegionInfo. Throws on a missing region or leader. */
export function regionInfoFromHeartbeat(req: pdpb.RegionHeartbeatRequest__Output): RegionInfo {
  if (req.region == null) throw new PdError(PdErrorCodes.INVALID_VALUE, 'region heartbeat without a region');
  if (req.leader == null) throw new PdError(PdErrorCodes.INVALID_VALUE, `region ${String(req.region.id)} heartbeat without a leader`);
  const start = u64(req.interval?.startTimestamp, 'TimeInterval.start_timestamp');
  const end = u64(req.interval?.endTimestamp, 'TimeInterval.end_timestamp');
  return {
    meta: regionFromWire(req.region),
    leader: peerFromWire(req.leader),
    term: u64(req.term, 'RegionHeartbeatRequest.term'),
    downPeers: req.downPeers.filter((d) => d.peer != null).map((d) => ({ peer: peerFromWire(d.peer!), downSeconds: u64(d.downSeconds, 'PeerStats.down_seconds') })),
    pendingPeers: req.pendingPeers.map(peerFromWire),
    approximateSize: u64(req.approximateSize, 'RegionHeartbeatRequest.approximate_size'),
    approximateKeys: u64(req.approximateKeys, 'RegionHeartbeatRequest.approximate_keys'),
    flow: {
      bytesWritten: u64(req.bytesWritten, 'RegionHeartbeatRequest.bytes_written'),
      bytesRead: u64(req.bytesRead, 'RegionHeartbeatRequest.bytes_read'),
      keysWritten: u64(req.keysWritten, 'RegionHeartbeatRequest.keys_written'),
      keysRead: u64(req.keysRead, 'RegionHeartbeatRequest.keys_read'),
      intervalSeconds: end > start ? end - start : 0,
    },
  };
}

/** pdpb.StoreStats as the store id and PD's StoreStats. */
export function storeStatsFromWire(s: pdpb.StoreStats__Output): { storeId: number; stats: StoreStats } {
  return {
    storeId: u64(s.storeId, 'StoreStats.store_id'),
    stats: {
      capacity: u64(s.capacity, 'StoreStats.capacity'),
      available: u64(s.available, 'StoreStats.available'),
      usedSize: u64(s.usedSize, 'StoreStats.used_size'),
      regionCount: u64(s.regionCount, 'StoreStats.region_count'),
      sendingSnapCount: u64(s.sendingSnapCount, 'StoreStats.sending_snap_count'),
      receivingSnapCount: u64(s.receivingSnapCount, 'StoreStats.receiving_snap_count'),
      applyingSnapCount: u64(s.applyingSnapCount, 'StoreStats.applying_snap_count'),
      isBusy: s.isBusy,
      bytesWritten: u64(s.bytesWritten, 'StoreStats.bytes_written'),
      keysWritten: u64(s.keysWritten, 'StoreStats.keys_written'),
      bytesRead: u64(s.bytesRead, 'StoreStats.bytes_read'),
      keysRead: u64(s.keysRead, 'StoreStats.keys_read'),
      startTime: u64(s.startTime, 'StoreStats.start_time'),
    },
  };
}

/** The StoreStats PD answers in GetStore. */
export function storeStatsToWire(storeId: number, s: StoreStats | undefined): pdpb.StoreStats | null {
  if (s === undefined) return null;
  return { ...s, storeId };
}

/** A HeartbeatCommand as the RegionHeartbeatResponse kvproto defines. */
export function heartbeatCommandToWire(cmd: HeartbeatCommand, clusterId: number): pdpb.RegionHeartbeatResponse {
  const base: pdpb.RegionHeartbeatResponse = {
    header: { clusterId },
    regionId: cmd.regionId,
    regionEpoch: { confVer: cmd.regionEpoch.confVer, version: cmd.regionEpoch.version },
    targetPeer: peerToWire(cmd.targetPeer),
  };
  const c = cmd.command;
  switch (c.kind) {
    case 'changePeer':
      return { ...base, changePeer: { peer: peerToWire(c.peer), changeType: c.changeType } };
    case 'transferLeader':
      return { ...base, transferLeader: { peer: peerToWire(c.peer), peers: c.peers.map(peerToWire) } };
    case 'merge':
      return { ...base, merge: { target: regionToWire(c.target) } };
    case 'splitRegion':
      return { ...base, splitRegion: { policy: c.policy, keys: c.keys.map((k) => Buffer.from(k)) } };
  }
}

/** The region fields of GetRegionResponse / pdpb.Region. */
export function regionFieldsToWire(r: RegionInfo): { region: pdpb.GetRegionResponse['region']; leader: pdpb.GetRegionResponse['leader']; downPeers: pdpb.PeerStats[]; pendingPeers: pdpb.GetRegionResponse['pendingPeers'] } {
  return {
    region: regionToWire(r.meta),
    leader: r.leader === undefined ? null : peerToWire(r.leader),
    downPeers: r.downPeers.map((d) => ({ peer: peerToWire(d.peer), downSeconds: d.downSeconds })),
    pendingPeers: r.pendingPeers.map(peerToWire),
  };
}

/** An admin StoreView. */
export function storeViewToWire(s: StoreInfo, status: string, load: StoreLoad | undefined, nowMs: number): pdadmin.StoreView {
  return {
    store: storeToWire(s.meta),
    status,
    regionCount: load?.regionCount ?? 0,
    leaderCount: load?.leaderCount ?? 0,
    regionSize: load?.regionSizeMib ?? 0,
    capacity: s.stats?.capacity ?? 0,
    available: s.stats?.available ?? 0,
    lastHeartbeatAgoMs: Math.max(0, Math.round(nowMs - s.lastHeartbeatMs)),
    pendingPeerCount: load?.pendingPeerCount ?? 0,
  };
}

/** An admin RegionView. */
export function regionViewToWire(r: RegionInfo, op: Operator | undefined): pdadmin.RegionView {
  return {
    ...regionFieldsToWire(r),
    approximateSize: r.approximateSize,
    approximateKeys: r.approximateKeys,
    bytesWritten: r.flow.bytesWritten,
    bytesRead: r.flow.bytesRead,
    keysWritten: r.flow.keysWritten,
    keysRead: r.flow.keysRead,
    term: r.term,
    operator: op === undefined ? '' : op.toString(),
  };
}

/** An admin OperatorView. */
export function operatorViewToWire(op: Operator, nowMs: number): pdadmin.OperatorView {
  return {
    id: op.id,
    regionId: op.regionId,
    desc: op.desc,
    kind: op.kind,
    source: op.source,
    status: op.status,
    steps: op.steps.map(describeStep),
    currentStep: op.currentStep,
    ageMs: Math.max(0, Math.round(nowMs - op.createdAtMs)),
    reason: op.reason,
  };
}

/** An admin ScatterRegionsResponse. */
export function scatterOutcomeToWire(out: ScatterOutcome, nowMs: number): pdadmin.ScatterRegionsResponse {
  return {
    group: out.group,
    operators: out.operators.map((o) => operatorViewToWire(o, nowMs)),
    skipped: out.skipped.map((s) => ({ regionId: s.regionId, code: s.code, reason: s.reason })),
  };
}
