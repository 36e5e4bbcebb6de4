/**
 * RawNode: the API a store drives (raft-rs `raw_node.rs`, etcd `rawnode.go`).
 *
 * Input: `tick()`, `step(message)`, and the request methods (`propose`, `proposeConfChange`,
 * `readIndex`, `transferLeader`, `campaign`, …). Output: numbered Readies.
 *
 * ## The Ready protocol
 *
 * `hasReady()` says whether there is work; `ready()` takes it as a `Ready` numbered 1, 2, 3, …
 * Handling one:
 *
 * 1. `messages` may be sent at once (they are a leader's appends and heartbeats: a leader may
 *    replicate before its own write is durable, raft thesis §10.2.1).
 * 2. Write `snapshot` (if any), `entries` and `hardState` to storage. Make them visible through
 *    LogStorage before step 4; make them durable before step 5. `mustSync` says whether the write
 *    needs an fsync (false when only the commit index changed).
 * 3. Apply `committedEntries` (all are durable locally already) and the snapshot; answer
 *    `readStates` once the applied index reaches their index.
 * 4. Acknowledge the Ready:
 *    - synchronously: after the write is durable, `advance(rd)` (or `advanceAppend(rd)` and
 *      `advanceApply…` later). It returns a `LightReady` with more committed entries and
 *      messages, which must be handled the same way;
 *    - asynchronously: `advanceAppendAsync(rd)` right away (before stepping anything else),
 *      and `onPersistReady(rd.number)` when the write is durable. Several Readies may be in
 *      flight; `onPersistReady(n)` acknowledges every Ready up to n.
 * 5. `persistedMessages` (votes, append responses, …) may only be sent after the Ready's write
 *    is durable: they promise what was written.
 * 6. Report application with `advanceApply()` / `advanceApplyTo(index)`.
 */
import type { AnyConfChange } from './conf-change.js';
import { confChangeToEntryData } from './conf-change.js';
import type { Config } from './config.js';
import { resolveConfig } from './config.js';
import { RaftCodes, RaftError, RaftInvariantViolation, invariant } from './errors.js';
import { Raft } from './raft.js';
import type { BasicStatus, Status } from './status.js';
import { basicStatusOf, statusOf } from './status.js';
import type { FetchContext, LogStorage } from './storage.js';
import type { ConfState, Entry, HardState, Message, ReadState, Snapshot, SoftState, SnapshotStatus } from './types.js';
import { EMPTY_ENTRIES, EntryType, MessageType, NONE, SnapshotStatus as SnapStatus, StateRole, isLocalMsg, isResponseMsg, newEntry, newMessage } from './types.js';
import { validateMessage } from './validate.js';

/** Everything raft wants the caller to do, in one numbered batch. */
export interface Ready {
  /** Monotonic per RawNode, starting at 1; acknowledged with onPersistReady(number). */
  readonly number: number;
  /** The leader or role changed. */
  readonly softState: SoftState | undefined;
  /** The hard state changed: persist it with the entries. */
  readonly hardState: HardState | undefined;
  /** Results of ReadIndex requests. */
  readonly readStates: ReadState[];
  /** Entries to append to storage (they may replace a conflicting tail). */
  readonly entries: Entry[];
  /** A snapshot from the leader to install in storage and the state machine. */
  readonly snapshot: Snapshot | undefined;
  /** Entries to apply, in order. */
  readonly committedEntries: Entry[];
  /** Messages to send now. */
  readonly messages: Message[];
  /** Messages to send only once this Ready's writes are durable. */
  readonly persistedMessages: Message[];
  /** Whether the writes must be fsynced (entries, snapshot, term or vote changed). */
  readonly mustSync: boolean;
}

/** What becomes possible once a Ready's writes are durable (synchronous flow). */
export interface LightReady {
  /** The new commit index, if it advanced. */
  readonly commitIndex: number | undefined;
  readonly committedEntries: Entry[];
  /** Messages to send now. */
  readonly messages: Message[];
}

