/**
 * The Raft state machine (etcd `raft.go`, raft-rs `raft.rs`). One `Raft` is one member of one
 * group. It is driven from outside (RawNode) by `tick()` and `step(message)` and produces
 * outgoing messages (`msgs`), log changes (`log`), read states and state changes, which RawNode
 * packages into Readies.
 *
 * Composition (STYLE.md §1): `log/` holds the log, `tracker/` the membership and per-follower
 * progress, `quorum/` the arithmetic, `confchange/` the membership changes. Role behaviour is a
 * function slot (`stepFn`/`tickFn`) pointing at `stepLeader`, `stepCandidate` or `stepFollower`
 * in raft-leader.ts / raft-follower.ts; this file holds the term rules every role shares
 * (Raft paper §5.1), elections (§5.2, thesis §9.6 PreVote, §6.2 CheckQuorum), and the
 * replication machinery the leader uses (§5.3).
 */
import { Changer } from './confchange/changer.js';
import { restoreConfig } from './confchange/restore.js';
import type { AnyConfChange } from './conf-change.js';
import { asV2, enterJoint, leaveJoint } from './conf-change.js';
import type { ResolvedConfig } from './config.js';
import { RaftCodes, RaftError, RaftInvariantViolation, invariant } from './errors.js';
import { COMPACTED, RaftLog } from './log/raft-log.js';
import type { Logger } from './logger.js';
import { debugEnabled } from './logger.js';
import { VoteResult } from './quorum/majority.js';
import { ReadOnly } from './read-only.js';
import type { FetchContext, LogStorage } from './storage.js';
import { FETCH_CAMPAIGN, FETCH_OTHER, TEMPORARILY_UNAVAILABLE } from './storage.js';
import type { Progress } from './tracker/progress.js';
import { ProgressState } from './tracker/progress.js';
import type { ProgressMap } from './tracker/progress-map.js';
import type { TrackerConfig } from './tracker/tracker.js';
import { ProgressTracker, describeTrackerConfig, isJoint } from './tracker/tracker.js';
import type { ConfState, Entry, HardState, Message, ReadState, Snapshot } from './types.js';
import {
  EMPTY_ENTRIES,
  EntryType,
  MessageType,
  NONE,
  ReadOnlyOption,
  StateRole,
  emptyBytes,
  isEmptySnapshot,
  messageTypeName,
  newEntry,
  newMessage,
  payloadsSize,
  voteRespMsgType,
} from './types.js';
import { stepLeader } from './raft-leader.js';
import { stepCandidate, stepFollower } from './raft-follower.js';

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

export type StepFn = (r: Raft, m: Message) => void;
export type TickFn = (r: Raft) => void;

export class Raft {
  readonly id: number;
  /** Current term (persisted in HardState). */
  term = 0;
  /** Whom we voted for in `term` (persisted in HardState). */
  vote = NONE;
  readonly log: RaftLog;
  /** Membership and per-member progress. Replaced wholesale by conf changes and snapshots. */
  trk: ProgressTracker;
  state: StateRole = StateRole.Follower;
  /** True while this node is a learner in the active configuration. */
  isLearner = false;
  /** The leader we know of in `term`, or NONE. */
  lead = NONE;
  /** The target of an ongoing leadership transfer (leader only), or NONE. */
  leadTransferee = NONE;
  /**
   * Index of the latest conf change proposed by this leader (or the last index when it became
   * leader). A new conf change may only be proposed once this is applied.
   */
  pendingConfIndex = 0;
  /** Payload bytes of entries appended by this leader and not yet committed (handed out). */
  uncommittedSize = 0;
  /** Entries at or below this index were in the log before this leader's term (not counted). */
  private uncommittedTailIndex = 0;
  /** Pending safe-mode ReadIndex requests (leader only); created on first use. */
  private readOnly: ReadOnly | null = null;
  /** ReadIndex requests received before this leader committed an entry of its term. */
  private pendingReadIndexMessages: Message[] | null = null;
  /** Results of ReadIndex requests, handed out in the next Ready. */
  readStates: ReadState[] | null = null;
  /** Outgoing messages, handed out in the next Ready. */
  msgs: Message[] = [];

  /** Ticks since the last election-timer reset (followers/candidates), or since the last CheckQuorum (leaders). */
  electionElapsed = 0;
  /** Ticks since the last heartbeat (leader only). */
  heartbeatElapsed = 0;
  /** The current election timeout, drawn from [electionTick, 2 * electionTick). */
  randomizedElectionTimeout = 0;
  /** Election priority (raft-rs); changeable at run time. */
  priority: number;
  /** Whether a new commit index is broadcast right away; changeable at run time. */
  skipBcastCommit: boolean;

  stepFn: StepFn = stepFollower;
  tickFn: TickFn = tickElection;
  readonly logger: Logger;

