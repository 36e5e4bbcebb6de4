/**
 * The step functions of followers and (pre-)candidates (etcd `stepFollower`, `stepCandidate`).
 * A follower accepts the leader's appends, heartbeats and snapshots, forwards proposals, reads
 * and transfer requests to the leader, and starts an election when told to (MsgTimeoutNow).
 * A candidate counts votes (Raft paper §5.2) and falls back to follower when it hears from a
 * leader of its term.
 */
import type { Message } from './types.js';
import { MessageType, NONE, StateRole, messageTypeName } from './types.js';
import { proposalDropped } from './errors.js';
import { debugEnabled } from './logger.js';
import { VoteResult } from './quorum/majority.js';
import type { Raft } from './raft.js';
import { CampaignType } from './raft.js';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.msgType) {
    case MessageType.MsgProp:
      forwardProposal(r, m);
      return;
    case MessageType.MsgApp:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleAppendEntries(m);
      return;
    case MessageType.MsgHeartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleHeartbeat(m);
      return;
    case MessageType.MsgSnap:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleSnapshot(m);
      return;
    case MessageType.MsgTransferLeader:
      forwardToLeader(r, m, 'leader transfer msg');
      return;
    case MessageType.MsgTimeoutNow:
      r.logger.info({ from: m.from, term: r.term }, `${r.id} [term ${r.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership`);
      // Transfers skip PreVote: the leader asked for this election, no partition to guard against.
      r.hup(CampaignType.Transfer);
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
      r.handleAppendEntries(m);
      return;
    case MessageType.MsgHeartbeat:
      r.becomeFollower(m.term, m.from);
      r.handleHeartbeat(m);
      return;
    case MessageType.MsgSnap:
      r.becomeFollower(m.term, m.from);
      r.handleSnapshot(m);
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
  const res = r.poll(m.from, m.msgType, !m.reject);
  const { granted, rejected } = r.trk.tallyVotes();
  r.logger.info({ granted, rejected }, `${r.id} has received ${granted} ${messageTypeName(m.msgType)} votes and ${rejected} vote rejections`);
  if (res === VoteResult.Won) {
    if (r.state === StateRole.PreCandidate) {
      r.campaign(CampaignType.Election);
    } else {
      r.becomeLeader();
      r.bcastAppend();
    }
  } else if (res === VoteResult.Lost) {
    // A MsgPreVoteResp carries the pre-candidate's future term; stay at ours.
    r.becomeFollower(r.term, NONE);
  }
}
