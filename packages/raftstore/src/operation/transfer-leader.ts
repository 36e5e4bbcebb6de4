/**
 * Leader transfer (TiKV `operation/command/admin/transfer_leader.rs`): raft catches the target
 * up and then tells it to campaign (MsgTimeoutNow); proposals are refused meanwhile and the
 * transfer is abandoned after an election timeout. The lease is suspected from the start: the
 * target may become leader as soon as it gets MsgTimeoutNow, without waiting for our lease.
 */
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';

export function transferLeader(peer: Peer, ctx: StoreContext, toPeerId: number): void {
  if (!peer.isLeader || toPeerId === peer.peerId) return;
  if (peer.peerById(toPeerId) === undefined) {
    peer.logger.warn({ to: toPeerId }, 'leader transfer to a peer not in the region ignored');
    return;
  }
  peer.lease.suspect(ctx.clock.nowMs());
  peer.logger.info({ to: toPeerId }, 'transferring leadership');
  peer.rawNode.transferLeader(toPeerId);
}
