/**
 * The step functions of followers and (pre-)candidates (etcd `stepFollower`, `stepCandidate`).
 * A follower accepts the leader's appends, heartbeats and snapshots, forwards proposals, reads
 * and transfer requests to the leader, and starts an election when told to (MsgTimeoutNow).
 * A candidate counts votes (Raft paper §5.2) and falls back to follower when it hears from a
 * leader of its term.
 */
import type { Message, Snapshot } from './types.js';
import { MessageType, NONE, StateRole, messageTypeName, newMessage } from './types.js';
import { restoreConfig } from './confchange/restore.js';
import { RaftCodes, RaftError, proposalDropped } from './errors.js';
import { debugEnabled } from './logger.js';
import { VoteResult } from './quorum/majority.js';
import type { Raft } from './raft.js';
import { CampaignType, campaign, hup, poll } from './raft-election.js';
import { ProgressTracker } from './tracker/tracker.js';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.msgType) {
    case MessageType.MsgProp:
      forwardProposal(r, m);
      return;
    case MessageType.MsgApp:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return;
    case MessageType.MsgHeartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case MessageType.MsgSnap:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case MessageType.MsgTransferLeader:
      forwardToLeader(r, m, 'leader transfer msg');
      return;
    case MessageType.MsgTimeoutNow:
      r.logger.info({ from: m.from, term: r.term }, `${r.id} [term ${r.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership`);
      // Transfers skip PreVote: the leader asked for this election, no partition to guard against.
      hup(r, CampaignType.Transfer);
      return;
    case MessageType.MsgReadIndex:
      forwardToLeader(r, m, 'index reading msg');
      return;
    case MessageType.MsgReadIndexResp:
      if (m.entries.length !== 1) {
        r.logger.error({ from: m.from, entries: m.entries.length }, `${r.id} invalid format of MsgReadIndexResp from ${m.from}, entries count: ${m.entries.length}`);
        return;
      }
      r.addReadState(m.index, m.entries[0]!.data);
      return;
  }
}

function forwardProposal(r: Raft, m: Message): void {
  if (r.lead === NONE) {
    r.logger.info({ term: r.term }, `${r.id} no leader at term ${r.term}; dropping proposal`);
    throw proposalDropped('no leader', { term: r.term });
  }
  if (r.cfg.disableProposalForwarding) {
    r.logger.info({ lead: r.lead, term: r.term }, `${r.id} not forwarding to leader ${r.lead} at term ${r.term}; dropping proposal`);
    throw proposalDropped('proposal forwarding is disabled', { lead: r.lead });
  }
  r.forward(m, r.lead);
}

function forwardToLeader(r: Raft, m: Message, what: string): void {
  if (r.lead === NONE) {
    r.logger.info({ term: r.term }, `${r.id} no leader at term ${r.term}; dropping ${what}`);
    return;
  }
  r.forward(m, r.lead);
}

export function stepCandidate(r: Raft, m: Message): void {
  const myVoteResp = r.state === StateRole.PreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
  switch (m.msgType) {
    case MessageType.MsgProp:
      r.logger.info({ term: r.term }, `${r.id} no leader at term ${r.term}; dropping proposal`);
      throw proposalDropped('no leader (campaigning)', { term: r.term });
    case MessageType.MsgApp:
      r.becomeFollower(m.term, m.from); // m.term === r.term here
      handleAppendEntries(r, m);
      return;
    case MessageType.MsgHeartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.MsgSnap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case myVoteResp:
      handleVoteResponse(r, m);
      return;
    case MessageType.MsgTimeoutNow:
      if (debugEnabled(r.logger)) r.logger.debug({ from: m.from }, `${r.id} [term ${r.term} state ${r.state}] ignored MsgTimeoutNow from ${m.from}`);
      return;
  }
}

function handleVoteResponse(r: Raft, m: Message): void {
  const res = poll(r, m.from, m.msgType, !m.reject);
  const { granted, rejected } = r.trk.tallyVotes();
  r.logger.info({ granted, rejected }, `${r.id} has received ${granted} ${messageTypeName(m.msgType)} votes and ${rejected} vote rejections`);
  if (res === VoteResult.Won) {
    if (r.state === StateRole.PreCandidate) {
      campaign(r, CampaignType.Election);
    } else {
      r.becomeLeader();
      r.bcastAppend();
    }
  } else if (res === VoteResult.Lost) {
    // A MsgPreVoteResp carries the pre-candidate's future term; stay at ours.
    r.becomeFollower(r.term, NONE);
  }
}

// ---------------------------------------------------------------------------------------------
// Handlers shared by followers and candidates (a candidate first becomes a follower).