  constructor(
    readonly cfg: ResolvedConfig,
    storage: LogStorage,
  ) {
    this.id = cfg.id;
    this.priority = cfg.priority;
    this.skipBcastCommit = cfg.skipBcastCommit;
    this.logger = cfg.logger.child({ raftId: cfg.id });
    this.log = new RaftLog(storage, this.logger);
    this.trk = new ProgressTracker(cfg.maxInflightMsgs, cfg.maxInflightBytes);
    const { hardState: hs, confState: cs } = storage.initialState();
    this.restoreConfState(cs, 'initial state');
    if (hs.term !== 0 || hs.vote !== 0 || hs.commit !== 0) this.loadState(hs);
    if (cfg.applied > 0) {
      const max = Math.min(this.log.committed, this.log.persisted);
      if (cfg.applied > max || cfg.applied < this.log.applied) {
        throw new RaftError(RaftCodes.CONFIG_INVALID, `invalid raft config: applied ${cfg.applied} is out of range [${this.log.applied}, ${max}]`, {
          details: { field: 'applied', value: String(cfg.applied) },
        });
      }
      this.commitApply(cfg.applied);
    }
    this.becomeFollower(this.term, NONE);
    this.logger.info(
      { term: this.term, commit: this.log.committed, applied: this.log.applied, lastIndex: this.log.lastIndex(), lastTerm: this.log.lastTerm() },
      `${this.id} started at term ${this.term} [commit: ${this.log.committed}, applied: ${this.log.applied}, lastindex: ${this.log.lastIndex()}, lastterm: ${this.log.lastTerm()}]`,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // State snapshots for Ready and status.

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /** True when this node may campaign: it is a voter and has no snapshot waiting to be applied. */
  promotable(): boolean {
    return this.trk.isVoter(this.id) && this.log.unstable.snapshot === undefined;
  }

  /** Whether this leader committed an entry of its own term (needed before serving reads). */
  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  hasPendingConf(): boolean {
    return this.pendingConfIndex > this.log.applied;
  }

  private loadState(hs: HardState): void {
    // Everything up to the compaction point is committed (it was applied), even if the stored
    // hard state was written before the commit index reached it.
    if (hs.commit < this.log.committed) hs = { ...hs, commit: this.log.committed };
    if (hs.commit > this.log.lastIndex()) {
      throw new RaftError(RaftCodes.STORE_INCONSISTENT, `hard state commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`, {
        details: { commit: hs.commit, firstCommitted: this.log.committed, lastIndex: this.log.lastIndex() },
      });
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  // ---------------------------------------------------------------------------------------------
  // Sending.

  /**
   * Queues a message. Vote messages carry their own term; proposals and read requests being
   * forwarded carry none (they are local to the group); everything else gets our term.
   */
  send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    const t = m.msgType;
    if (t === MessageType.MsgVote || t === MessageType.MsgVoteResp || t === MessageType.MsgPreVote || t === MessageType.MsgPreVoteResp) {
      if (m.term === 0) throw new RaftInvariantViolation(`term should be set when sending ${messageTypeName(t)}`);
    } else if (t === MessageType.MsgProp || t === MessageType.MsgReadIndex) {
      m.term = 0;
    } else {
      m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Sends `m` (received from elsewhere) on to `to`, keeping its origin. */
  forward(m: Message, to: number): void {
    m.to = to;
    m.term = 0;
    this.send(m);
  }

  /** Sends an append (possibly empty) to `to` if its flow allows. */
  sendAppend(to: number): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends the entries `to` needs next, or a snapshot if they are compacted away. With
   * `sendIfEmpty` false, nothing is sent when there are no new entries. Returns whether a
   * message was sent.
   */
  maybeSendAppend(to: number, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.maybeTerm(prevIndex);
    if (prevTerm === undefined) return this.maybeSendSnapshot(to, pr);
    let ents: Entry[] = EMPTY_ENTRIES;
    // A full window in Replicate only allows empty MsgApps (commit updates and probes that let
    // the follower answer, so a window of lost messages cannot stall replication forever).
    if (pr.state !== ProgressState.Replicate || !pr.inflights.full()) {
      const ctx: FetchContext = pr.next < this.log.unstable.offset ? { kind: 'append', canAsync: true, to, term: this.term } : FETCH_OTHER;
      const r = this.log.entries(pr.next, this.cfg.maxSizePerMsg, ctx);
      if (r === COMPACTED) return this.maybeSendSnapshot(to, pr);
      if (r === TEMPORARILY_UNAVAILABLE) {
        if (debugEnabled(this.logger)) this.logger.debug({ to, next: pr.next }, `${this.id} waits for entries from ${pr.next} to send to ${to}`);
        return false;
      }
      ents = r;
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    const m = newMessage(MessageType.MsgApp, to, this.id, 0);
    m.index = prevIndex;
    m.logTerm = prevTerm;
    m.entries = ents;
    m.commit = this.log.committed;
    this.send(m);
    pr.sentEntries(ents.length, this.trk.maxInflightBytes === Infinity ? 0 : payloadsSize(ents));
    pr.sentCommitIndex(this.log.committed);
    return true;
  }

  private maybeSendSnapshot(to: number, pr: Progress): boolean {
    if (!pr.recentActive) {
      if (debugEnabled(this.logger)) this.logger.debug({ to }, `${this.id} ignores sending a snapshot to ${to} since it is not recently active`);
      return false;
    }
    const snap = this.log.snapshot(0, to);
    if (snap === TEMPORARILY_UNAVAILABLE) {
      if (debugEnabled(this.logger)) this.logger.debug({ to }, `${this.id} failed to send a snapshot to ${to}: temporarily unavailable`);
      return false;
    }
    invariant(!isEmptySnapshot(snap), 'the storage returned an empty snapshot to send', { to });
    const { index, term } = snap.metadata;
    if (debugEnabled(this.logger)) {
      this.logger.debug({ to, index, term }, `${this.id} [firstindex: ${this.log.firstIndex()}, commit: ${this.log.committed}] sent snapshot [index: ${index}, term: ${term}] to ${to} [${pr.toString()}]`);
    }
    pr.becomeSnapshot(index);
    const m = newMessage(MessageType.MsgSnap, to, this.id, 0);
    m.snapshot = snap;
    this.send(m);
    return true;
  }

  /** Sends a heartbeat to `to`, carrying a commit index it can apply and a read context. */
  sendHeartbeat(to: number, ctx: Uint8Array | undefined): void {
    const pr = this.trk.progress.get(to)!;
    // Never tell a follower to commit beyond what it is known to have (Raft paper §5.3).
    const commit = Math.min(pr.match, this.log.committed);
    const m = newMessage(MessageType.MsgHeartbeat, to, this.id, 0);
    m.commit = commit;
    m.context = ctx;
    this.send(m);
    pr.sentCommitIndex(commit);
  }

  /** Sends appends to every follower. */
  bcastAppend(): void {
    const { ids } = this.trk.progress;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id !== this.id) this.sendAppend(id);
    }
  }

  bcastHeartbeat(): void {
    this.bcastHeartbeatWithCtx(this.readOnly?.lastPendingRequestCtx());
  }

  bcastHeartbeatWithCtx(ctx: Uint8Array | undefined): void {
    const { ids } = this.trk.progress;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id !== this.id) this.sendHeartbeat(id, ctx);
    }
  }

  sendTimeoutNow(to: number): void {
    this.send(newMessage(MessageType.MsgTimeoutNow, to, this.id, 0));
  }

  // ---------------------------------------------------------------------------------------------
  // Commit, append, apply.

  /** Advances the commit index to what a quorum acknowledged, if that is of our term (§5.4.2). */
  maybeCommit(): boolean {
    return this.log.maybeCommit(this.trk.committed(), this.term);
  }

  /** After the leader's commit index advanced: release held reads and tell the followers. */
  onLeaderCommitted(): void {
    this.releasePendingReadIndexMessages();
    if (!this.skipBcastCommit || this.hasPendingConf()) this.bcastAppend();
  }

  /**
   * Appends entries proposed to this leader at the end of its log, assigning term and index.
   * Returns false (appending nothing) when the uncommitted-size bound refuses them.
   */
  appendEntry(es: Entry[]): boolean {
    const size = payloadsSize(es);
    const max = this.cfg.maxUncommittedEntriesSize;
    // Never refuse empty entries (elections, leave-joint), and always accept at least one entry.
    if (this.uncommittedSize > 0 && size > 0 && this.uncommittedSize + size > max) return false;
    this.uncommittedSize += size;
    const li = this.log.lastIndex();
    for (let i = 0; i < es.length; i++) {
      const e = es[i]!;
      e.term = this.term;
      e.index = li + 1 + i;
    }
    this.log.append(es);
    // The leader's own match advances when the entries are persisted (onPersistEntries).
    return true;
  }

  /** Committed entries were handed out: they no longer count as uncommitted. */
  reduceUncommittedSize(ents: readonly Entry[]): void {
    if (this.state !== StateRole.Leader || this.uncommittedSize === 0) return;
    let size = 0;
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i]!;
      if (e.index > this.uncommittedTailIndex) size += e.data.length + (e.context === undefined ? 0 : e.context.length);
    }
    this.uncommittedSize = size > this.uncommittedSize ? 0 : this.uncommittedSize - size;
  }

