/**
 * @mrkv/raft: the Raft consensus core of mrkv, in the style of etcd-io/raft and tikv/raft-rs.
 *
 * Pure and deterministic: no clock (time is `tick()`), no randomness (an injected `RaftRng`), no
 * I/O (a synchronous, read-only `LogStorage`), no async. A `RawNode` is driven by ticks, peer
 * messages and requests, and answers with numbered `Ready`s that the caller persists, sends and
 * applies, synchronously or on other threads. See README.md for the protocol.
 */
export { RawNode } from './raw-node.js';
export type { Ready, LightReady } from './raw-node.js';
export { resolveConfig } from './config.js';
export type { Config, ResolvedConfig, RaftRng } from './config.js';
export { TEMPORARILY_UNAVAILABLE, FETCH_APPLY, FETCH_CAMPAIGN, FETCH_OTHER } from './storage.js';
export type { LogStorage, RaftState, FetchContext, TemporarilyUnavailable } from './storage.js';
export {
  MessageType,
  EntryType,
  ConfChangeType,
  ConfChangeTransition,
  StateRole,
  ReadOnlyOption,
  SnapshotStatus,
  NONE,
  EMPTY_ENTRIES,
  messageTypeName,
  stateRoleName,
  isMessageType,
  isLocalMsg,
  isResponseMsg,
  newMessage,
  newEntry,
  emptyConfState,
  isEmptySnapshot,
  entryPayloadSize,
  payloadsSize,
} from './types.js';
export type {
  Message,
  Entry,
  HardState,
  ConfState,
  Snapshot,
  SnapshotMetadata,
  ConfChange,
  ConfChangeSingle,
  ConfChangeV2,
  SoftState,
  ReadState,
} from './types.js';
export { RaftCodes, RaftError, RaftInvariantViolation, isRaftError } from './errors.js';
export type { RaftCode, RaftWireError } from './errors.js';
export { noopLogger } from './logger.js';
export type { Logger, RaftLogFn } from './logger.js';
export { encodeConfChange, decodeConfChange, encodeConfChangeV2, decodeConfChangeV2 } from './codec.js';
export {
  asV2,
  enterJoint,
  leaveJoint,
  isConfChangeV2,
  confChangeToEntryData,
  confChangeFromEntry,
  confChangesToString,
  confChangesFromString,
} from './conf-change.js';
export type { AnyConfChange } from './conf-change.js';
export { ProgressState, progressStateName } from './tracker/progress.js';
export type { BasicStatus, Status, ProgressStatus } from './status.js';
export {
  describeEntry,
  describeEntries,
  describeMessage,
  describeConfState,
  describeSnapshot,
  describeHardState,
  describeSoftState,
  describeReadState,
  defaultDataFormatter,
} from './describe.js';
export type { DataFormatter } from './describe.js';
