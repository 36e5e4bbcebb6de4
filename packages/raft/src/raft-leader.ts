/**
 * The leader's step function (etcd `stepLeader`), split into one small handler per message type
 * (STYLE.md §3: the dispatch arms are one-line calls).
 *
 * Replication (Raft paper §5.3) is pipelined: MsgApps stream to followers in Replicate state
 * within their in-flight window; rejections move `next` back using the follower's (index, term)
 * hint; acknowledgements advance `match`, and the commit index follows what a quorum matched,
 * counting only entries of the leader's own term (§5.4.2).
 */
import type { ConfChangeV2, Message } from './types.js';
import { EntryType, MessageType, NONE, emptyBytes, newEntry } from './types.js';
import { asV2, confChangeFromEntry, confChangesToString } from './conf-change.js';
import { RaftCodes, RaftError, proposalDropped } from './errors.js';
import { debugEnabled } from './logger.js';
import type { Raft } from './raft.js';
import { handleReadIndexAck, holdReadIndex, responseToReadIndexReq, sendMsgReadIndexResponse } from './raft-read.js';
import type { Progress } from './tracker/progress.js';
import { ProgressState } from './tracker/progress.js';
import { describeTrackerConfig } from './tracker/tracker.js';
import { ReadOnlyOption } from './types.js';

export function stepLeader(r: Raft, m: Message): void {
  // Message types that need no Progress of the sender.
  switch (m.msgType) {
    case MessageType.MsgBeat:
      r.bcastHeartbeat();
      return;
    case MessageType.MsgCheckQuorum:
      handleCheckQuorum(r);
      return;
    case MessageType.MsgProp:
      handlePropose(r, m);
      return;
    case MessageType.MsgReadIndex:
      handleReadIndex(r, m);
      return;
  }
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) {
    if (debugEnabled(r.logger)) r.logger.debug({ from: m.from }, `${r.id} no progress available for ${m.from}`);
    return;
  }
  switch (m.msgType) {
    case MessageType.MsgAppResp:
      handleAppendResponse(r, m, pr);
      return;
    case MessageType.MsgHeartbeatResp:
      handleHeartbeatResponse(r, m, pr);
      return;
    case MessageType.MsgSnapStatus:
      handleSnapStatus(r, m, pr);
      return;
    case MessageType.MsgUnreachable:
      handleUnreachable(r, m, pr);
      return;
    case MessageType.MsgTransferLeader:
      handleTransferLeader(r, m, pr);
      return;
  }
}

/** CheckQuorum (thesis §6.2): step down if a quorum was not heard from in an election timeout. */
function handleCheckQuorum(r: Raft): void {
  if (!r.trk.quorumActive(r.id)) {
    r.logger.warn({ term: r.term }, `${r.id} stepped down to follower since quorum is not active`);
    r.becomeFollower(r.term, NONE);
  }
  // Everyone but us starts the next round inactive.
  const { ids, prs } = r.trk.progress;
  for (let i = 0; i < ids.length; i++) if (ids[i] !== r.id) prs[i]!.recentActive = false;
}

