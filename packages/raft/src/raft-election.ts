/**
 * Elections (Raft paper §5.2, §5.4.1; thesis §9.6 PreVote, §4.2.3 leader stickiness, §3.10
 * transfers) and the term rules every role shares when a message arrives (§5.1). Functions of
 * the Raft state, called from `Raft.step` and the role step functions.
 */
import { VoteResult } from './quorum/majority.js';
import { debugEnabled } from './logger.js';
import type { Raft } from './raft.js';
import { FETCH_CAMPAIGN } from './storage.js';
import type { Message } from './types.js';
import { EntryType, MessageType, NONE, StateRole, messageTypeName, newMessage, voteRespMsgType } from './types.js';

/** Why an election starts. */
export const CampaignType = {
  /** A pre-election (PreVote): asks whether we could win, without bumping terms. */
  PreElection: 0,
  /** A normal election. */
  Election: 1,
  /** An election ordered by the leader (MsgTimeoutNow): bypasses leases and PreVote. */
  Transfer: 2,
} as const;
export type CampaignType = (typeof CampaignType)[keyof typeof CampaignType];

/** The context bytes that mark a vote request of a leadership transfer ("CampaignTransfer"). */
export const CAMPAIGN_TRANSFER_CTX = new Uint8Array([67, 97, 109, 112, 97, 105, 103, 110, 84, 114, 97, 110, 115, 102, 101, 114]);

function isCampaignTransfer(ctx: Uint8Array | undefined): boolean {
  if (ctx === undefined || ctx.length !== CAMPAIGN_TRANSFER_CTX.length) return false;
  for (let i = 0; i < ctx.length; i++) if (ctx[i] !== CAMPAIGN_TRANSFER_CTX[i]) return false;
  return true;
}


/** Starts an election if this node may (MsgHup). */
export function hup(r: Raft, t: CampaignType): void {
  if (r.state === StateRole.Leader) {
    if (debugEnabled(r.logger)) r.logger.debug({}, `${r.id} ignoring MsgHup because already leader`);
    return;
  }
  if (!r.promotable()) {
    r.logger.warn({}, `${r.id} is unpromotable and can not campaign`);
    return;
  }
  if (hasUnappliedConfChanges(r)) {
    r.logger.warn({ term: r.term }, `${r.id} cannot campaign at term ${r.term} since there are still pending configuration changes to apply`);
    return;
  }
  r.logger.info({ term: r.term }, `${r.id} is starting a new election at term ${r.term}`);
  campaign(r, t);
}

/**
 * A committed but unapplied conf change may remove or demote us; campaigning before applying
 * it could elect a leader the new configuration does not allow.
 */
function hasUnappliedConfChanges(r: Raft): boolean {
  const log = r.log;
  if (log.applied >= log.committed) return false;
  let lo = Math.max(log.applied + 1, log.firstIndex());
  const hi = log.committed + 1;
  while (lo < hi) {
    const ents = log.slice(lo, hi, 1024 * 1024, FETCH_CAMPAIGN);
    if (typeof ents === 'string') return false; // compacted: covered by a snapshot's config
    for (const e of ents) if (e.entryType !== EntryType.EntryNormal) return true;
    lo += ents.length;
  }
  return false;
}

export function campaign(r: Raft, t: CampaignType): void {
  let voteMsg: MessageType;
  let term: number;
  if (t === CampaignType.PreElection) {
    r.becomePreCandidate();
    voteMsg = MessageType.MsgPreVote;
    // Pre-votes are asked for the next term without incrementing ours.
    term = r.term + 1;
  } else {
    r.becomeCandidate();
    voteMsg = MessageType.MsgVote;
    term = r.term;
  }
  // Vote for ourselves first: a single-voter group wins right here.
  if (poll(r, r.id, voteRespMsgType(voteMsg), true) === VoteResult.Won) {
    if (t === CampaignType.PreElection) campaign(r, CampaignType.Election);
    else r.becomeLeader();
    return;
  }
  const li = r.log.lastIndex();
  const lt = r.log.lastTerm();
  const voters = r.trk.voterIds();
  for (const id of voters) {
    if (id === r.id) continue;
    r.logger.info({ to: id, term: r.term }, `${r.id} [logterm: ${lt}, index: ${li}] sent ${messageTypeName(voteMsg)} request to ${id} at term ${r.term}`);
    const m = newMessage(voteMsg, id, r.id, term);
    m.index = li;
    m.logTerm = lt;
    m.commit = r.log.committed;
    m.priority = r.priority;
    if (t === CampaignType.Transfer) m.context = CAMPAIGN_TRANSFER_CTX;
    r.send(m);
  }
}

/** Records a vote and returns the election outcome so far. */
export function poll(r: Raft, id: number, t: MessageType, granted: boolean): VoteResult {
  if (granted) r.logger.info({ from: id, term: r.term }, `${r.id} received ${messageTypeName(t)} from ${id} at term ${r.term}`);
  else r.logger.info({ from: id, term: r.term }, `${r.id} received ${messageTypeName(t)} rejection from ${id} at term ${r.term}`);
  r.trk.recordVote(id, granted);
  return r.trk.tallyVotes().result;
}

