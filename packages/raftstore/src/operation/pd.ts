/**
 * PD, peer side (TiKV `operation/pd.rs`): a leader reports its region (epoch, peers, leader,
 * down and pending peers, approximate size and keys, written bytes) on each PD heartbeat tick and
 * at once after its membership or range changed; PD answers on the heartbeat stream with operator
 * steps, executed here: membership changes, leader transfer and split.
 */
import { epochMatches } from '@mrkv/proto';
import { ProgressState } from '@mrkv/raft';
import type { PdOperator } from '../store/api.js';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import { dataEndKey, dataKey } from '@mrkv/engine';
import { proposeAdmin } from './propose.js';
import { askSplit } from './split.js';
import { transferLeader } from './transfer-leader.js';
import { proposePrepareMerge } from './merge.js';
import { splitInHalf } from './split-check.js';

export function heartbeatPd(peer: Peer, ctx: StoreContext): void {
  const pd = ctx.pd;
  if (pd === undefined || !peer.isLeader || !peer.isInitialized) return;
  peer.leader.heartbeatTicks = 0;
  const now = ctx.clock.nowMs();
  const status = peer.rawNode.status();
  const region = peer.region;
  const downPeers: Array<{ peer: import('@mrkv/proto').Peer; downSeconds: number }> = [];
  const pendingPeers: Array<import('@mrkv/proto').Peer> = [];
  for (const p of region.peers) {
    if (p.id === peer.peerId) continue;
    const heard = peer.leader.lastHeard.get(p.id) ?? peer.leader.since;
    const downMs = now - heard;
    if (downMs >= ctx.cfg.maxPeerDownDurationMs) downPeers.push({ peer: p, downSeconds: Math.floor(downMs / 1000) });
    const pr = status.progress.get(p.id);
    if (pr === undefined || pr.match < peer.storage.truncated.index || pr.state === ProgressState.Snapshot) pendingPeers.push(p);
  }
  peer.leader.hasPendingPeers = pendingPeers.length > 0 || downPeers.length > 0;
  const bytesWritten = peer.leader.writtenBytes;
  const keysWritten = peer.leader.writtenKeys;
  peer.leader.writtenBytes = 0;
  peer.leader.writtenKeys = 0;
  const intervalStart = Math.floor((ctx.clock.wallMs() - (now - (peer.leader.lastHeartbeatAt || now))) / 1000);
  peer.leader.lastHeartbeatAt = now;
  const term = peer.term;
  const leader = peer.meta;
  const end = region.endKey.length === 0 ? undefined : dataEndKey(region.endKey);
  ctx.kvEngine
    .approximateStats({ start: dataKey(region.startKey), end: end ?? dataEndKey(new Uint8Array()) })
    .catch(() => ({ bytes: 0, keys: 0, exact: false }))
    .then((stats) => {
      const t = Math.floor(ctx.clock.wallMs() / 1000);
      pd.regionHeartbeat({
        region,
        leader,
        term,
        downPeers,
        pendingPeers,
        bytesWritten,
        keysWritten,
        bytesRead: 0,
        keysRead: 0,
        approximateSize: stats.bytes,
        approximateKeys: stats.keys,
        intervalStart: Math.min(intervalStart, t),
        intervalEnd: t,
      });
    })
    .catch((err: unknown) => peer.logger.warn({ err }, 'region heartbeat failed'));
}

/** Executes an operator step PD sent for this region. */
export function onPdOperator(peer: Peer, ctx: StoreContext, op: PdOperator): void {
  if (!peer.isLeader) return;
  const log = (err?: Error) => {
    if (err !== undefined) peer.logger.warn({ err, op: op.kind }, 'PD operator step failed');
  };
  switch (op.kind) {
    case 'changePeer':
      proposeAdmin(peer, ctx, { t: 'changePeerV2', changes: [{ changeType: op.changeType, peer: op.peer }] }, (r) => log(r.ok ? undefined : r.error));
      return;
    case 'changePeerV2':
      proposeAdmin(peer, ctx, { t: 'changePeerV2', changes: op.changes }, (r) => log(r.ok ? undefined : r.error));
      return;
    case 'transferLeader':
      transferLeader(peer, ctx, op.peer.id);
      return;
    case 'splitRegion':
      if (op.keys.length > 0) askSplit(peer, ctx, op.keys, (r) => log(r.ok ? undefined : r.error));
      else splitInHalf(peer, ctx, log);
      return;
    case 'merge':
      proposePrepareMerge(peer, ctx, op.target, (r) => log(r.ok ? undefined : r.error));
      return;
  }
}

/** Whether an operator addressed to `epoch` still applies to the region. */
export function operatorEpochMatches(peer: Peer, epoch: import('@mrkv/proto').RegionEpoch | undefined): boolean {
  return epoch === undefined || epochMatches(epoch, peer.region.regionEpoch, { version: true, confVer: true });
}
