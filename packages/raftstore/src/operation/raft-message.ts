/**
 * Stepping raft messages from other stores (TiKV `on_raft_message`): messages for another peer
 * id of this region are stale and dropped; a tombstone message destroys this peer when it is
 * really the one removed; senders not yet in the local region are remembered so replies reach
 * them; a leader notes when it last heard from each peer (down-peer reports).
 */
import { RaftInvariantViolation } from '@mrkv/raft';
import { findPeer } from '@mrkv/proto';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import type { StoreRaftMessage } from '../wire/raft-message.js';
import { destroyPeer } from './destroy.js';
import { recordPeerDiskUsage } from './disk-usage.js';
import { sendTombstone } from './send.js';
import { onTransferLeaderCheck } from './transfer-leader.js';

export function onRaftMessage(peer: Peer, ctx: StoreContext, m: StoreRaftMessage): void {
  if (peer.destroyed) return;
  ctx.counters.messagesReceived++;
  if (m.toPeer.id !== peer.peerId) {
    if (m.toPeer.id > peer.peerId && m.toPeer.storeId === ctx.storeId) {
      destroyPeer(peer, ctx, `replaced by peer ${m.toPeer.id}`);
    }
    return;
  }
  if (m.isTombstone) {
    if (!peer.isInitialized || m.regionEpoch.confVer > peer.region.regionEpoch.confVer) destroyPeer(peer, ctx, 'told it is a tombstone');
    return;
  }
  const from = m.fromPeer;
  if (findPeer(peer.region, from.id) === undefined) {
    // A sender unknown to an initialized region with a newer membership is a removed peer.
    if (peer.isInitialized && m.regionEpoch.confVer < peer.region.regionEpoch.confVer) {
      sendTombstone(peer, ctx, from, peer.term);
      return;
    }
    peer.peerCache.set(from.id, from);
  }
  if (peer.isLeader) peer.leader.lastHeard.set(from.id, ctx.clock.nowMs());
  recordPeerDiskUsage(peer, from.id, m.diskUsage ?? 'Normal');
  if (onTransferLeaderCheck(peer, ctx, m.message)) return;
  try {
    peer.rawNode.step(m.message);
  } catch (err) {
    if (err instanceof RaftInvariantViolation) throw err;
    peer.logger.debug({ err, msgType: m.message.msgType, from: from.id }, 'raft message refused');
  }
}
