/**
 * The apply FSM of one region (TiKV `fsm/apply.rs` ApplyFsm): the region as of the applied
 * index, the apply state, and the proposals waiting for their entries. Messages collected in a
 * round are executed at the round's end (apply-poll.ts), in order.
 */
import type { Logger } from '@mrkv/common';
import type { Region } from '@mrkv/proto';
import type { ApplyMsg, Proposal } from '../fsm/msgs.js';
import type { ApplyState, MergeState } from '../wire/local-state.js';

export class ApplyFsm {
  readonly regionId: number;
  region: Region;
  readonly applyState: ApplyState;
  appliedTerm: number;
  /** Proposals waiting for their entries, in index order. */
  proposals: Proposal[] = [];
  /** Messages of this round. */
  pending: ApplyMsg[] = [];
  destroyed = false;
  /** Set by PrepareMerge, cleared by RollbackMerge. */
  merging: MergeState | undefined;
  /** A CommitMerge waits for the local replica of this source region to reach this index. */
  waitingFor: { sourceId: number; index: number } | undefined;
  /** The region was merged into another: it stops applying (its data stays, for the target). */
  merged = false;

  constructor(
    region: Region,
    applyState: ApplyState,
    appliedTerm: number,
    readonly logger: Logger,
  ) {
    this.regionId = region.id;
    this.region = region;
    this.applyState = { ...applyState };
    this.appliedTerm = appliedTerm;
  }

  markMerged(): void {
    this.merged = true;
  }
}