  /**
   * The caller made entries up to (index, term) durable. A leader counts them towards commit
   * (raft-rs `on_persist_entries`).
   */
  onPersistEntries(index: number, term: number): void {
    const updated = this.log.maybePersist(index, term);
    if (!updated || this.state !== StateRole.Leader) return;
    // A leader's newly persisted entries are of its own term: everything of earlier terms was
    // persisted before it could win the election (its vote requests waited for persistence).
    const pr = this.trk.progress.get(this.id);
    if (pr !== undefined && pr.maybeUpdate(this.log.persisted) && this.maybeCommit()) this.onLeaderCommitted();
  }

  /** The caller made the snapshot at `index` durable. */
  onPersistSnap(index: number): void {
    this.log.maybePersistSnap(index);
  }

  /**
   * The caller applied entries up to `applied`. When a joint configuration with auto-leave is
   * fully applied on the leader, propose leaving it (thesis §4.3).
   */
  commitApply(applied: number): void {
    this.log.appliedTo(applied);
    const c = this.trk.config;
    if (c.autoLeave && this.state === StateRole.Leader && applied >= this.pendingConfIndex) {
      // An empty ConfChangeV2 leaves the joint state; its zero size is never refused. It can be
      // dropped while a transfer is pending: then the next advance tries again.
      const m = newMessage(MessageType.MsgProp, NONE, this.id, 0);
      m.entries = [newEntry(EntryType.EntryConfChangeV2, 0, 0, emptyBytes())];
      try {
        this.step(m);
        this.logger.info({}, `${this.id} initiating automatic transition out of joint configuration ${describeTrackerConfig(c)}`);
      } catch (e) {
        if (!(e instanceof RaftError)) throw e;
        if (debugEnabled(this.logger)) this.logger.debug({ err: e }, `${this.id} not initiating automatic transition out of joint configuration: ${e.message}`);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Roles.

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = NONE;
    this.trk.resetVotes();
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = null;
    this.pendingReadIndexMessages = null;
    const next = this.log.lastIndex() + 1;
    const { ids, prs } = this.trk.progress;
    for (let i = 0; i < ids.length; i++) {
      const pr = prs[i]!;
      pr.match = ids[i] === this.id ? this.log.persisted : 0;
      pr.next = next;
      pr.sentCommit = 0;
      pr.state = ProgressState.Probe;
      pr.pendingSnapshot = 0;
      pr.recentActive = false;
      pr.msgAppFlowPaused = false;
      pr.inflights.reset();
    }
  }

  resetRandomizedElectionTimeout(): void {
    const et = this.cfg.electionTick;
    this.randomizedElectionTimeout = et + this.cfg.rng.nextInt(et);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  becomeFollower(term: number, lead: number): void {
    this.stepFn = stepFollower;
    this.reset(term);
    this.tickFn = tickElection;
    this.lead = lead;
    this.state = StateRole.Follower;
    this.logger.info({ term }, `${this.id} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    invariant(this.state !== StateRole.Leader, 'invalid transition [leader -> candidate]');
    this.stepFn = stepCandidate;
    this.reset(this.term + 1);
    this.tickFn = tickElection;
    this.vote = this.id;
    this.state = StateRole.Candidate;
    this.logger.info({ term: this.term }, `${this.id} became candidate at term ${this.term}`);
  }

  becomePreCandidate(): void {
    invariant(this.state !== StateRole.Leader, 'invalid transition [leader -> pre-candidate]');
    // A pre-candidate keeps its term and vote: only the role, step function and votes change.
    this.stepFn = stepCandidate;
    this.trk.resetVotes();
    this.tickFn = tickElection;
    this.lead = NONE;
    this.state = StateRole.PreCandidate;
    this.logger.info({ term: this.term }, `${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    invariant(this.state !== StateRole.Follower, 'invalid transition [follower -> leader]');
    this.stepFn = stepLeader;
    this.reset(this.term);
    this.tickFn = tickHeartbeat;
    this.lead = this.id;
    this.state = StateRole.Leader;
    const self = this.trk.progress.get(this.id);
    if (self !== undefined) {
      // The leader trivially replicates to itself.
      self.becomeReplicate();
      self.recentActive = true;
    }
    // There may be an unapplied conf change in the log; delaying new conf changes until
    // everything we have is applied is safe and avoids scanning the log tail.
    this.pendingConfIndex = this.log.lastIndex();
    this.uncommittedTailIndex = this.log.lastIndex();
    // An empty entry of the new term lets the leader commit (and learn the commit index of)
    // everything before it (Raft paper §5.4.2, thesis §6.4).
    const ok = this.appendEntry([newEntry(EntryType.EntryNormal, 0, 0, emptyBytes())]);
    invariant(ok, 'appending an empty entry was refused');
    this.logger.info({ term: this.term }, `${this.id} became leader at term ${this.term}`);
  }

  // ---------------------------------------------------------------------------------------------
  // Elections.

  /** Starts an election if this node may (MsgHup). */
  hup(t: CampaignType): void {
    if (this.state === StateRole.Leader) {
      if (debugEnabled(this.logger)) this.logger.debug({}, `${this.id} ignoring MsgHup because already leader`);
      return;
    }
    if (!this.promotable()) {
      this.logger.warn({}, `${this.id} is unpromotable and can not campaign`);
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      this.logger.warn({ term: this.term }, `${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`);
      return;
    }
    this.logger.info({ term: this.term }, `${this.id} is starting a new election at term ${this.term}`);
    this.campaign(t);
  }

  /**
   * A committed but unapplied conf change may remove or demote us; campaigning before applying
   * it could elect a leader the new configuration does not allow.
   */
  private hasUnappliedConfChanges(): boolean {
    const log = this.log;
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

  campaign(t: CampaignType): void {
    let voteMsg: MessageType;
    let term: number;
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteMsg = MessageType.MsgPreVote;
      // Pre-votes are asked for the next term without incrementing ours.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.MsgVote;
      term = this.term;
    }
    // Vote for ourselves first: a single-voter group wins right here.
    if (this.poll(this.id, voteRespMsgType(voteMsg), true) === VoteResult.Won) {
      if (t === CampaignType.PreElection) this.campaign(CampaignType.Election);
      else this.becomeLeader();
      return;
    }
    const li = this.log.lastIndex();
    const lt = this.log.lastTerm();
    const voters = this.trk.voterIds();
    for (const id of voters) {
      if (id === this.id) continue;
      this.logger.info({ to: id, term: this.term }, `${this.id} [logterm: ${lt}, index: ${li}] sent ${messageTypeName(voteMsg)} request to ${id} at term ${this.term}`);
      const m = newMessage(voteMsg, id, this.id, term);
      m.index = li;
      m.logTerm = lt;
      m.commit = this.log.committed;
      m.priority = this.priority;
      if (t === CampaignType.Transfer) m.context = CAMPAIGN_TRANSFER_CTX;
      this.send(m);
    }
  }

  /** Records a vote and returns the election outcome so far. */
  poll(id: number, t: MessageType, granted: boolean): VoteResult {
    if (granted) this.logger.info({ from: id, term: this.term }, `${this.id} received ${messageTypeName(t)} from ${id} at term ${this.term}`);
    else this.logger.info({ from: id, term: this.term }, `${this.id} received ${messageTypeName(t)} rejection from ${id} at term ${this.term}`);
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes().result;
  }

  // ---------------------------------------------------------------------------------------------
  // Step: the term rules every role shares (Raft paper §5.1), then the role's step function.

  /** Processes one message. Throws RaftError for refused proposals. */
  step(m: Message): void {
    if (m.term === 0) {
      // A local message.
    } else if (m.term > this.term) {
      if (this.stepHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.stepLowerTerm(m);
      return;
    }
    switch (m.msgType) {
      case MessageType.MsgHup:
        this.hup(this.cfg.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote:
        this.handleVoteRequest(m);
        return;
      default:
        this.stepFn(this, m);
    }
  }

  /** Returns true when the message must be dropped. */
  private stepHigherTerm(m: Message): boolean {
    const t = m.msgType;
    if (t === MessageType.MsgVote || t === MessageType.MsgPreVote) {
      const force = isCampaignTransfer(m.context);
      const inLease = this.cfg.checkQuorum && this.lead !== NONE && this.electionElapsed < this.cfg.electionTick;
      if (!force && inLease) {
        // Leader stickiness (thesis §4.2.3): a node that heard from a leader within the minimum
        // election timeout neither updates its term nor grants its vote.
        this.logger.info(
          { from: m.from, term: this.term },
          `${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote}] ignored ${messageTypeName(t)} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired (remaining ticks: ${this.cfg.electionTick - this.electionElapsed})`,
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
    this.logger.info(
      { from: m.from, term: this.term, msgTerm: m.term },
      `${this.id} [term: ${this.term}] received a ${messageTypeName(t)} message with higher term from ${m.from} [term: ${m.term}]`,
    );
    if (t === MessageType.MsgApp || t === MessageType.MsgHeartbeat || t === MessageType.MsgSnap) this.becomeFollower(m.term, m.from);
    else this.becomeFollower(m.term, NONE);
    return false;
  }

  private stepLowerTerm(m: Message): void {
    const t = m.msgType;
    if ((this.cfg.checkQuorum || this.cfg.preVote) && (t === MessageType.MsgHeartbeat || t === MessageType.MsgApp)) {
      // A leader of an older term. Either the message was delayed, or we advanced our term
      // while partitioned and now cannot win (CheckQuorum/PreVote stop our votes from raising
      // terms elsewhere). Answering at our term makes that leader step down and frees us.
      this.send(newMessage(MessageType.MsgAppResp, m.from, this.id, 0));
    } else if (t === MessageType.MsgPreVote) {
      // A pre-candidate with a lower term may have a better log than a higher-term node that
      // lost its election; refusing explicitly (at our term) keeps the cluster from deadlocking.
      this.logger.info(
        { from: m.from, term: this.term },
        `${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote}] rejected ${messageTypeName(t)} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
      );
      const resp = newMessage(MessageType.MsgPreVoteResp, m.from, this.id, this.term);
      resp.reject = true;
      this.send(resp);
    } else {
      this.logger.info(
        { from: m.from, term: this.term, msgTerm: m.term },
        `${this.id} [term: ${this.term}] ignored a ${messageTypeName(t)} message with lower term from ${m.from} [term: ${m.term}]`,
      );
    }
  }

  /** Raft paper §5.2 and §5.4.1: one vote per term, only for an up-to-date candidate. */
  private handleVoteRequest(m: Message): void {
    const canVote =
      // a repeat of a vote we cast,
      this.vote === m.from ||
      // or we have not voted and know no leader in this term,
      (this.vote === NONE && this.lead === NONE) ||
      // or a pre-vote for a future term.
      (m.msgType === MessageType.MsgPreVote && m.term > this.term);
    const li = this.log.lastIndex();
    const lt = this.log.lastTerm();
    // Learners vote too: a learner may have been promoted without knowing it yet.
    if (canVote && this.log.isUpToDate(m.index, m.logTerm) && (m.index > li || this.priority <= m.priority)) {
      this.logger.info(
        { from: m.from, term: this.term },
        `${this.id} [logterm: ${lt}, index: ${li}, vote: ${this.vote}] cast ${messageTypeName(m.msgType)} for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
      );
      // Answer with the message's term: a pre-candidate ignores answers below its future term.
      this.send(newMessage(voteRespMsgType(m.msgType), m.from, this.id, m.term));
      if (m.msgType === MessageType.MsgVote) {
        // Only real votes count.
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.logger.info(
        { from: m.from, term: this.term },
        `${this.id} [logterm: ${lt}, index: ${li}, vote: ${this.vote}] rejected ${messageTypeName(m.msgType)} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
      );
      const resp = newMessage(voteRespMsgType(m.msgType), m.from, this.id, this.term);
      resp.reject = true;
      this.send(resp);
    }
  }

  tick(): void {
    this.tickFn(this);
  }

  // ---------------------------------------------------------------------------------------------
  // Follower-side handlers shared by followers and candidates.

  handleAppendEntries(m: Message): void {
    const resp = newMessage(MessageType.MsgAppResp, m.from, this.id, 0);
    if (m.index < this.log.committed) {
      // Everything up to our commit index matches already; tell the leader where we are.
      resp.index = this.log.committed;
      this.send(resp);
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew >= 0) {
      resp.index = lastNew;
      this.send(resp);
      return;
    }
    // Our log does not contain (m.index, m.logTerm). Hint the leader at the largest (index,
    // term) that may match: the last entry at or before m.index with a term ≤ m.logTerm. This
    // skips our whole uncommitted tail of higher terms at once (fast backtracking).
    const hintIndex = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    if (debugEnabled(this.logger)) {
      this.logger.debug(
        { from: m.from, index: m.index },
        `${this.id} [logterm: ${this.log.term(m.index)}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
      );
    }
    resp.index = m.index;
    resp.reject = true;
    resp.rejectHint = hintIndex;
    resp.logTerm = this.log.term(hintIndex);
    this.send(resp);
  }

  handleHeartbeat(m: Message): void {
    if (m.commit > this.log.lastIndex()) {
      // The leader only sends commit ≤ what it knows we have. A larger one means our log lost
      // acknowledged entries (or the message is bogus): refuse it loudly, do not crash.
      this.logger.error({ from: m.from, commit: m.commit, lastIndex: this.log.lastIndex() }, `${this.id} refused heartbeat commit ${m.commit} beyond its last index ${this.log.lastIndex()}; was the raft log lost?`);
      throw new RaftError(RaftCodes.INVALID_MESSAGE, `heartbeat commit ${m.commit} is beyond the last index ${this.log.lastIndex()}`, {
        details: { from: m.from, commit: m.commit, lastIndex: this.log.lastIndex() },
      });
    }
    this.log.commitTo(m.commit);
    const resp = newMessage(MessageType.MsgHeartbeatResp, m.from, this.id, 0);
    resp.context = m.context;
    this.send(resp);
  }

  handleSnapshot(m: Message): void {
    const s = m.snapshot!;
    const { index, term } = s.metadata;
    const resp = newMessage(MessageType.MsgAppResp, m.from, this.id, 0);
    if (this.restore(s)) {
      resp.index = this.log.lastIndex();
    } else {
      this.logger.info({ index, term }, `${this.id} [commit: ${this.log.committed}] ignored snapshot [index: ${index}, term: ${term}]`);
      resp.index = this.log.committed;
    }
    this.send(resp);
  }

  /** Installs a snapshot from the leader; false when it is not needed. */
  private restore(s: Snapshot): boolean {
    const { index, term, confState: cs } = s.metadata;
    if (index <= this.log.committed) return false;
    if (this.state !== StateRole.Follower) {
      // Defense in depth: a snapshot only comes from a leader, which made us a follower.
      this.logger.warn({}, `${this.id} attempted to restore snapshot as ${this.state === StateRole.Leader ? 'leader' : 'candidate'}; should never happen`);
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    // Defense in depth: a snapshot that does not include us would leave us without Progress.
    if (!cs.voters.includes(this.id) && !cs.learners.includes(this.id) && !cs.votersOutgoing.includes(this.id)) {
      this.logger.warn({}, `${this.id} attempted to restore snapshot but it is not in the ConfState; should never happen`);
      return false;
    }
    if (this.log.matchTerm(index, term)) {
      // We have the entry already: just move commit forward.
      this.logger.info(
        { index, term },
        `${this.id} [commit: ${this.log.committed}, lastindex: ${this.log.lastIndex()}, lastterm: ${this.log.lastTerm()}] fast-forwarded commit to snapshot [index: ${index}, term: ${term}]`,
      );
      this.log.commitTo(index);
      return false;
    }
    // Validate the configuration before touching the log.
    const fresh = new ProgressTracker(this.trk.maxInflight, this.trk.maxInflightBytes);
    let restored;
    try {
      restored = restoreConfig(fresh, index, cs);
    } catch (e) {
      this.logger.error({ err: e }, `${this.id} refused snapshot [index: ${index}, term: ${term}] with an invalid configuration`);
      return false;
    }
    this.log.restore(s);
    this.trk = fresh;
    this.switchToConfig(restored.config, restored.progress);
    this.logger.info(
      { index, term },
      `${this.id} [commit: ${this.log.committed}, lastindex: ${this.log.lastIndex()}, lastterm: ${this.log.lastTerm()}] restored snapshot [index: ${index}, term: ${term}]`,
    );
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Configuration.

  private restoreConfState(cs: ConfState, what: string): void {
    let restored;
    try {
      restored = restoreConfig(this.trk, this.log.lastIndex(), cs);
    } catch (e) {
      throw new RaftError(RaftCodes.STORE_INCONSISTENT, `invalid ConfState in ${what}: ${(e as Error).message}`, { cause: e });
    }
    const got = this.switchToConfig(restored.config, restored.progress);
    if (!confStatesEquivalent(cs, got)) {
      throw new RaftError(RaftCodes.STORE_INCONSISTENT, `invalid ConfState in ${what}: restored ${JSON.stringify(got)} from ${JSON.stringify(cs)}`);
    }
  }

  /**
   * Applies a committed conf change (the caller calls this when applying the entry). Throws
   * RaftError(CONF_CHANGE_ERROR), changing nothing, when the change is not valid here.
   */
  applyConfChange(cc: AnyConfChange): ConfState {
    const v2 = asV2(cc);
    const changer = new Changer(this.trk, this.log.lastIndex());
    let res;
    if (leaveJoint(v2)) res = changer.leaveJoint();
    else {
      const j = enterJoint(v2);
      res = j !== undefined ? changer.enterJoint(j.autoLeave, v2.changes) : changer.simple(v2.changes);
    }
    return this.switchToConfig(res.config, res.progress);
  }

  /** Makes a configuration active and reacts to it: step down, commit more, probe new members. */
  switchToConfig(config: TrackerConfig, progress: ProgressMap): ConfState {
    this.trk.config = config;
    this.trk.progress = progress;
    this.logger.info({}, `${this.id} switched to configuration ${describeTrackerConfig(config)}`);
    const cs = this.trk.confState();
    const pr = progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;
    if ((pr === undefined || this.isLearner) && this.state === StateRole.Leader) {
      // A leader removed (or demoted) by the change steps down.
      if (this.cfg.stepDownOnRemoval) this.becomeFollower(this.term, NONE);
      return cs;
    }
    if (this.state !== StateRole.Leader || cs.voters.length === 0) return cs;
    if (this.maybeCommit()) {
      // The new quorum commits more: tell everyone in the new configuration.
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else {
      // Probe new members right away rather than at the next heartbeat.
      const { ids } = this.trk.progress;
      for (let i = 0; i < ids.length; i++) if (ids[i] !== this.id) this.maybeSendAppend(ids[i]!, false);
    }
    // A transfer to a node that is no longer a voter cannot finish.
    if (this.leadTransferee !== NONE && !this.trk.isVoter(this.leadTransferee)) {
      this.logger.info({ transferee: this.leadTransferee }, `${this.id} [term ${this.term}] abandoned transferring leadership to ${this.leadTransferee}: no longer a voter`);
      this.abortLeaderTransfer();
    }
    return cs;
  }

  /** True when the configuration is joint. */
  isJoint(): boolean {
    return isJoint(this.trk.config);
  }

  // ---------------------------------------------------------------------------------------------
  // Leader transfer and reads.

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  /** Answers a read request at `readIndex`: locally as a ReadState, or to the follower that asked. */
  responseToReadIndexReq(req: Message, readIndex: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.addReadState(readIndex, req.entries[0]!.data);
      return;
    }
    const m = newMessage(MessageType.MsgReadIndexResp, req.from, this.id, 0);
    m.index = readIndex;
    m.entries = req.entries;
    this.send(m);
  }

  addReadState(index: number, requestCtx: Uint8Array): void {
    if (this.readStates === null) this.readStates = [];
    this.readStates.push({ index, requestCtx });
  }

  /** Handles a ReadIndex request on a leader that committed an entry of its term. */
  sendMsgReadIndexResponse(m: Message): void {
    if (this.cfg.readOnlyOption === ReadOnlyOption.Safe) {
      // Confirm leadership with a heartbeat round carrying the request context (thesis §6.4).
      if (this.readOnly === null) this.readOnly = new ReadOnly();
      const ctx = m.entries[0]!.data;
      this.readOnly.addRequest(this.log.committed, m, this.id);
      this.bcastHeartbeatWithCtx(ctx);
    } else {
      // Lease-based (thesis §6.4.1): CheckQuorum keeps the leader from serving past its lease.
      this.responseToReadIndexReq(m, this.log.committed);
    }
  }

  /** Holds a ReadIndex request until this leader commits an entry of its term. */
  holdReadIndex(m: Message): void {
    if (this.pendingReadIndexMessages === null) this.pendingReadIndexMessages = [];
    this.pendingReadIndexMessages.push(m);
  }

  private releasePendingReadIndexMessages(): void {
    const msgs = this.pendingReadIndexMessages;
    if (msgs === null || msgs.length === 0) return;
    if (!this.committedEntryInCurrentTerm()) return;
    this.pendingReadIndexMessages = null;
    for (const m of msgs) this.sendMsgReadIndexResponse(m);
  }

  /** A heartbeat ack carrying a read context: answer the reads a quorum confirmed. */
  handleReadIndexAck(from: number, ctx: Uint8Array): void {
    const ro = this.readOnly;
    if (ro === null) return;
    const acks = ro.recvAck(from, ctx);
    if (acks === undefined || this.trk.voteResultOf(acks) !== VoteResult.Won) return;
    for (const rs of ro.advance(ctx)) this.responseToReadIndexReq(rs.req, rs.index);
  }

  /** Number of safe-mode reads waiting for a heartbeat quorum (for status and tests). */
  pendingReadCount(): number {
    return (this.readOnly?.size ?? 0) + (this.pendingReadIndexMessages?.length ?? 0);
  }

  /** Forgets the current leader (etcd ForgetLeader), so pre-votes can be granted at once. */
  forgetLeader(): void {
    if (this.state !== StateRole.Follower) return;
    if (this.cfg.readOnlyOption === ReadOnlyOption.LeaseBased) {
      this.logger.error({}, `${this.id} ignoring forget-leader due to ReadOnlyLeaseBased`);
      return;
    }
    if (this.lead !== NONE) {
      this.logger.info({ lead: this.lead, term: this.term }, `${this.id} forgetting leader ${this.lead} at term ${this.term}`);
      this.lead = NONE;
    }
  }
}

/** Compares two ConfStates as sets (order-insensitive). */
export function confStatesEquivalent(a: ConfState, b: ConfState): boolean {
  const same = (x: readonly number[], y: readonly number[]): boolean => {
    const sx = [...new Set(x)].sort((p, q) => p - q);
    const sy = [...new Set(y)].sort((p, q) => p - q);
    return sx.length === sy.length && sx.every((v, i) => v === sy[i]);
  };
  return (
    same(a.voters, b.voters) &&
    same(a.learners, b.learners) &&
    same(a.votersOutgoing, b.votersOutgoing) &&
    same(a.learnersNext, b.learnersNext) &&
    a.autoLeave === b.autoLeave
  );
}

// -----------------------------------------------------------------------------------------------
// Tick functions (one per role family, assigned to `tickFn`).

/** Followers and candidates: campaign when the election timeout passes (§5.2). */
export function tickElection(r: Raft): void {
  r.electionElapsed++;
  if (r.promotable() && r.pastElectionTimeout()) {
    r.electionElapsed = 0;
    r.step(newMessage(MessageType.MsgHup, NONE, r.id, 0));
  }
}

/** Leaders: heartbeats every heartbeatTick; CheckQuorum and transfer timeouts every electionTick. */
export function tickHeartbeat(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.cfg.electionTick) {
    r.electionElapsed = 0;
    if (r.cfg.checkQuorum) r.step(newMessage(MessageType.MsgCheckQuorum, NONE, r.id, 0));
    // A transfer that did not finish within an election timeout is abandoned.
    if (r.state === StateRole.Leader && r.leadTransferee !== NONE) {
      r.logger.info({ transferee: r.leadTransferee }, `${r.id} [term ${r.term}] abandoned transferring leadership to ${r.leadTransferee}: not done within an election timeout`);
      r.abortLeaderTransfer();
    }
  }
  if (r.state !== StateRole.Leader) return;
  if (r.heartbeatElapsed >= r.cfg.heartbeatTick) {
    r.heartbeatElapsed = 0;
    r.step(newMessage(MessageType.MsgBeat, NONE, r.id, 0));
  }
}
