/**
 * Snapshots, peer side (TiKV `operation/ready/snapshot.rs`).
 *
 * Sending: raft asks PeerStorage for a snapshot; the apply FSM generates it at its applied index
 * (apply/snapshot-gen.ts) and mails `snapshotGenerated`; raft then emits MsgSnap, which send.ts
 * streams to the follower's store; the stream's outcome comes back as `snapshotStatus` and is
 * reported to raft (a leader waits for that report before probing the follower again).
 *
 * Receiving: a Ready carrying a snapshot is made visible in PeerStorage and acknowledged to raft,
 * then the peer parks (no further Readies) while the apply FSM clears the region's range and
 * writes the snapshot's data, apply state and region state in one synced batch. Only then is the
 * raft log reset to the snapshot in the raft-log batch, and the parked Ready's entries, hard state
 * and messages follow. A crash between the two writes leaves the apply state ahead of the log;
 * recovery (store/recover.ts) restarts the log at the apply state's truncated index.
 */
import type { Ready } from '@mrkv/raft';
import { SnapshotStatus } from '@mrkv/raft';
import type { Region } from '@mrkv/proto';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import { sendCommitted } from './ready.js';
import { sendRaftMessages } from './send.js';
import { completeReads } from './read.js';

export function startApplySnapshot(peer: Peer, ctx: StoreContext, rd: Ready): void {
  const snap = rd.snapshot!;
  peer.storage.applySnapshot(snap);
  peer.storage.append(rd.entries);
  if (rd.hardState !== undefined) peer.storage.setHardState(rd.hardState);
  peer.rawNode.advanceAppendAsync(rd);
  sendRaftMessages(peer, ctx, rd.messages);
  peer.applyingSnapshot = {
    number: rd.number,
    snapshot: snap,
    entries: rd.entries,
    hardState: rd.hardState,
    persistedMessages: rd.persistedMessages,
    committedEntries: rd.committedEntries,
  };
  peer.logger.info({ index: snap.metadata.index, term: snap.metadata.term }, 'applying snapshot');
  ctx.sendApply(peer.regionId, { type: 'applySnapshot', snapshot: snap });
}

export function onSnapshotApplied(peer: Peer, ctx: StoreContext, region: Region | undefined, error: Error | undefined): void {
  const parked = peer.applyingSnapshot;
  if (parked === undefined || peer.destroyed) return;
  if (error !== undefined || region === undefined) {
    // The data could not be written: nothing of the snapshot is durable. Stop this peer; the store
    // recreates it from the engines on restart. Serving on would acknowledge entries after a hole.
    peer.logger.error({ err: error }, 'failed to apply snapshot; peer stopped');
    return;
  }
  peer.applyingSnapshot = undefined;
  const oldRegion = peer.region;
  peer.region = region;
  if (oldRegion.peers.length > 0) ctx.meta.removeRegion(oldRegion.id);
  ctx.meta.setRegion(region);
  ctx.observers.regionChange(region, 'update');
  const idx = parked.snapshot.metadata.index;
  const batch = (ctx.round.batch ??= ctx.raftEngine.newBatch());
  batch.reset(peer.regionId, idx, parked.snapshot.metadata.term);
  if (parked.entries.length > 0) batch.append(peer.regionId, parked.entries);
  batch.setHardState(peer.regionId, peer.storage.hardState);
  ctx.round.sync = true;
  peer.unpersistedReadies++;
  ctx.round.persisted.push({ regionId: peer.regionId, number: parked.number, messages: parked.persistedMessages });
  peer.applied = { index: idx, term: parked.snapshot.metadata.term };
  ctx.counters.snapshotsApplied++;
  if (parked.committedEntries.length > 0) sendCommitted(peer, ctx, parked.committedEntries);
  completeReads(peer);
  peer.logger.info({ index: idx, startKey: region.startKey, endKey: region.endKey }, 'snapshot applied');
}

export function onSnapshotGenerated(peer: Peer, snap: import('@mrkv/raft').Snapshot | undefined): void {
  peer.storage.onSnapshotGenerated(snap);
  if (snap === undefined) return;
  // Every follower waiting for a snapshot retries now (raft picks who needs one).
  if (!peer.isLeader) return;
  for (const id of peer.rawNode.status().progress.keys()) if (id !== peer.peerId) peer.rawNode.onSnapshotGenerated(id);
}

export function onSnapshotStatus(peer: Peer, toPeerId: number, ok: boolean): void {
  // Not delivered: raft log GC need not keep the entries after it (raft sends a newer one).
  if (!ok) peer.snapshotsSent.delete(toPeerId);
  peer.rawNode.reportSnapshot(toPeerId, ok ? SnapshotStatus.Finish : SnapshotStatus.Failure);
}
