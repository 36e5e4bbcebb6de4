/**
 * Reads: the leader lease and ReadIndex (TiKV `operation/query/{lease,replica}.rs`).
 *
 * Lease: a leader may read locally while its lease is valid. The lease is renewed to
 * `t + maxLeaderLease` whenever a quorum has acknowledged something sent after monotonic time
 * `t`: a proposal proposed at `t` committing, the term's first entry committing (t = the moment
 * of election), or a ReadIndex issued at `t` being confirmed by a heartbeat round. Because
 * peers refuse votes for an election timeout after hearing from a leader (CheckQuorum, leader
 * stickiness) and `maxLeaderLease` is shorter than that, no other leader can exist before the
 * lease ends. A new leader serves no read until an entry of its own term is applied.
 *
 * ReadIndex: when the lease is not valid, or on a follower (replica read), raft confirms
 * leadership with a heartbeat round and answers with the commit index; the read is served once
 * the peer has applied that index. Requests that get no answer (no leader) fail after two
 * election timeouts with ReadIndexNotReady, so clients retry elsewhere.
 */
import { StateRole, type ReadState, type SoftState } from '@mrkv/raft';
import { ReadIndexNotReadyError, RegionNotInitializedError } from '@mrkv/proto';
import type { ReadIndexResult } from '../fsm/msgs.js';
import { readKey, type Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import { notLeader } from './propose.js';

export function onRoleChange(peer: Peer, ctx: StoreContext, ss: SoftState): void {
  ctx.observers.roleChange(peer.regionId, peer.peerId, ss.raftState, peer.term, ss.lead);
  const wasLeader = peer.leader.since > 0;
  if (ss.raftState === StateRole.Leader) {
    if (!wasLeader) {
      peer.snapshotsSent.clear();
      peer.appendsHeld.clear();
      peer.leader.since = ctx.clock.nowMs();
      peer.leader.renewedForTerm = false;
      peer.leader.lastHeard.clear();
      // Report to PD at the next tick: PD learns the new leader quickly.
      peer.leader.heartbeatTicks = Number.MAX_SAFE_INTEGER;
      peer.logger.info({ term: peer.term }, 'became leader');
    }
    return;
  }
  if (wasLeader) {
    peer.leader.since = 0;
    peer.lease.expire();
    // Raft drops a deposed leader's pending ReadIndex requests: answer them now, retryably.
    failReads(peer, notLeader(peer));
    peer.logger.info({ term: peer.term, lead: ss.lead }, 'stepped down');
  }
}

/** Renews the lease for the term's first committed entry (the election round was a quorum ack). */
export function renewLeaseOnCommit(peer: Peer, _ctx: StoreContext): void {
  if (!peer.leader.renewedForTerm && peer.rawNode.committedEntryInCurrentTerm && peer.leader.since > 0) {
    peer.lease.renew(peer.leader.since);
    peer.leader.renewedForTerm = true;
  }
}

/** Renews the lease for proposals of this term that committed. */
export function renewLeaseForProposals(peer: Peer, proposedAt: number): void {
  if (peer.isLeader && proposedAt > 0) peer.lease.renew(proposedAt);
}

export function onReadIndex(peer: Peer, ctx: StoreContext, cb: (r: ReadIndexResult) => void): void {
  if (!peer.isInitialized) {
    cb({ ok: false, error: new RegionNotInitializedError({ regionId: peer.regionId }) });
    return;
  }
  if (!peer.isLeader && peer.rawNode.lead === 0) {
    cb({ ok: false, error: notLeader(peer) });
    return;
  }
  ctx.counters.readIndexReads++;
  // Reads of one poll round share one ReadIndex (one heartbeat round), as TiKV batches them.
  const last = peer.lastRead;
  const round = ctx.counters.raftRounds;
  if (last !== undefined && last.round === round && last.index === undefined && peer.reads.has(last.key)) {
    last.cbs.push(cb);
    return;
  }
  issueReadIndex(peer, ctx, [cb]);
}

function issueReadIndex(peer: Peer, ctx: StoreContext, cbs: Array<(r: ReadIndexResult) => void>): void {
  const uuid = peer.nextReadUuid();
  const key = readKey(uuid);
  const pr = { uuid, key, issuedAt: ctx.clock.nowMs(), issuedTick: peer.ticks, round: ctx.counters.raftRounds, cbs, index: undefined };
  peer.reads.set(key, pr);
  peer.lastRead = pr;
  ctx.counters.readIndexRounds++;
  peer.rawNode.readIndex(uuid);
}

/**
 * Renews the lease ahead of its end while lease reads keep coming (TiKV
 * `renew_leader_lease_advance_duration`): a ReadIndex round confirms leadership, and its answer
 * renews the lease from the moment it was sent, so steady reads never fall back to ReadIndex.
 */
export function renewLeaseInAdvance(peer: Peer, ctx: StoreContext): void {
  const readsSeen = peer.leaseReadSinceTick;
  peer.leaseReadSinceTick = false;
  if (!readsSeen || !peer.isLeader || !peer.rawNode.committedEntryInCurrentTerm) return;
  const now = ctx.clock.nowMs();
  const bound = peer.lease.validBound();
  if (bound === 0 || bound - now > ctx.cfg.maxLeaderLeaseMs / 3) return;
  if (peer.lastRead !== undefined && peer.lastRead.index === undefined && peer.reads.has(peer.lastRead.key)) return;
  issueReadIndex(peer, ctx, []);
}

export function onReadStates(peer: Peer, _ctx: StoreContext, states: readonly ReadState[]): void {
  for (const rs of states) {
    const pr = peer.readFor(rs);
    if (pr === undefined) continue;
    pr.index = rs.index;
    if (peer.isLeader) peer.lease.renew(pr.issuedAt);
  }
  completeReads(peer);
}

/** Answers reads whose index is applied. */
export function completeReads(peer: Peer): void {
  if (peer.reads.size === 0) return;
  for (const [k, pr] of peer.reads) {
    if (pr.index !== undefined && pr.index <= peer.applied.index) {
      peer.reads.delete(k);
      for (const cb of pr.cbs) cb({ ok: true, index: pr.index });
    }
  }
}

/** Fails reads that waited two election timeouts without an answer. */
export function tickReads(peer: Peer, ctx: StoreContext): void {
  if (peer.reads.size === 0) return;
  const limit = ctx.cfg.raftElectionTimeoutTicks * 2;
  for (const [k, pr] of peer.reads) {
    if (pr.index === undefined && peer.ticks - pr.issuedTick >= limit) {
      peer.reads.delete(k);
      const error = peer.isLeader || peer.rawNode.lead === 0
        ? new ReadIndexNotReadyError({ reason: 'read index not confirmed in time', regionId: peer.regionId })
        : notLeader(peer);
      for (const cb of pr.cbs) cb({ ok: false, error });
    }
  }
}

/** Fails every pending read (the peer is destroyed or stopping). */
export function failReads(peer: Peer, error: Error): void {
  for (const pr of peer.reads.values()) for (const cb of pr.cbs) cb({ ok: false, error });
  peer.reads.clear();
}
