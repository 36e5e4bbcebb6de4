/**
 * Leader transfer (TiKV `operation/command/admin/transfer_leader.rs`), in two steps:
 *
 * 1. The leader asks the target whether it is ready: a MsgTransferLeader carrying
 *    {@link TRANSFER_CHECK} goes to the target. Nothing is blocked meanwhile.
 * 2. The target answers with its applied index when it knows this leader and is a voter in the
 *    membership it has applied. The leader transfers only when the target has applied the last
 *    membership change the leader proposed (a peer that has not applied its own promotion refuses
 *    MsgTimeoutNow: "unpromotable"), no follower waits for a snapshot, and the target's log is
 *    within `leaderTransferMaxLogLag` of the leader's. Then raft catches the target up and tells it
 *    to campaign (MsgTimeoutNow); proposals are refused meanwhile and the transfer is abandoned
 *    after an election timeout.
 *
 * A refused check is only logged: PD sends the operator step again on the next heartbeat. The
 * lease is suspected once the transfer really starts: the target may become leader as soon as it
 * gets MsgTimeoutNow, without waiting for our lease.
 */
import { MessageType, ProgressState, newMessage, type Message } from '@mrkv/raft';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import { sendRaftMessage } from './send.js';

/** The context of the leader's "ready to take over?" MsgTransferLeader (and of the answer). */
export const TRANSFER_CHECK = new Uint8Array([0x6d, 0x74, 0x6c, 0x31]); // "mtl1"

function isTransferCheck(m: Message): boolean {
  const c = m.context;
  return m.msgType === MessageType.MsgTransferLeader && c !== undefined && c.length === TRANSFER_CHECK.length && c.every((b, i) => b === TRANSFER_CHECK[i]);
}

/** Starts a leader transfer by asking the target whether it is ready (step 1). */
export function transferLeader(peer: Peer, ctx: StoreContext, toPeerId: number): void {
  if (!peer.isLeader || toPeerId === peer.peerId) return;
  const to = peer.peerById(toPeerId);
  if (to === undefined) {
    peer.logger.warn({ to: toPeerId }, 'leader transfer to a peer not in the region ignored');
    return;
  }
  if (to.role !== 'Voter') {
    peer.logger.info({ to: toPeerId, role: to.role }, 'leader transfer to a non-voter refused');
    return;
  }
  const m = newMessage(MessageType.MsgTransferLeader, toPeerId, peer.peerId, peer.term);
  m.context = TRANSFER_CHECK;
  m.index = peer.storage.lastIndex();
  sendRaftMessage(peer, ctx, m);
}

/**
 * Handles the two messages of the readiness check; returns false for any other message (it is
 * stepped into raft as usual).
 */
export function onTransferLeaderCheck(peer: Peer, ctx: StoreContext, m: Message): boolean {
  if (!isTransferCheck(m)) return false;
  if (peer.isLeader) {
    const reason = notReadyReason(peer, ctx, m.from, m.index);
    if (reason !== undefined) {
      peer.logger.info({ to: m.from, applied: m.index, reason }, 'leader transfer refused: target not ready');
      return true;
    }
    peer.lease.suspect(ctx.clock.nowMs());
    peer.logger.info({ to: m.from }, 'transferring leadership');
    peer.rawNode.transferLeader(m.from);
    return true;
  }
  // The target: answer the leader we know with our applied index, if we can be elected.
  if (m.from !== peer.rawNode.lead || m.term !== peer.term) return true;
  // A store out of space does not take leadership (TiKV: a full follower rejects pre-transfer).
  if (peer.meta.role !== 'Voter' || peer.applyingSnapshot !== undefined || ctx.disk.usage === 'AlreadyFull') return true;
  const answer = newMessage(MessageType.MsgTransferLeader, m.from, peer.peerId, peer.term);
  answer.context = TRANSFER_CHECK;
  answer.index = peer.applied.index;
  sendRaftMessage(peer, ctx, answer);
  return true;
}

/** TiKV `ready_to_transfer_leader`: why the leader should not hand over to `to` now, if so. */
function notReadyReason(peer: Peer, ctx: StoreContext, to: number, targetApplied: number): string | undefined {
  const status = peer.rawNode.status();
  if (!status.config.voters.includes(to)) return 'not a voter';
  if (peer.appendsHeld.has(to)) return 'its store is out of disk space';
  for (const pr of status.progress.values()) if (pr.state === ProgressState.Snapshot) return 'a follower is receiving a snapshot';
  if (status.pendingConfIndex > targetApplied) return 'the target has not applied the last membership change';
  if (peer.storage.lastIndex() >= targetApplied + ctx.cfg.leaderTransferMaxLogLag) return 'the target lags too far behind';
  return undefined;
}