/** Returns true when the message must be dropped. */
export function stepHigherTerm(r: Raft, m: Message): boolean {
  const t = m.msgType;
  if (t === MessageType.MsgVote || t === MessageType.MsgPreVote) {
    const force = isCampaignTransfer(m.context);
    const inLease = r.cfg.checkQuorum && r.lead !== NONE && r.electionElapsed < r.cfg.electionTick;
    if (!force && inLease) {
      // Leader stickiness (thesis §4.2.3): a node that heard from a leader within the minimum
      // election timeout neither updates its term nor grants its vote.
      r.logger.info(
        { from: m.from, term: r.term },
        `${r.id} [logterm: ${r.log.lastTerm()}, index: ${r.log.lastIndex()}, vote: ${r.vote}] ignored ${messageTypeName(t)} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}: lease is not expired (remaining ticks: ${r.cfg.electionTick - r.electionElapsed})`,
      );
      return true;
    }
  }
  if (t === MessageType.MsgPreVote) {
    // Never change our term in response to a PreVote.
    return false;
  }
  if (t === MessageType.MsgPreVoteResp && !m.reject) {
    // Pre-votes are granted for a term in our future; the term is bumped when we win.
    return false;
  }
  r.logger.info(
    { from: m.from, term: r.term, msgTerm: m.term },
    `${r.id} [term: ${r.term}] received a ${messageTypeName(t)} message with higher term from ${m.from} [term: ${m.term}]`,
  );
  if (t === MessageType.MsgApp || t === MessageType.MsgHeartbeat || t === MessageType.MsgSnap) r.becomeFollower(m.term, m.from);
  else r.becomeFollower(m.term, NONE);
  return false;
}

export function stepLowerTerm(r: Raft, m: Message): void {
  const t = m.msgType;
  if ((r.cfg.checkQuorum || r.cfg.preVote) && (t === MessageType.MsgHeartbeat || t === MessageType.MsgApp)) {
    // A leader of an older term. Either the message was delayed, or we advanced our term
    // while partitioned and now cannot win (CheckQuorum/PreVote stop our votes from raising
    // terms elsewhere). Answering at our term makes that leader step down and frees us.
    r.send(newMessage(MessageType.MsgAppResp, m.from, r.id, 0));
  } else if (t === MessageType.MsgPreVote) {
    // A pre-candidate with a lower term may have a better log than a higher-term node that
    // lost its election; refusing explicitly (at our term) keeps the cluster from deadlocking.
    r.logger.info(
      { from: m.from, term: r.term },
      `${r.id} [logterm: ${r.log.lastTerm()}, index: ${r.log.lastIndex()}, vote: ${r.vote}] rejected ${messageTypeName(t)} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`,
    );
    const resp = newMessage(MessageType.MsgPreVoteResp, m.from, r.id, r.term);
    resp.reject = true;
    r.send(resp);
  } else {
    r.logger.info(
      { from: m.from, term: r.term, msgTerm: m.term },
      `${r.id} [term: ${r.term}] ignored a ${messageTypeName(t)} message with lower term from ${m.from} [term: ${m.term}]`,
    );
  }
}

/** Raft paper §5.2 and §5.4.1: one vote per term, only for an up-to-date candidate. */
export function handleVoteRequest(r: Raft, m: Message): void {
  const canVote =
    // a repeat of a vote we cast,
    r.vote === m.from ||
    // or we have not voted and know no leader in this term,
    (r.vote === NONE && r.lead === NONE) ||
    // or a pre-vote for a future term.
    (m.msgType === MessageType.MsgPreVote && m.term > r.term);
  const li = r.log.lastIndex();
  const lt = r.log.lastTerm();
  // Learners vote too: a learner may have been promoted without knowing it yet.
  if (canVote && r.log.isUpToDate(m.index, m.logTerm) && (m.index > li || r.priority <= m.priority)) {
    r.logger.info(
      { from: m.from, term: r.term },
      `${r.id} [logterm: ${lt}, index: ${li}, vote: ${r.vote}] cast ${messageTypeName(m.msgType)} for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`,
    );
    // Answer with the message's term: a pre-candidate ignores answers below its future term.
    r.send(newMessage(voteRespMsgType(m.msgType), m.from, r.id, m.term));
    if (m.msgType === MessageType.MsgVote) {
      // Only real votes count.
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.logger.info(
      { from: m.from, term: r.term },
      `${r.id} [logterm: ${lt}, index: ${li}, vote: ${r.vote}] rejected ${messageTypeName(m.msgType)} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`,
    );
    const resp = newMessage(voteRespMsgType(m.msgType), m.from, r.id, r.term);
    resp.reject = true;
    r.send(resp);
  }
}
