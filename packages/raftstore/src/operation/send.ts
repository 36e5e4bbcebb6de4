/**
 * Sending raft messages: wrap each eraftpb message in a RaftMessage with the region's epoch and
 * range, encode it, and queue it per destination store for the end of the round (one transport
 * call per store per round). Snapshots (MsgSnap) go over the snapshot stream instead.
 */
import { MessageType, type Message } from '@mrkv/raft';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import { encodeStoreRaftMessage } from '../wire/raft-message.js';

const EMPTY = new Uint8Array(0);

export function sendRaftMessages(peer: Peer, ctx: StoreContext, msgs: readonly Message[]): void {
  for (const m of msgs) sendRaftMessage(peer, ctx, m);
}

export function sendRaftMessage(peer: Peer, ctx: StoreContext, m: Message): void {
  const to = peer.peerById(m.to);
  if (to === undefined) {
    peer.logger.warn({ to: m.to, msgType: m.msgType }, 'no address for raft peer, message dropped');
    peer.rawNode.reportUnreachable(m.to);
    return;
  }
  const base = {
    regionId: peer.regionId,
    fromPeer: peer.meta,
    toPeer: to,
    regionEpoch: peer.region.regionEpoch,
    isTombstone: false,
    startKey: peer.region.startKey,
    endKey: peer.region.endKey,
    diskUsage: ctx.disk.usage,
  };
  if (m.msgType === MessageType.MsgSnap && m.snapshot !== undefined) {
    const data = m.snapshot.data;
    const head = encodeStoreRaftMessage({ ...base, message: { ...m, snapshot: { ...m.snapshot, data: EMPTY } } });
    ctx.counters.snapshotsSent++;
    ctx.sendSnapshot(peer.regionId, m.to, to.storeId, head, data);
    return;
  }
  const bytes = encodeStoreRaftMessage({ ...base, message: m });
  let q = ctx.round.outbox.get(to.storeId);
  if (q === undefined) {
    q = [];
    ctx.round.outbox.set(to.storeId, q);
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
  let q = ctx.round.outbox.get(to.storeId);
  if (q === undefined) {
    q = [];
    ctx.round.outbox.set(to.storeId, q);
  }
  q.push(bytes);
}