function handlePropose(r: Raft, m: Message): void {
  const ents = m.entries;
  if (ents.length === 0) throw new RaftError(RaftCodes.INVALID_MESSAGE, 'raft: stepped an empty MsgProp');
  if (!r.trk.progress.has(r.id)) {
    // Removed from the configuration while leading: take nothing new.
    throw proposalDropped('the leader is not a member of the configuration', { id: r.id });
  }
  if (r.leadTransferee !== NONE) {
    if (debugEnabled(r.logger)) r.logger.debug({ transferee: r.leadTransferee }, `${r.id} [term ${r.term}] transfer leadership to ${r.leadTransferee} is in progress; dropping proposal`);
    throw proposalDropped('leadership transfer in progress', { transferee: r.leadTransferee });
  }
  let confOffset = -1;
  let decoded: (ConfChangeV2 | undefined)[] | null = null;
  for (let i = 0; i < ents.length; i++) {
    if (ents[i]!.entryType === EntryType.EntryNormal) continue;
    // Decode every conf change before changing anything: bad bytes refuse the whole proposal.
    if (decoded === null) decoded = new Array<ConfChangeV2 | undefined>(ents.length);
    decoded[i] = asV2(confChangeFromEntry(ents[i]!));
  }
  if (decoded !== null) {
    for (let i = 0; i < ents.length; i++) {
      const cc = decoded[i];
      if (cc === undefined) continue;
      const reason = refuseConfChange(r, cc, confOffset >= 0);
      if (reason === '') {
        confOffset = i;
      } else {
        r.logger.info({ reason }, `${r.id} ignoring conf change {${confChangesToString(cc.changes)}} at config ${describeTrackerConfig(r.trk.config)}: ${reason}`);
        ents[i] = newEntry(EntryType.EntryNormal, 0, 0, emptyBytes());
      }
    }
  }
  if (!r.appendEntry(ents)) {
    if (debugEnabled(r.logger)) r.logger.debug({ uncommittedSize: r.uncommittedSize }, `${r.id} dropped entries: the uncommitted size limit is reached`);
    throw proposalDropped('too many uncommitted entry bytes', { uncommittedSize: r.uncommittedSize });
  }
  if (confOffset >= 0) r.pendingConfIndex = ents[confOffset]!.index;
  r.bcastAppend();
}

/** Why a proposed conf change must become a no-op, or '' to accept it (thesis §4.1, §4.3). */
function refuseConfChange(r: Raft, cc: ConfChangeV2, earlierInBatch: boolean): string {
  if (r.cfg.disableConfChangeValidation) return '';
  if (earlierInBatch || r.hasPendingConf()) return 'possible unapplied conf change';
  const alreadyJoint = r.isJoint();
  const wantsLeave = cc.changes.length === 0;
  if (alreadyJoint && !wantsLeave) return 'must transition out of joint config first';
  if (!alreadyJoint && wantsLeave) return 'not in joint state; refusing empty conf change';
  return '';
}

/** ReadIndex (thesis §6.4): answered once this leader's commit index is of its own term. */
function handleReadIndex(r: Raft, m: Message): void {
  if (m.entries.length !== 1) throw new RaftError(RaftCodes.INVALID_MESSAGE, `MsgReadIndex must carry one entry, got ${m.entries.length}`);
  if (r.trk.isSingleton()) {
    // Nobody else can be leader: the commit index is current.
    responseToReadIndexReq(r, m, r.log.committed);
    return;
  }
  if (!r.committedEntryInCurrentTerm()) {
    // Until then, our commit index may lag the previous leader's.
    holdReadIndex(r, m);
    return;
  }
  sendMsgReadIndexResponse(r, m);
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    handleAppendReject(r, m, pr);
    return;
  }
  if (m.index > r.log.lastIndex()) {
    r.logger.warn({ from: m.from, index: m.index }, `${r.id} ignored MsgAppResp from ${m.from} acknowledging index ${m.index} beyond the last index ${r.log.lastIndex()}`);
    return;
  }
  // Update on a newer match, or when a probe succeeded at the match we knew (a follower
  // wrongly left in Probe, e.g. after reportUnreachable, goes back to Replicate this way).
  if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === ProgressState.Probe)) return;
  if (pr.state === ProgressState.Probe) {
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= r.log.firstIndex()) {
    // The follower caught up (by the snapshot or otherwise) to where the log can take over.
    if (debugEnabled(r.logger)) r.logger.debug({ from: m.from }, `${r.id} recovered from needing snapshot, resumed sending replication messages to ${m.from} [${pr.toString()}]`);
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Replicate) {
    pr.inflights.freeLE(m.index);
  }
  if (r.maybeCommit()) r.onLeaderCommitted();
  else if (pr.canBumpCommit(r.log.committed) && (!r.skipBcastCommit || r.hasPendingConf())) r.sendAppend(m.from);
  // The window may have opened for several messages: send what flow control allows.
  while (r.maybeSendAppend(m.from, false));
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.logger.info({ to: m.from }, `${r.id} sent MsgTimeoutNow to ${m.from} after received MsgAppResp`);
    r.sendTimeoutNow(m.from);
  }
}

