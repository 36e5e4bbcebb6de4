/**
 * The peer FSM's dispatcher (raftstore-v2 `fsm/peer.rs`): each message type is one call into
 * `operation/`; after a batch of messages the round's data writes are proposed together and the
 * Ready is handled once.
 */
import { assertNever } from '@mrkv/common';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import type { PeerMsg } from './msgs.js';
import { onApplyRes } from '../operation/apply-res.js';
import { onPdOperator } from '../operation/pd.js';
import { flushProposals, onWrite, proposeAdmin } from '../operation/propose.js';
import { onRaftMessage } from '../operation/raft-message.js';
import { onReadIndex } from '../operation/read.js';
import { handleRaftReady, onPersisted } from '../operation/ready.js';
import { onSnapshotApplied, onSnapshotGenerated, onSnapshotStatus } from '../operation/snapshot.js';
import { onTick } from '../operation/tick.js';
import { onHashComputed } from '../operation/consistency.js';
import { onCatchUpLogs, onMerged, proposePrepareMerge } from '../operation/merge.js';
import { transferLeader } from '../operation/transfer-leader.js';

export function handlePeerMsgs(peer: Peer, ctx: StoreContext, msgs: readonly PeerMsg[]): void {
  for (const msg of msgs) {
    if (peer.destroyed) break;
    handlePeerMsg(peer, ctx, msg);
  }
  if (peer.destroyed) return;
  flushProposals(peer, ctx);
  handleRaftReady(peer, ctx);
}

function handlePeerMsg(peer: Peer, ctx: StoreContext, msg: PeerMsg): void {
  switch (msg.type) {
    case 'raft':
      return onRaftMessage(peer, ctx, msg.msg);
    case 'write':
      return onWrite(peer, ctx, msg);
    case 'admin':
      return proposeAdmin(peer, ctx, msg.admin, msg.cb);
    case 'readIndex':
      return onReadIndex(peer, ctx, msg.cb);
    case 'tick':
      return onTick(peer, ctx);
    case 'persisted':
      peer.unpersistedReadies--;
      return onPersisted(peer, ctx, msg.number, msg.messages);
    case 'applyRes':
      return onApplyRes(peer, ctx, msg);
    case 'snapshotGenerated':
      return onSnapshotGenerated(peer, msg.snapshot);
    case 'snapshotApplied':
      return onSnapshotApplied(peer, ctx, msg.region, msg.error);
    case 'snapshotStatus':
      return onSnapshotStatus(peer, msg.toPeerId, msg.ok);
    case 'storeUnreachable':
      for (const p of peer.region.peers) if (p.storeId === msg.storeId) peer.rawNode.reportUnreachable(p.id);
      return;
    case 'transferLeader':
      return transferLeader(peer, ctx, msg.peerId);
    case 'pdOperator':
      return onPdOperator(peer, ctx, msg.op);
    case 'campaign':
      if (!peer.isLeader) peer.rawNode.campaign();
      return;
    case 'hashComputed':
      return onHashComputed(peer, ctx, msg.index, msg.hash);
    case 'prepareMerge':
      return proposePrepareMerge(peer, ctx, msg.target, msg.cb);
    case 'merged':
      return onMerged(peer, ctx);
    case 'catchUpLogs':
      return onCatchUpLogs(peer, ctx, msg.entries, msg.commit);
    default:
      assertNever(msg);
  }
}
