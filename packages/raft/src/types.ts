/**
 * Raft's data model: messages, entries, hard state, conf state and snapshots.
 *
 * These are plain objects that mirror kvproto's `eraftpb` (the same proto raft-rs uses) field for
 * field, so the store can translate them to and from the wire 1:1. Ids, terms and indexes are JS
 * `number`s (exact up to 2^53, far beyond any real term or index). `0` is "none" for ids and the
 * "zero" term/index, as in eraftpb.
 *
 * Message type names follow etcd's short spelling (`MsgApp`, `MsgVote`, …) so code and traces
 * read like etcd-io/raft; the numbers are eraftpb's (`MsgAppend` = 3, `MsgRequestVote` = 5, …).
 */

/** No node (eraftpb uses 0 for "no id"). */
export const NONE = 0;

/**
 * Raft message types with eraftpb's numbers. etcd name → eraftpb name where they differ:
 * MsgApp=MsgAppend, MsgAppResp=MsgAppendResponse, MsgVote=MsgRequestVote,
 * MsgVoteResp=MsgRequestVoteResponse, MsgSnap=MsgSnapshot, MsgHeartbeatResp=MsgHeartbeatResponse,
 * MsgProp=MsgPropose, MsgPreVote=MsgRequestPreVote, MsgPreVoteResp=MsgRequestPreVoteResponse.
 */
