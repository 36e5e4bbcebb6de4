/**
 * Handling raft's Ready (TiKV `operation/ready/mod.rs`), asynchronously persisted.
 *
 * Process overview, per peer per poll round:
 *   1. messages that need no persistence (a leader's appends and heartbeats, thesis §10.2.1)
 *      are queued for sending at once;
 *   2. committed entries go to the apply FSM together with the proposals waiting on them;
 *   3. entries and hard state go into the round's single raft-log write batch; the Ready is
 *      acknowledged to raft (`advanceAppendAsync`) at once and reported durable
 *      (`onPersistReady`) once the batch's one fsync finished, in the `persisted` message the
 *      round's `end` mails back — only then are votes and append acks sent (group commit);
 *   4. a Ready with a snapshot parks the peer until the apply side installed the snapshot data
 *      (snapshot.ts), because the log may only restart after the data it stands for is written.
 * ReadIndex answers and leadership changes are handled here too (read.ts, role.ts).
 */
import type { Message } from '@mrkv/raft';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import { onReadStates, onRoleChange, renewLeaseForProposals, renewLeaseOnCommit } from './read.js';
import { sendRaftMessages } from './send.js';
import { startApplySnapshot } from './snapshot.js';

export function handleRaftReady(peer: Peer, ctx: StoreContext): void {
  if (peer.destroyed || peer.applyingSnapshot !== undefined) return;
  if (!peer.rawNode.hasReady()) return;
  const rd = peer.rawNode.ready();
  if (rd.softState !== undefined) onRoleChange(peer, ctx, rd.softState);
  if (rd.snapshot !== undefined) {
    startApplySnapshot(peer, ctx, rd);
    return;
  }
  sendRaftMessages(peer, ctx, rd.messages);
  if (rd.committedEntries.length > 0) sendCommitted(peer, ctx, rd.committedEntries);
  if (rd.readStates.length > 0) onReadStates(peer, ctx, rd.readStates);
  peer.storage.append(rd.entries);
  if (rd.hardState !== undefined) peer.storage.setHardState(rd.hardState);
  peer.rawNode.advanceAppendAsync(rd);
  if (rd.entries.length > 0 || rd.hardState !== undefined) {
    const batch = (ctx.round.batch ??= ctx.raftEngine.newBatch());
    if (rd.entries.length > 0) batch.append(peer.regionId, rd.entries);
    if (rd.hardState !== undefined) batch.setHardState(peer.regionId, rd.hardState);
    if (rd.mustSync) ctx.round.sync = true;
    persistLater(peer, ctx, rd.number, rd.persistedMessages);
  } else if (peer.unpersistedReadies > 0) {
    // Readies are acknowledged in order: wait behind the ones in this round's batch.
    persistLater(peer, ctx, rd.number, rd.persistedMessages);
  } else {
    onPersisted(peer, ctx, rd.number, rd.persistedMessages);
  }
  if (peer.isLeader) renewLeaseOnCommit(peer, ctx);
}

function persistLater(peer: Peer, ctx: StoreContext, number: number, messages: readonly Message[]): void {
  peer.unpersistedReadies++;
  ctx.round.persisted.push({ regionId: peer.regionId, number, messages });
}

/** The writes of Readies up to `number` are durable. */
export function onPersisted(peer: Peer, ctx: StoreContext, number: number, messages: readonly Message[]): void {
  if (peer.destroyed) return;
  peer.rawNode.onPersistReady(number);
  sendRaftMessages(peer, ctx, messages);
  syncApplied(peer);
}

/**
 * Tells raft what is applied, never beyond what it knows is durable (a snapshot counts as
 * applied once its Ready is persisted).
 */
export function syncApplied(peer: Peer): void {
  // Per persisted Ready: getters, not basicStatus() (an object of 13 fields each time).
  const node = peer.rawNode;
  const to = Math.min(peer.applied.index, node.commitIndex, node.persistedIndex);
  if (to > node.appliedIndex) node.advanceApplyTo(to);
}

/** Hands committed entries, and the proposals they answer, to the apply FSM. */
export function sendCommitted(peer: Peer, ctx: StoreContext, entries: import('@mrkv/raft').Entry[]): void {
  const last = entries[entries.length - 1]!.index;
  let n = 0;
  while (n < peer.proposals.length && peer.proposals[n]!.index <= last) n++;
  const proposals = n === 0 ? [] : peer.proposals.splice(0, n);
  let latest = 0;
  for (const p of proposals) if (p.term === peer.term && p.proposedAt > latest) latest = p.proposedAt;
  renewLeaseForProposals(peer, latest);
  ctx.sendApply(peer.regionId, { type: 'apply', term: peer.term, entries, proposals });
}