/**
 * A rejected MsgApp: the follower's log does not contain (m.index, term there). Its hint
 * (rejectHint, logTerm) is the last entry where it may match; we skip to the last entry of ours
 * at or before the hint with a term ≤ the hinted term, so each round trip skips a whole term on
 * both sides.
 */
function handleAppendReject(r: Raft, m: Message, pr: Progress): void {
  let nextProbeIdx = m.rejectHint;
  if (m.logTerm > 0) nextProbeIdx = r.log.findConflictByTerm(m.rejectHint, m.logTerm);
  if (!pr.maybeDecrTo(m.index, nextProbeIdx)) return;
  if (debugEnabled(r.logger)) r.logger.debug({ from: m.from }, `${r.id} decreased progress of ${m.from} to [${pr.toString()}]`);
  if (pr.state === ProgressState.Replicate) pr.becomeProbe();
  r.sendAppend(m.from);
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  // The follower is alive: let one append through even with a full window, so a window of
  // lost messages cannot stall it. A caught-up follower in Probe gets an empty append and
  // returns to Replicate with its answer.
  pr.msgAppFlowPaused = false;
  if (pr.match < r.log.lastIndex() || pr.state === ProgressState.Probe) r.sendAppend(m.from);
  if (r.cfg.readOnlyOption !== ReadOnlyOption.Safe || m.context === undefined || m.context.length === 0) return;
  handleReadIndexAck(r, m.from, m.context);
}

function handleSnapStatus(r: Raft, m: Message, pr: Progress): void {
  if (pr.state !== ProgressState.Snapshot) return;
  if (m.reject) {
    // Forget the snapshot first, or probing would start after a snapshot never applied.
    pr.pendingSnapshot = 0;
    pr.becomeProbe();
    if (debugEnabled(r.logger)) r.logger.debug({ from: m.from }, `${r.id} snapshot failed, resumed sending replication messages to ${m.from} [${pr.toString()}]`);
  } else {
    pr.becomeProbe();
    if (debugEnabled(r.logger)) r.logger.debug({ from: m.from }, `${r.id} snapshot succeeded, resumed sending replication messages to ${m.from} [${pr.toString()}]`);
  }
  // Wait for the follower's MsgAppResp (success) or a heartbeat interval (failure).
  pr.msgAppFlowPaused = true;
}

function handleUnreachable(r: Raft, m: Message, pr: Progress): void {
  // Optimistic replication to an unreachable node probably lost a MsgApp: probe again.
  if (pr.state === ProgressState.Replicate) pr.becomeProbe();
  if (debugEnabled(r.logger)) r.logger.debug({ to: m.from }, `${r.id} failed to send message to ${m.from} because it is unreachable [${pr.toString()}]`);
}

/** Leadership transfer (thesis §3.10): catch the target up, then tell it to campaign now. */
function handleTransferLeader(r: Raft, m: Message, pr: Progress): void {
  const transferee = m.from;
  if (pr.isLearner) {
    if (debugEnabled(r.logger)) r.logger.debug({ transferee }, `${r.id} is learner. Ignored transferring leadership`);
    return;
  }
  const last = r.leadTransferee;
  if (last !== NONE) {
    if (last === transferee) {
      r.logger.info({ transferee }, `${r.id} [term ${r.term}] transfer leadership to ${transferee} is in progress, ignores request to same node ${transferee}`);
      return;
    }
    r.abortLeaderTransfer();
    r.logger.info({ transferee: last }, `${r.id} [term ${r.term}] abort previous transferring leadership to ${last}`);
  }
  if (transferee === r.id) {
    if (debugEnabled(r.logger)) r.logger.debug({}, `${r.id} is already leader. Ignored transferring leadership to self`);
    return;
  }
  r.logger.info({ transferee }, `${r.id} [term ${r.term}] starts to transfer leadership to ${transferee}`);
  // The transfer must finish within an election timeout.
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.log.lastIndex()) {
    r.sendTimeoutNow(transferee);
    r.logger.info({ transferee }, `${r.id} sends MsgTimeoutNow to ${transferee} immediately as ${transferee} already has up-to-date log`);
  } else {
    r.sendAppend(transferee);
  }
}
