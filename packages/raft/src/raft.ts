/**
 * The Raft state machine (etcd `raft.go`, raft-rs `raft.rs`). One `Raft` is one member of one
 * group. It is driven from outside (RawNode) by `tick()` and `step(message)` and produces
 * outgoing messages (`msgs`), log changes (`log`), read states and state changes, which RawNode
 * packages into Readies.
 *
 * Composition (STYLE.md §1): `log/` holds the log, `tracker/` the membership and per-follower
 * progress, `quorum/` the arithmetic, `confchange/` the membership changes. Role behaviour is a
 * function slot (`stepFn`/`tickFn`) pointing at `stepLeader` (raft-leader.ts), `stepCandidate`
 * or `stepFollower` (raft-follower.ts). Elections and the term rules of `step` live in
 * raft-election.ts, ReadIndex in raft-read.ts. This file holds the state, role transitions, and
 * the replication machinery the leader uses (Raft paper §5.3): sending appends, heartbeats and
 * snapshots, commit, persistence and apply bookkeeping, and configuration switches.
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
import { ReadOnly } from './read-only.js';
import type { FetchContext, LogStorage } from './storage.js';
import { FETCH_OTHER, TEMPORARILY_UNAVAILABLE } from './storage.js';
import type { Progress } from './tracker/progress.js';
import { ProgressState } from './tracker/progress.js';
import type { ProgressMap } from './tracker/progress-map.js';
import type { TrackerConfig } from './tracker/tracker.js';
import { ProgressTracker, describeTrackerConfig, isJoint } from './tracker/tracker.js';
import type { ConfState, Entry, HardState, Message, ReadState } from './types.js';
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
} from './types.js';
import { stepLeader } from './raft-leader.js';
import { CampaignType, handleVoteRequest, hup, stepHigherTerm, stepLowerTerm } from './raft-election.js';
import { releasePendingReadIndexMessages } from './raft-read.js';
import { stepCandidate, stepFollower } from './raft-follower.js';

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
  /** Pending safe-mode ReadIndex requests (leader only; see raft-read.ts); created on first use. */
  readOnly: ReadOnly | null = null;
  /** ReadIndex requests received before this leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] | null = null;
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
    releasePendingReadIndexMessages(this);
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





  // ---------------------------------------------------------------------------------------------
  // Step: the term rules every role shares (Raft paper §5.1), then the role's step function.

  /** Processes one message. Throws RaftError for refused proposals. */
  step(m: Message): void {
    if (m.term === 0) {
      // A local message.
    } else if (m.term > this.term) {
      if (stepHigherTerm(this, m)) return;
    } else if (m.term < this.term) {
      stepLowerTerm(this, m);
      return;
    }
    switch (m.msgType) {
      case MessageType.MsgHup:
        hup(this, this.cfg.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote:
        handleVoteRequest(this, m);
        return;
      default:
        this.stepFn(this, m);
    }
  }




  tick(): void {
    this.tickFn(this);
  }

  // ---------------------------------------------------------------------------------------------
  // Follower-side handlers shared by followers and candidates.





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
      releasePendingReadIndexMessages(this);
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


  addReadState(index: number, requestCtx: Uint8Array): void {
    if (this.readStates === null) this.readStates = [];
    this.readStates.push({ index, requestCtx });
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