/** Bookkeeping of a Ready until its writes are acknowledged. */
interface ReadyRecord {
  number: number;
  /** (index, term) of the last entry handed out, or index 0. */
  lastIndex: number;
  lastTerm: number;
  /** Index of the snapshot handed out, or 0. */
  snapIndex: number;
}

const EMPTY_MESSAGES: Message[] = Object.freeze([]) as unknown as Message[];
const EMPTY_READ_STATES: ReadState[] = Object.freeze([]) as unknown as ReadState[];

export class RawNode {
  /** The state machine. Internal: for tests and diagnostics, not a stable API. */
  readonly raft: Raft;
  private prevLead: number;
  private prevRaftState: StateRole;
  private prevTerm: number;
  private prevVote: number;
  private prevCommit: number;
  private maxNumber = 0;
  /** Readies handed out and not yet acknowledged as durable, oldest first. */
  private records: ReadyRecord[] = [];
  /** Everything up to here was handed out to apply (or covered by a handed-out snapshot). */
  private commitSinceIndex: number;

  /**
   * Creates a node from the state in `storage`. Throws RaftError(CONFIG_INVALID) for a bad
   * config and RaftError(STORE_INCONSISTENT) for an inconsistent initial state.
   */
  constructor(config: Config, storage: LogStorage) {
    const cfg = resolveConfig(config);
    this.raft = new Raft(cfg, storage);
    this.commitSinceIndex = cfg.applied;
    this.prevLead = this.raft.lead;
    this.prevRaftState = this.raft.state;
    this.prevTerm = this.raft.term;
    this.prevVote = this.raft.vote;
    this.prevCommit = this.raft.log.committed;
  }

  // ---------------------------------------------------------------------------------------------
  // Input.

  /** Advances logical time by one tick (elections, heartbeats, CheckQuorum). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (as if the election timeout passed). */
  campaign(): void {
    this.raft.step(newMessage(MessageType.MsgHup, NONE, this.raft.id, 0));
  }

  /**
   * Proposes one entry. On a follower it is forwarded to the leader (unless disabled). Throws
   * RaftError(PROPOSAL_DROPPED) when it is refused here.
   */
  propose(data: Uint8Array, context?: Uint8Array): void {
    const m = newMessage(MessageType.MsgProp, NONE, this.raft.id, 0);
    m.entries = [newEntry(EntryType.EntryNormal, 0, 0, data, context)];
    this.raft.step(m);
  }

  /** Proposes several entries as one message (one append and one broadcast for all). */
  proposeBatch(datas: readonly Uint8Array[]): void {
    if (datas.length === 0) return;
    const ents: Entry[] = new Array<Entry>(datas.length);
    for (let i = 0; i < datas.length; i++) ents[i] = newEntry(EntryType.EntryNormal, 0, 0, datas[i]!);
    const m = newMessage(MessageType.MsgProp, NONE, this.raft.id, 0);
    m.entries = ents;
    this.raft.step(m);
  }

  /**
   * Proposes a configuration change: a ConfChange (one change, simple) or a ConfChangeV2 (any
   * number; joint consensus when needed or asked for, left automatically or, with the Explicit
   * transition, by proposing an empty ConfChangeV2). While another change is pending, the
   * proposal is replaced by an empty entry (logged). Apply it with `applyConfChange` when the
   * entry is committed.
   */
  proposeConfChange(cc: AnyConfChange, context?: Uint8Array): void {
    const { entryType, data } = confChangeToEntryData(cc);
    const m = newMessage(MessageType.MsgProp, NONE, this.raft.id, 0);
    m.entries = [newEntry(entryType, 0, 0, data, context)];
    this.raft.step(m);
  }