export function handleAppendEntries(r: Raft, m: Message): void {
  const resp = newMessage(MessageType.MsgAppResp, m.from, r.id, 0);
  if (m.index < r.log.committed) {
    // Everything up to our commit index matches already; tell the leader where we are.
    resp.index = r.log.committed;
    r.send(resp);
    return;
  }
  const lastNew = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew >= 0) {
    resp.index = lastNew;
    r.send(resp);
    return;
  }
  // Our log does not contain (m.index, m.logTerm). Hint the leader at the largest (index,
  // term) that may match: the last entry at or before m.index with a term ≤ m.logTerm. This
  // skips our whole uncommitted tail of higher terms at once (fast backtracking).
  const hintIndex = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm);
  if (debugEnabled(r.logger)) {
    r.logger.debug(
      { from: m.from, index: m.index },
      `${r.id} [logterm: ${r.log.term(m.index)}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
    );
  }
  resp.index = m.index;
  resp.reject = true;
  resp.rejectHint = hintIndex;
  resp.logTerm = r.log.term(hintIndex);
  r.send(resp);
}

export function handleHeartbeat(r: Raft, m: Message): void {
  if (m.commit > r.log.lastIndex()) {
    // The leader only sends commit ≤ what it knows we have. A larger one means our log lost
    // acknowledged entries (or the message is bogus): refuse it loudly, do not crash.
    r.logger.error({ from: m.from, commit: m.commit, lastIndex: r.log.lastIndex() }, `${r.id} refused heartbeat commit ${m.commit} beyond its last index ${r.log.lastIndex()}; was the raft log lost?`);
    throw new RaftError(RaftCodes.INVALID_MESSAGE, `heartbeat commit ${m.commit} is beyond the last index ${r.log.lastIndex()}`, {
      details: { from: m.from, commit: m.commit, lastIndex: r.log.lastIndex() },
    });
  }
  r.log.commitTo(m.commit);
  const resp = newMessage(MessageType.MsgHeartbeatResp, m.from, r.id, 0);
  resp.context = m.context;
  r.send(resp);
}

export function handleSnapshot(r: Raft, m: Message): void {
  const s = m.snapshot!;
  const { index, term } = s.metadata;
  const resp = newMessage(MessageType.MsgAppResp, m.from, r.id, 0);
  if (restoreSnapshot(r, s)) {
    resp.index = r.log.lastIndex();
  } else {
    r.logger.info({ index, term }, `${r.id} [commit: ${r.log.committed}] ignored snapshot [index: ${index}, term: ${term}]`);
    resp.index = r.log.committed;
  }
  r.send(resp);
}

/** Installs a snapshot from the leader; false when it is not needed. */
function restoreSnapshot(r: Raft, s: Snapshot): boolean {
  const { index, term, confState: cs } = s.metadata;
  if (index <= r.log.committed) return false;
  if (r.state !== StateRole.Follower) {
    // Defense in depth: a snapshot only comes from a leader, which made us a follower.
    r.logger.warn({}, `${r.id} attempted to restore snapshot as ${r.state === StateRole.Leader ? 'leader' : 'candidate'}; should never happen`);
    r.becomeFollower(r.term + 1, NONE);
    return false;
  }
  // Defense in depth: a snapshot that does not include us would leave us without Progress.
  if (!cs.voters.includes(r.id) && !cs.learners.includes(r.id) && !cs.votersOutgoing.includes(r.id)) {
    r.logger.warn({}, `${r.id} attempted to restore snapshot but it is not in the ConfState; should never happen`);
    return false;
  }
  if (r.log.matchTerm(index, term)) {
    // We have the entry already: just move commit forward.
    r.logger.info(
      { index, term },
      `${r.id} [commit: ${r.log.committed}, lastindex: ${r.log.lastIndex()}, lastterm: ${r.log.lastTerm()}] fast-forwarded commit to snapshot [index: ${index}, term: ${term}]`,
    );
    r.log.commitTo(index);
    return false;
  }
  // Validate the configuration before touching the log.
  const fresh = new ProgressTracker(r.trk.maxInflight, r.trk.maxInflightBytes);
  let restored;
  try {
    restored = restoreConfig(fresh, index, cs);
  } catch (e) {
    r.logger.error({ err: e }, `${r.id} refused snapshot [index: ${index}, term: ${term}] with an invalid configuration`);
    return false;
  }
  r.log.restore(s);
  r.trk = fresh;
  r.switchToConfig(restored.config, restored.progress);
  r.logger.info(
    { index, term },
    `${r.id} [commit: ${r.log.committed}, lastindex: ${r.log.lastIndex()}, lastterm: ${r.log.lastTerm()}] restored snapshot [index: ${index}, term: ${term}]`,
  );
  return true;
}
