/**
 * Messages of the raft and apply batch systems (TiKV `store/msg.rs`): `PeerMsg` for a peer FSM
 * on the raft system, `ApplyMsg` for its apply FSM. Async work (persistence, snapshot generation
 * and application, applying) finishes by mailing a message back to the peer, so operation code
 * never awaits.
 */
import type { ConfChangeV2, Entry, Message, Snapshot } from '@mrkv/raft';
import type { Region } from '@mrkv/proto';
import type { PdOperator, RawCasResult } from '../store/api.js';
import type { AdminCmd, DataRequest } from '../wire/raft-cmd.js';
import type { StoreRaftMessage } from '../wire/raft-message.js';

/** The outcome of a proposed command, delivered once it is applied (or refused). */
export type CmdResult =
  | { readonly ok: true; readonly responses: ReadonlyArray<RawCasResult | undefined>; readonly region?: Region; readonly regions?: readonly Region[] }
  | { readonly ok: false; readonly error: Error };

export type CmdCallback = (r: CmdResult) => void;

/** A proposal waiting for its entry to apply. */
export interface Proposal {
  readonly index: number;
  readonly term: number;
  readonly cb: CmdCallback;
  /** Monotonic time of the proposal, taken before its appends were sent (lease renewal). */
  readonly proposedAt: number;
}

export type ReadIndexResult = { readonly ok: true; readonly index: number } | { readonly ok: false; readonly error: Error };

export type PeerMsg =
  | { readonly type: 'raft'; readonly msg: StoreRaftMessage }
  | {
      readonly type: 'write';
      readonly requests: readonly DataRequest[];
      readonly bytes: number;
      readonly cb: CmdCallback;
      /** Which disk usages the write tolerates (kvrpcpb `disk_full_opt`; default NotAllowedOnFull). */
      readonly diskFullOpt?: import('../operation/disk-usage.js').DiskFullOpt | undefined;
    }
  | { readonly type: 'admin'; readonly admin: AdminCmd; readonly cb: CmdCallback }
  | { readonly type: 'readIndex'; readonly cb: (r: ReadIndexResult) => void }
  | { readonly type: 'tick' }
  | { readonly type: 'persisted'; readonly number: number; readonly messages: readonly Message[] }
  | { readonly type: 'applyRes'; readonly appliedIndex: number; readonly appliedTerm: number; readonly results: readonly ExecResult[] }
  | { readonly type: 'snapshotGenerated'; readonly snapshot: Snapshot | undefined }
  | { readonly type: 'snapshotApplied'; readonly region: Region | undefined; readonly error?: Error }
  | { readonly type: 'snapshotStatus'; readonly toPeerId: number; readonly ok: boolean }
  | { readonly type: 'storeUnreachable'; readonly storeId: number }
  | { readonly type: 'transferLeader'; readonly peerId: number }
  | { readonly type: 'pdOperator'; readonly op: PdOperator }
  | { readonly type: 'campaign' }
  | { readonly type: 'hashComputed'; readonly index: number; readonly hash: Uint8Array }
  /** Start merging this region into `target` (PD operator, admin API). */
  | { readonly type: 'prepareMerge'; readonly target: Region; readonly cb: CmdCallback }
  /** The target applied CommitMerge: this source peer goes away, leaving its data to the target. */
  | { readonly type: 'merged' }
  /** A target replica waits for this lagging source replica: apply up to `commit` from these entries. */
  | { readonly type: 'catchUpLogs'; readonly entries: readonly Entry[]; readonly commit: number };

/** What applying an admin command changed, for the peer to follow. */
export type ExecResult =
  | { readonly t: 'confChange'; readonly index: number; readonly cc: ConfChangeV2 | undefined; readonly region: Region }
  | { readonly t: 'compactLog'; readonly index: number; readonly term: number }
  | { readonly t: 'split'; readonly regions: readonly Region[]; readonly derived: Region }
  | { readonly t: 'verifyHash'; readonly index: number; readonly hash: Uint8Array }
  | { readonly t: 'prepareMerge'; readonly region: Region; readonly state: import('../wire/local-state.js').MergeState }
  | { readonly t: 'commitMerge'; readonly region: Region; readonly source: Region }
  | { readonly t: 'rollbackMerge'; readonly region: Region };

export type ApplyMsg =
  | { readonly type: 'apply'; readonly term: number; readonly entries: readonly Entry[]; readonly proposals: readonly Proposal[] }
  | { readonly type: 'genSnapshot' }
  | { readonly type: 'applySnapshot'; readonly snapshot: Snapshot }
  | { readonly type: 'destroy'; readonly done: () => void; readonly keepData?: boolean }
  /** Wake-up for an apply FSM waiting on a merge source. */
  | { readonly type: 'resume' };
