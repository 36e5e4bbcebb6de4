/**
 * Following the apply side (TiKV `on_apply_res`): the applied index moves raft's applied index
 * and completes waiting reads; admin results change the peer — a membership change is applied to
 * raft and the region, a compacted log is dropped from the cache and the raft-log engine, a
 * split creates the new peers (split.ts).
 */
import { findPeer, type Region } from '@mrkv/proto';
import type { ExecResult, PeerMsg } from '../fsm/msgs.js';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import { destroyPeer } from './destroy.js';
import { heartbeatPd } from './pd.js';
import { completeReads } from './read.js';
import { syncApplied } from './ready.js';
import { sendTombstone } from './send.js';
import { onSplitApplied } from './split.js';
import { onVerifyHash } from './consistency.js';
import { onCommitMergeApplied, onPrepareMergeApplied, onRollbackMergeApplied } from './merge.js';

export function onApplyRes(peer: Peer, ctx: StoreContext, msg: Extract<PeerMsg, { type: 'applyRes' }>): void {
  if (peer.destroyed) return;
  if (msg.appliedIndex > peer.applied.index) {
    peer.applied = { index: msg.appliedIndex, term: msg.appliedTerm };
    syncApplied(peer);
  }
  for (const r of msg.results) onExecResult(peer, ctx, r);
  completeReads(peer);
}

function onExecResult(peer: Peer, ctx: StoreContext, r: ExecResult): void {
  if (peer.destroyed) return;
  switch (r.t) {
    case 'confChange':
      onConfChangeApplied(peer, ctx, r.region, r.cc);
      return;
    case 'compactLog':
      onCompactLogApplied(peer, ctx, r.index);
      return;
    case 'split':
      onSplitApplied(peer, ctx, r.regions, r.derived);
      return;
    case 'verifyHash':
      onVerifyHash(peer, ctx, r.index, r.hash);
      return;
    case 'prepareMerge':
      onPrepareMergeApplied(peer, ctx, r.region, r.state);
      return;
    case 'commitMerge':
      onCommitMergeApplied(peer, ctx, r.region, r.source);
      return;
    case 'rollbackMerge':
      onRollbackMergeApplied(peer, ctx, r.region);
      return;
  }
}

function onConfChangeApplied(peer: Peer, ctx: StoreContext, region: Region, cc: import('@mrkv/raft').ConfChangeV2 | undefined): void {
  const old = peer.region;
  peer.region = region;
  ctx.meta.setRegion(region);
  ctx.observers.regionChange(region, 'update');
  if (cc !== undefined) {
    try {
      peer.rawNode.applyConfChange(cc);
    } catch (err) {
      peer.logger.error({ err }, 'raft refused an applied membership change');
    }
  }
  peer.logger.info({ confVer: region.regionEpoch.confVer, peers: region.peers.map((p) => `${p.id}@${p.storeId}:${p.role}`) }, 'membership changed');
  if (findPeer(region, peer.peerId) === undefined) {
    destroyPeer(peer, ctx, 'removed from the region');
    return;
  }
  if (peer.isLeader) {
    for (const p of old.peers) if (findPeer(region, p.id) === undefined) sendTombstone(peer, ctx, p, peer.term);
    heartbeatPd(peer, ctx);
  }
}

function onCompactLogApplied(peer: Peer, ctx: StoreContext, index: number): void {
  if (index <= peer.storage.truncated.index) return;
  peer.storage.compactTo(index);
  const batch = (ctx.round.batch ??= ctx.raftEngine.newBatch());
  batch.compact(peer.regionId, peer.storage.truncated.index + 1);
}
