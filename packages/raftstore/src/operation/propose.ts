/**
 * Proposing commands (TiKV `operation/command/mod.rs`).
 *
 * Process overview:
 *   1. data writes mailed to the peer during a poll round are collected into one batch
 *      (`onWrite`), so N client writes of one region in one round cost one log entry;
 *   2. before the peer's Ready is taken, the batch is proposed as one RaftCmd stamped with the
 *      region epoch and term (`flushProposals`), and its callbacks wait as a `Proposal` at the
 *      entry's index;
 *   3. admin commands are proposed one by one (`proposeAdmin`); membership changes go through
 *      raft's ConfChangeV2 with the RaftCmd in the change's context, as TiKV does;
 *   4. the apply side checks the epoch again and answers each callback after its write.
 * A data write is refused with DiskFull when the leader's store or a majority of the voters' stores
 * is low on disk space (disk-usage.ts); admin commands are never refused for that.
 * A follower refuses with NotLeader (with the leader hint); TiKV proposals are never forwarded.
 */
import { ConfChangeTransition, ConfChangeType, RaftCodes, type ConfChangeSingle } from '@mrkv/raft';
import { NotLeaderError, ProposalInMergingModeError, RaftEntryTooLargeError, ServerIsBusyError } from '@mrkv/proto';
import type { CmdCallback, CmdResult, PeerMsg } from '../fsm/msgs.js';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import { encodeRaftCmd, type AdminCmd } from '../wire/raft-cmd.js';
import { checkDiskFull } from './disk-usage.js';

type WriteMsg = Extract<PeerMsg, { type: 'write' }>;

export function notLeader(peer: Peer): NotLeaderError {
  const leader = peer.leaderMeta();
  return new NotLeaderError(leader === undefined ? { regionId: peer.regionId } : { regionId: peer.regionId, leader });
}

/** Queues a data write for this round's batch. */
export function onWrite(peer: Peer, ctx: StoreContext, msg: WriteMsg): void {
  if (!peer.isLeader) {
    msg.cb({ ok: false, error: notLeader(peer) });
    return;
  }
  if (!ctx.observers.empty) {
    const refused = ctx.observers.prePropose(peer.regionId, msg.requests);
    if (refused !== undefined) {
      msg.cb({ ok: false, error: refused });
      return;
    }
  }
  if (peer.merging !== undefined) {
    msg.cb({ ok: false, error: new ProposalInMergingModeError({ regionId: peer.regionId }) });
    return;
  }
  const full = checkDiskFull(peer, ctx, msg.diskFullOpt);
  if (full !== undefined) {
    ctx.counters.diskFullRefusals++;
    msg.cb({ ok: false, error: full });
    return;
  }
  if (peer.proposals.length >= ctx.cfg.maxPendingProposals) {
    msg.cb({
      ok: false,
      error: new ServerIsBusyError({ reason: `region ${peer.regionId} has ${peer.proposals.length} proposals in flight`, backoffMs: 50, estimatedWaitMs: 0, appliedIndex: peer.applied.index }),
    });
    return;
  }
  if (msg.bytes > ctx.cfg.raftEntryMaxSize) {
    msg.cb({ ok: false, error: new RaftEntryTooLargeError({ regionId: peer.regionId, entrySize: msg.bytes }) });
    return;
  }
  if (peer.batch !== undefined && peer.batch.bytes + msg.bytes > ctx.cfg.raftEntryMaxSize) flushProposals(peer, ctx);
  peer.leader.writtenBytes += msg.bytes;
  peer.leader.writtenKeys += msg.requests.length;
  const b = (peer.batch ??= { requests: [], parts: [], bytes: 0 });
  const from = b.requests.length;
  for (const r of msg.requests) b.requests.push(r);
  b.parts.push({ cb: msg.cb, from, to: b.requests.length });
  b.bytes += msg.bytes;
}

/** Proposes this round's data writes as one entry. */
export function flushProposals(peer: Peer, ctx: StoreContext): void {
  const b = peer.batch;
  if (b === undefined) return;
  peer.batch = undefined;
  const parts = b.parts;
  const cb: CmdCallback =
    parts.length === 1
      ? parts[0]!.cb
      : (r: CmdResult) => {
          for (const p of parts) p.cb(r.ok ? { ok: true, responses: r.responses.slice(p.from, p.to) } : r);
        };
  const data = encodeRaftCmd({ header: header(peer), requests: b.requests });
  proposeData(peer, ctx, data, cb);
  ctx.counters.proposedCommands += parts.length;
}

function header(peer: Peer) {
  return { regionId: peer.regionId, peer: peer.meta, epoch: peer.region.regionEpoch, term: peer.term };
}

function proposeData(peer: Peer, ctx: StoreContext, data: Uint8Array, cb: CmdCallback): void {
  if (!peer.isLeader) {
    cb({ ok: false, error: notLeader(peer) });
    return;
  }
  const proposedAt = ctx.clock.nowMs();
  try {
    peer.rawNode.propose(data);
  } catch (err) {
    cb({ ok: false, error: proposalError(peer, err) });
    return;
  }
  track(peer, ctx, cb, proposedAt);
}

function track(peer: Peer, ctx: StoreContext, cb: CmdCallback, proposedAt: number): void {
  const index = peer.rawNode.lastIndex;
  peer.proposals.push({ index, term: peer.term, cb, proposedAt });
  ctx.counters.proposals++;
}

function proposalError(peer: Peer, err: unknown): Error {
  if ((err as { code?: string }).code === RaftCodes.PROPOSAL_DROPPED) return notLeader(peer);
  return err instanceof Error ? err : new Error(String(err));
}

const CHANGE_TYPE = { AddNode: ConfChangeType.AddNode, RemoveNode: ConfChangeType.RemoveNode, AddLearnerNode: ConfChangeType.AddLearnerNode } as const;

/** Proposes one admin command. */
export function proposeAdmin(peer: Peer, ctx: StoreContext, admin: AdminCmd, cb: CmdCallback): void {
  if (!peer.isLeader) {
    cb({ ok: false, error: notLeader(peer) });
    return;
  }
  flushProposals(peer, ctx);
  const data = encodeRaftCmd({ header: header(peer), requests: [], admin });
  if (admin.t !== 'changePeerV2') {
    proposeData(peer, ctx, data, cb);
    return;
  }
  const changes: ConfChangeSingle[] = admin.changes.map((c) => ({ changeType: CHANGE_TYPE[c.changeType], nodeId: c.peer.id }));
  const proposedAt = ctx.clock.nowMs();
  try {
    peer.rawNode.proposeConfChange({ transition: ConfChangeTransition.Auto, changes, context: data });
  } catch (err) {
    cb({ ok: false, error: proposalError(peer, err) });
    return;
  }
  for (const c of admin.changes) if (c.changeType !== 'RemoveNode') peer.peerCache.set(c.peer.id, c.peer);
  track(peer, ctx, cb, proposedAt);
}
