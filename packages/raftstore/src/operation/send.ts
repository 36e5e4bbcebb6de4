/**
 * Sending raft messages: wrap each eraftpb message in a RaftMessage with the region's epoch and
 * range, encode it, and queue it per destination store for the end of the round (one transport
 * call per store per round). Snapshots (MsgSnap) go over the snapshot stream instead.
 */
import { MessageType, type Message } from '@mrkv/raft';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import { encodeOutgoingRaftMessage, encodeStoreRaftMessage } from '../wire/raft-message.js';

const EMPTY = new Uint8Array(0);

export function sendRaftMessages(peer: Peer, ctx: StoreContext, msgs: readonly Message[]): void {
  for (let i = 0; i < msgs.length; i++) sendRaftMessage(peer, ctx, msgs[i]!);
}

export function sendRaftMessage(peer: Peer, ctx: StoreContext, m: Message): void {
  const to = peer.peerById(m.to);
  if (to === undefined) {
    peer.logger.warn({ to: m.to, msgType: m.msgType }, 'no address for raft peer, message dropped');
    peer.rawNode.reportUnreachable(m.to);
    return;
  }
  const region = peer.region;
  if (m.msgType === MessageType.MsgSnap && m.snapshot !== undefined) {
    const data = m.snapshot.data;
    const head = encodeStoreRaftMessage({
      regionId: peer.regionId,
      fromPeer: peer.meta,
      toPeer: to,
      regionEpoch: region.regionEpoch,
      isTombstone: false,
      startKey: region.startKey,
      endKey: region.endKey,
      diskUsage: ctx.disk.usage,
      message: { ...m, snapshot: { ...m.snapshot, data: EMPTY } },
    });
    ctx.counters.snapshotsSent++;
    peer.snapshotsSent.set(m.to, { index: m.snapshot.metadata.index, tick: peer.ticks });
    ctx.sendSnapshot(peer.regionId, m.to, to.storeId, head, data);
    return;
  }
  // The per-message path: fields straight into a shared chunk (no RaftMessage object, no copy).
  const bytes = encodeOutgoingRaftMessage(peer.regionId, peer.meta, to, m, region.regionEpoch, false, region.startKey, region.endKey, ctx.disk.usage);
  queue(ctx, to.storeId, bytes);
}

/** Queues an encoded message for `storeId`; the round's `lightEnd` sends each store's queue at once. */
function queue(ctx: StoreContext, storeId: number, bytes: Uint8Array): void {
  let q = ctx.round.outbox.get(storeId);
  if (q === undefined) {
    q = [];
    ctx.round.outbox.set(storeId, q);
  }
  q.push(bytes);
}

/** Tells a peer of another store that it was removed (it destroys itself). */
export function sendTombstone(peer: Peer, ctx: StoreContext, to: { id: number; storeId: number }, term: number): void {
  const bytes = encodeStoreRaftMessage({
    regionId: peer.regionId,
    fromPeer: peer.meta,
    toPeer: { id: to.id, storeId: to.storeId, role: 'Voter' },
    regionEpoch: peer.region.regionEpoch,
    isTombstone: true,
    startKey: peer.region.startKey,
    endKey: peer.region.endKey,
    diskUsage: ctx.disk.usage,
    message: {
      msgType: MessageType.MsgHeartbeat,
      to: to.id,
      from: peer.peerId,
      term,
      logTerm: 0,
      index: 0,
      entries: [],
      commit: 0,
      reject: false,
      rejectHint: 0,
      requestSnapshot: 0,
      priority: 0,
    },
  });
  queue(ctx, to.storeId, bytes);
}