export const MessageType = {
  MsgHup: 0,
  MsgBeat: 1,
  MsgProp: 2,
  MsgApp: 3,
  MsgAppResp: 4,
  MsgVote: 5,
  MsgVoteResp: 6,
  MsgSnap: 7,
  MsgHeartbeat: 8,
  MsgHeartbeatResp: 9,
  MsgUnreachable: 10,
  MsgSnapStatus: 11,
  MsgCheckQuorum: 12,
  MsgTransferLeader: 13,
  MsgTimeoutNow: 14,
  MsgReadIndex: 15,
  MsgReadIndexResp: 16,
  MsgPreVote: 17,
  MsgPreVoteResp: 18,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const MESSAGE_TYPE_NAMES: readonly string[] = Object.keys(MessageType);

/** The etcd-style name of a message type ("MsgApp"), or `Msg?<n>` for an unknown number. */
export function messageTypeName(t: number): string {
  return MESSAGE_TYPE_NAMES[t] ?? `Msg?${t}`;
}

/** True for a number that names a message type. */
export function isMessageType(t: unknown): t is MessageType {
  return typeof t === 'number' && Number.isInteger(t) && t >= 0 && t < MESSAGE_TYPE_NAMES.length;
}

/** eraftpb `EntryType`. */
export const EntryType = { EntryNormal: 0, EntryConfChange: 1, EntryConfChangeV2: 2 } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** One log entry (eraftpb `Entry`; the deprecated `sync_log` is not carried). */
export interface Entry {
  entryType: EntryType;
  term: number;
  index: number;
  /** The payload. For conf-change entries, an encoded ConfChange / ConfChangeV2 (see codec.ts). */
  data: Uint8Array;
  /** Opaque caller data that travels with the entry (eraftpb field 6). */
  context?: Uint8Array | undefined;
}

/** eraftpb `ConfState`: the membership as of some log index. All id lists are sorted in output. */
export interface ConfState {
  voters: number[];
  learners: number[];
  /** The outgoing voters of a joint configuration; empty when not joint. */
  votersOutgoing: number[];
  /** Learners to add when leaving the joint configuration (voters being demoted). */
  learnersNext: number[];
  /** Whether raft leaves the joint configuration by itself once it is applied. */
  autoLeave: boolean;
}

/** eraftpb `SnapshotMetadata`. */
export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

/** eraftpb `Snapshot`: opaque state-machine data plus the point of the log it stands for. */
export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

/** eraftpb `HardState`: what must be durable before messages that depend on it are sent. */
export interface HardState {
  term: number;
  vote: number;
  commit: number;
}

/**
 * eraftpb `Message`. Field meaning depends on the type:
 * - MsgApp: `index`/`logTerm` identify the entry preceding `entries`; `commit` is the leader's commit.
 * - MsgAppResp: `index` is the follower's last matching index, or on `reject` the rejected
 *   `index`, with `rejectHint`/`logTerm` naming the follower's guess (index, term) of a match.
 * - MsgVote/MsgPreVote: `index`/`logTerm` are the candidate's last entry.
 * - MsgHeartbeat(Resp): `context` carries a ReadIndex request context in safe mode.
 * - MsgReadIndex(Resp): `entries[0].data` is the request context; `index` the read index.
 *
 * `step` takes ownership of a message object: raft may forward it (rewriting `to`/`term`).
 */
export interface Message {
  msgType: MessageType;
  to: number;
  from: number;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot | undefined;
  reject: boolean;
  rejectHint: number;
  context?: Uint8Array | undefined;
  /** eraftpb field 13 (raft-rs request-snapshot). Carried for wire fidelity; unused by this core. */
  requestSnapshot: number;
  /** The candidate's election priority (eraftpb field 15); see Config.priority. */
  priority: number;
}

/** eraftpb `ConfChangeType`. */
export const ConfChangeType = { AddNode: 0, RemoveNode: 1, AddLearnerNode: 2 } as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/** eraftpb `ConfChangeTransition`: how a ConfChangeV2 uses joint consensus. */
export const ConfChangeTransition = {
  /** Joint consensus left automatically when the change needs one; simple change otherwise. */
  Auto: 0,
  /** Joint consensus, left automatically. */
  Implicit: 1,
  /** Joint consensus, left only when the application proposes an empty ConfChangeV2. */
  Explicit: 2,
} as const;
export type ConfChangeTransition = (typeof ConfChangeTransition)[keyof typeof ConfChangeTransition];

/** eraftpb `ConfChange` (the V1 single-change form). */
export interface ConfChange {
  id: number;
  changeType: ConfChangeType;
  nodeId: number;
  context: Uint8Array;
}

/** eraftpb `ConfChangeSingle`. */
export interface ConfChangeSingle {
  changeType: ConfChangeType;
  nodeId: number;
}

/** eraftpb `ConfChangeV2`. An empty `changes` list means "leave the joint configuration". */
export interface ConfChangeV2 {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context: Uint8Array;
}

/** Raft roles, numbered as raft-rs `StateRole` / etcd `StateType`. */
export const StateRole = { Follower: 0, Candidate: 1, Leader: 2, PreCandidate: 3 } as const;
export type StateRole = (typeof StateRole)[keyof typeof StateRole];
const ROLE_NAMES = ['Follower', 'Candidate', 'Leader', 'PreCandidate'] as const;
/** "Follower", "Candidate", "Leader" or "PreCandidate". */
export function stateRoleName(r: StateRole): string {
  return ROLE_NAMES[r];
}

/** The volatile state a caller may want to react to: who leads, and our role. */
export interface SoftState {
  lead: number;
  raftState: StateRole;
}

/** The result of a ReadIndex request: reads reflecting `index` are linearizable once applied. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/** How ReadIndex confirms leadership (etcd `ReadOnlyOption`). */
export const ReadOnlyOption = {
  /** Confirm with a heartbeat round to a quorum (raft thesis §6.4). */
  Safe: 0,
  /** Trust the leader lease kept by CheckQuorum; unsafe under unbounded clock drift (§6.4.1). */
  LeaseBased: 1,
} as const;
export type ReadOnlyOption = (typeof ReadOnlyOption)[keyof typeof ReadOnlyOption];

/** Outcome of sending a snapshot, reported by the caller through `reportSnapshot`. */
export const SnapshotStatus = { Finish: 0, Failure: 1 } as const;
export type SnapshotStatus = (typeof SnapshotStatus)[keyof typeof SnapshotStatus];

const EMPTY_BYTES = new Uint8Array(0);
/** A shared empty byte array (never write into it). */
export const emptyBytes = (): Uint8Array => EMPTY_BYTES;

/** A shared, frozen empty entry list: pushing to it throws, so it is safe to share. */
export const EMPTY_ENTRIES: Entry[] = Object.freeze([]) as unknown as Entry[];

/** A message with every field present (one hidden class for all messages raft creates). */
export function newMessage(msgType: MessageType, to: number, from: number, term: number): Message {
  return {
    msgType,
    to,
    from,
    term,
    logTerm: 0,
    index: 0,
    entries: EMPTY_ENTRIES,
    commit: 0,
    snapshot: undefined,
    reject: false,
    rejectHint: 0,
    context: undefined,
    requestSnapshot: 0,
    priority: 0,
  };
}

/** An entry with every field present. */
export function newEntry(
  entryType: EntryType,
  term: number,
  index: number,
  data: Uint8Array,
  context?: Uint8Array,
): Entry {
  return { entryType, term, index, data, context };
}

/** An empty ConfState. */
export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

/** True when the snapshot stands for nothing (index 0), as eraftpb's default value does. */
export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

/** True when both hard states are equal field by field. */
export function hardStateEquals(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** True for responses, which need a Progress at the sender (raft-rs `is_response_msg`). */
export function isResponseMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgAppResp ||
    t === MessageType.MsgVoteResp ||
    t === MessageType.MsgHeartbeatResp ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgPreVoteResp
  );
}

/** True for message types that never cross the network (etcd `IsLocalMsg`). */
export function isLocalMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgHup ||
    t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum
  );
}

/** The response type for a (pre-)vote request. */
export function voteRespMsgType(t: MessageType): MessageType {
  if (t === MessageType.MsgVote) return MessageType.MsgVoteResp;
  if (t === MessageType.MsgPreVote) return MessageType.MsgPreVoteResp;
  throw new TypeError(`not a vote message: ${messageTypeName(t)}`);
}

/** The payload size raft accounts for an entry (flow control, uncommitted and message limits). */
export function entryPayloadSize(e: Entry): number {
  return e.data.length + (e.context === undefined ? 0 : e.context.length);
}

/** The total payload size of a run of entries. */
export function payloadsSize(ents: readonly Entry[]): number {
  let s = 0;
  for (let i = 0; i < ents.length; i++) s += entryPayloadSize(ents[i]!);
  return s;
}