  /**
   * Applies a committed conf change and returns the new ConfState (store it with the applied
   * state). Throws RaftError(CONF_CHANGE_ERROR) and changes nothing if it is invalid here.
   */
  applyConfChange(cc: AnyConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Steps a message received from a peer. Throws RaftError: INVALID_MESSAGE (malformed),
   * STEP_LOCAL_MSG (a local-only type), STEP_PEER_NOT_FOUND (a response from a non-member), or
   * PROPOSAL_DROPPED (a forwarded proposal refused). Takes ownership of `m`.
   */
  step(m: Message): void {
    validateMessage(m, this.raft.id);
    if (isLocalMsg(m.msgType)) throw new RaftError(RaftCodes.STEP_LOCAL_MSG, 'raft: cannot step a local message');
    if (isResponseMsg(m.msgType) && !this.raft.trk.progress.has(m.from)) {
      throw new RaftError(RaftCodes.STEP_PEER_NOT_FOUND, `raft: no peer ${m.from} for ${m.msgType}`, { details: { from: m.from } });
    }
    this.raft.step(m);
  }

  /**
   * Requests a linearizable read point. `ctx` identifies the request (unique per pending
   * request); the answer arrives as a ReadState with the same ctx in a later Ready.
   */
  readIndex(ctx: Uint8Array): void {
    const m = newMessage(MessageType.MsgReadIndex, NONE, NONE, 0);
    m.entries = [newEntry(EntryType.EntryNormal, 0, 0, ctx)];
    this.raft.step(m);
  }

  /** Asks the leader to hand leadership to `transferee` (forwarded when called on a follower). */
  transferLeader(transferee: number): void {
    const m = newMessage(MessageType.MsgTransferLeader, this.raft.id, transferee, 0);
    this.raft.step(m);
  }

  /** Forgets the current leader, so this follower can grant pre-votes right away (etcd). */
  forgetLeader(): void {
    this.raft.forgetLeader();
  }

  /** Tells the leader that the last message to `id` probably did not arrive. */
  reportUnreachable(id: number): void {
    this.raft.step(newMessage(MessageType.MsgUnreachable, NONE, id, 0));
  }

  /** Reports how sending a snapshot to `id` ended. */
  reportSnapshot(id: number, status: SnapshotStatus): void {
    const m = newMessage(MessageType.MsgSnapStatus, NONE, id, 0);
    m.reject = status === SnapStatus.Failure;
    this.raft.step(m);
  }

  /** On a leader, sends heartbeats now (e.g. to retry sends after a snapshot was generated). */
  ping(): void {
    if (this.raft.state === StateRole.Leader) this.raft.bcastHeartbeat();
  }

  /**
   * The storage finished loading entries it answered TEMPORARILY_UNAVAILABLE for: retry the
   * send (ignored if leadership or term changed, or the peer is gone).
   */
  onEntriesFetched(ctx: FetchContext): void {
    if (ctx.kind !== 'append') {
      throw new RaftError(RaftCodes.INVALID_MESSAGE, `onEntriesFetched called for a synchronous fetch (${ctx.kind})`);
    }
    const r = this.raft;
    if (r.term !== ctx.term || r.state !== StateRole.Leader || !r.trk.progress.has(ctx.to)) return;
    r.sendAppend(ctx.to);
    while (r.maybeSendAppend(ctx.to, false));
  }

  /** The storage has a snapshot ready (it answered TEMPORARILY_UNAVAILABLE before): retry for `to`. */
  onSnapshotGenerated(to: number): void {
    const r = this.raft;
    if (r.state !== StateRole.Leader || !r.trk.progress.has(to)) return;
    r.sendAppend(to);
  }

  /**
   * Holds (or releases) appends to follower `to`: while held the leader sends it no entries and
   * no snapshot, only heartbeats (it still votes and counts for commit with what it has). On
   * release the leader sends what it missed at once. No-op on a follower or for a non-member;
   * progress made by a later election starts unheld.
   */
  holdAppends(to: number, held: boolean): void {
    const r = this.raft;
    const pr = r.trk.progress.get(to);
    if (r.state !== StateRole.Leader || pr === undefined || to === r.id || pr.appendsHeld === held) return;
    pr.appendsHeld = held;
    if (!held) r.sendAppend(to);
  }

  /** Changes this node's election priority. */
  setPriority(priority: number): void {
    this.raft.priority = priority;
  }

  /** Turns immediate commit broadcasts off or on. */
  setSkipBcastCommit(skip: boolean): void {
    this.raft.skipBcastCommit = skip;
  }

  // ---------------------------------------------------------------------------------------------
  // Output.

  /** True when `ready()` has something to hand out. */
  hasReady(): boolean {
    const r = this.raft;
    if (r.msgs.length > 0) return true;
    if (r.lead !== this.prevLead || r.state !== this.prevRaftState) return true;
    if (r.term !== this.prevTerm || r.vote !== this.prevVote || r.log.committed !== this.prevCommit) return true;
    if (r.readStates !== null && r.readStates.length > 0) return true;
    if (r.log.unstable.length > 0 || r.log.unstable.snapshot !== undefined) return true;
    return r.log.hasNextCommittedEntriesSince(this.commitSinceIndex);
  }

  /** Takes the pending work as the next numbered Ready. */
  ready(): Ready {
    const r = this.raft;
    const number = ++this.maxNumber;
    const rec: ReadyRecord = { number, lastIndex: 0, lastTerm: 0, snapIndex: 0 };
    let mustSync = false;
    let softState: SoftState | undefined;
    if (r.lead !== this.prevLead || r.state !== this.prevRaftState) softState = { lead: r.lead, raftState: r.state };
    let hardState: HardState | undefined;
    if (r.term !== this.prevTerm || r.vote !== this.prevVote || r.log.committed !== this.prevCommit) {
      hardState = r.hardState();
      if (r.term !== this.prevTerm || r.vote !== this.prevVote) mustSync = true;
    }
    let readStates = EMPTY_READ_STATES;
    if (r.readStates !== null && r.readStates.length > 0) {
      readStates = r.readStates;
      r.readStates = null;
    }
    const snapshot = r.log.unstable.snapshot;
    if (snapshot !== undefined) {
      const idx = snapshot.metadata.index;
      invariant(this.commitSinceIndex <= idx, 'a snapshot behind entries already handed out to apply', { snapshot: idx, applied: this.commitSinceIndex });
      this.commitSinceIndex = idx;
      rec.snapIndex = idx;
      mustSync = true;
    }
    let entries = EMPTY_ENTRIES;
    if (r.log.unstable.length > 0) {
      entries = r.log.unstable.all();
      const last = entries[entries.length - 1]!;
      rec.lastIndex = last.index;
      rec.lastTerm = last.term;
      mustSync = true;
    }
    // A leader's messages go out now; everything a non-leader says depends on its writes.
    const isLeader = r.state === StateRole.Leader;
    const committedEntries = this.takeCommittedEntries();
    const msgs = this.takeMessages();
    this.records.push(rec);
    return {
      number,
      softState,
      hardState,
      readStates,
      entries,
      snapshot,
      committedEntries,
      messages: isLeader ? msgs : EMPTY_MESSAGES,
      persistedMessages: isLeader ? EMPTY_MESSAGES : msgs,
      mustSync,
    };
  }

  private takeCommittedEntries(): Entry[] {
    const r = this.raft;
    if (!r.log.hasNextCommittedEntriesSince(this.commitSinceIndex)) return EMPTY_ENTRIES;
    const ents = r.log.nextCommittedEntriesSince(this.commitSinceIndex, r.cfg.maxCommittedSizePerReady);
    if (ents.length === 0) return EMPTY_ENTRIES;
    r.reduceUncommittedSize(ents);
    const last = ents[ents.length - 1]!.index;
    if (this.commitSinceIndex >= last) throw new RaftInvariantViolation('committed entries go backwards', { since: this.commitSinceIndex, last });
    this.commitSinceIndex = last;
    return ents;
  }

  private takeMessages(): Message[] {
    const r = this.raft;
    if (r.msgs.length === 0) return EMPTY_MESSAGES;
    const msgs = r.msgs;
    r.msgs = [];
    return msgs;
  }

  /** Records that the caller took `rd` (its entries/snapshot are visible in storage). */
  private commitReady(rd: Ready): void {
    if (rd.softState !== undefined) {
      this.prevLead = rd.softState.lead;
      this.prevRaftState = rd.softState.raftState;
    }
    if (rd.hardState !== undefined) {
      this.prevTerm = rd.hardState.term;
      this.prevVote = rd.hardState.vote;
      this.prevCommit = rd.hardState.commit;
    }
    const rec = this.records[this.records.length - 1];
    if (rec === undefined || rec.number !== rd.number) {
      throw new RaftInvariantViolation(`advance called with Ready #${rd.number}, but the latest Ready is #${rec?.number ?? 'none'}`);
    }
    if (rec.snapIndex !== 0) this.raft.log.stableSnap(rec.snapIndex);
    if (rec.lastIndex !== 0) this.raft.log.stableTo(rec.lastIndex, rec.lastTerm);
  }

  /**
   * Synchronous flow: `rd`'s writes are durable and its committed entries applied. Returns the
   * LightReady to handle next (apply its entries, then call advanceApply()).
   */
  advance(rd: Ready): LightReady {
    const applied = this.commitSinceIndex;
    const light = this.advanceAppend(rd);
    this.advanceApplyTo(applied);
    return light;
  }

  /** Synchronous flow: `rd`'s writes are durable (application is reported separately). */
  advanceAppend(rd: Ready): LightReady {
    this.commitReady(rd);
    this.onPersistReady(rd.number);
    const committedEntries = this.takeCommittedEntries();
    const messages = this.takeMessages();
    let commitIndex: number | undefined;
    const c = this.raft.log.committed;
    if (c > this.prevCommit) {
      commitIndex = c;
      this.prevCommit = c;
    }
    return { commitIndex, committedEntries, messages };
  }

  /**
   * Asynchronous flow: the caller took `rd` and made its writes visible in storage; durability
   * is reported later with onPersistReady(rd.number). Call before stepping anything else.
   */
  advanceAppendAsync(rd: Ready): void {
    this.commitReady(rd);
  }

  /** Every Ready up to `number` is durable. */
  onPersistReady(number: number): void {
    let index = 0;
    let term = 0;
    let snapIndex = 0;
    let n = 0;
    const recs = this.records;
    while (n < recs.length && recs[n]!.number <= number) {
      const rec = recs[n++]!;
      if (rec.snapIndex !== 0) {
        snapIndex = rec.snapIndex;
        index = 0;
        term = 0;
      }
      if (rec.lastIndex !== 0) {
        index = rec.lastIndex;
        term = rec.lastTerm;
      }
    }
    if (n === 0) return;
    if (n === recs.length) this.records = [];
    else recs.splice(0, n);
    if (snapIndex !== 0) this.raft.onPersistSnap(snapIndex);
    if (index !== 0) this.raft.onPersistEntries(index, term);
  }

  /** Everything handed out to apply so far is applied. */
  advanceApply(): void {
    this.raft.commitApply(this.commitSinceIndex);
  }

  /** Entries up to `applied` are applied. */
  advanceApplyTo(applied: number): void {
    this.raft.commitApply(applied);
  }

  // ---------------------------------------------------------------------------------------------
  // Inspection.

  /** Cheap status: ids, term, indexes, role, transfer and conf-change state. */
  basicStatus(): BasicStatus {
    return basicStatusOf(this.raft);
  }

  /** Full status: adds the configuration and (on a leader) every member's progress. */
  status(): Status {
    return statusOf(this.raft);
  }

  get id(): number {
    return this.raft.id;
  }
  get term(): number {
    return this.raft.term;
  }
  get lead(): number {
    return this.raft.lead;
  }
  get raftState(): StateRole {
    return this.raft.state;
  }
  get commitIndex(): number {
    return this.raft.log.committed;
  }
  get appliedIndex(): number {
    return this.raft.log.applied;
  }
  /** The highest index known durable here (`basicStatus().persisted` without the object). */
  get persistedIndex(): number {
    return this.raft.log.persisted;
  }
  /** The index of the last entry in the log (`basicStatus().lastIndex` without the object). */
  get lastIndex(): number {
    return this.raft.log.lastIndex();
  }
  /** Whether a leader committed an entry of its own term (reads and leases depend on it). */
  get committedEntryInCurrentTerm(): boolean {
    return this.raft.state === StateRole.Leader && this.raft.committedEntryInCurrentTerm();
  }
}
