/**
 * Region merge at apply time (TiKV `exec_prepare_merge` / `exec_commit_merge` /
 * `exec_rollback_merge`).
 *
 * Process overview:
 *   1. PrepareMerge applies on every replica of the source: the region is frozen (no more
 *      proposals or local reads; state Merging with the target and the entry's index) and its
 *      epoch moves on (`version` and `conf_ver` + 1), so requests with the old epoch fail;
 *   2. each source peer asks its local target peer to propose CommitMerge (the one that leads
 *      succeeds; operation/merge.ts retries on ticks);
 *   3. CommitMerge applies on every replica of the target only once the local source replica
 *      has applied up to its PrepareMerge index (the target's apply waits for it — the source
 *      region keeps replicating while frozen); the target takes the union range with
 *      `version = max(source, target) + 1`, and the source's region state becomes a Tombstone in
 *      the same synced batch: its data now belongs to the target and is not deleted;
 *   4. RollbackMerge unfreezes the source (`version` + 1) when the target cannot take it (its
 *      epoch moved since PrepareMerge).
 * A target replica whose source replica lags — cut off while the merge happened, with nobody left
 * to replicate from — hands that replica the source entries CommitMerge carries (CatchUpLogs,
 * operation/merge.ts `onCatchUpLogs`) and waits until it has applied them.
 */
import { regionStateKey } from '@mrkv/engine';
import { compareBytes } from '@mrkv/common';
import { cloneRegion, EpochNotMatchError, type Region } from '@mrkv/proto';
import { MrkvError, CommonCodes } from '@mrkv/common';
import type { CmdResult, ExecResult } from '../fsm/msgs.js';
import type { StoreContext } from '../store/context.js';
import { encodeRegionState } from '../wire/local-state.js';
import type { AdminCmd, RaftCmd } from '../wire/raft-cmd.js';
import type { ApplyFsm } from './apply-fsm.js';
import type { ApplyRound } from './apply.js';
import type { Entry } from '@mrkv/raft';

/** The CommitMerge must wait for the local source replica to catch up. */
export const WAIT_FOR_SOURCE = 'waitForSource' as const;

function refuse(message: string): CmdResult {
  return { ok: false, error: new MrkvError(CommonCodes.INVALID_ARGUMENT, message) };
}

function sameEpoch(a: Region, b: Region): boolean {
  return a.regionEpoch.version === b.regionEpoch.version && a.regionEpoch.confVer === b.regionEpoch.confVer;
}

/** Whether two regions touch (one's end is the other's start). */
export function adjacent(a: Region, b: Region): boolean {
  return (a.endKey.length > 0 && compareBytes(a.endKey, b.startKey) === 0) || (b.endKey.length > 0 && compareBytes(b.endKey, a.startKey) === 0);
}

export function execPrepareMerge(fsm: ApplyFsm, round: ApplyRound, e: Entry, admin: Extract<AdminCmd, { t: 'prepareMerge' }>, results: ExecResult[]): CmdResult {
  if (fsm.merging !== undefined) return refuse('region is already merging');
  if (!adjacent(fsm.region, admin.target)) return refuse('merge target is not adjacent');
  const region = cloneRegion(fsm.region);
  region.regionEpoch = { version: region.regionEpoch.version + 1, confVer: region.regionEpoch.confVer + 1 };
  const state = { minIndex: admin.minIndex, target: admin.target, commit: e.index };
  fsm.region = region;
  fsm.merging = state;
  round.wb.put(regionStateKey(region.id), encodeRegionState({ state: 'Merging', region, mergeState: state }));
  results.push({ t: 'prepareMerge', region, state });
  return { ok: true, responses: [], region };
}

export function execCommitMerge(
  fsm: ApplyFsm,
  ctx: StoreContext,
  round: ApplyRound,
  cmd: RaftCmd,
  admin: Extract<AdminCmd, { t: 'commitMerge' }>,
  results: ExecResult[],
): CmdResult | typeof WAIT_FOR_SOURCE {
  const target = fsm.region;
  const e = cmd.header.epoch;
  if (e.version !== target.regionEpoch.version || e.confVer !== target.regionEpoch.confVer) {
    return { ok: false, error: new EpochNotMatchError({ currentRegions: [target] }) };
  }
  const source = admin.source;
  if (!adjacent(source, target)) return refuse('merge source is not adjacent');
  const local = ctx.applyProgress(source.id);
  if (local !== undefined && local.appliedIndex < admin.commit) {
    fsm.waitingFor = { sourceId: source.id, index: admin.commit };
    // The source replica may have nobody left to replicate from: hand it the entries (CatchUpLogs).
    ctx.sendPeer(source.id, { type: 'catchUpLogs', entries: admin.entries, commit: admin.commit });
    return WAIT_FOR_SOURCE;
  }
  if (local === undefined) {
    // The local source replica is gone (destroyed by a race): the range still moves, as on every
    // other replica; the consistency check would show the data this replica lacks.
    fsm.logger.error({ sourceId: source.id }, 'merge source replica missing on this store');
  } else if (!sameEpoch(local.region, source)) {
    fsm.logger.warn({ sourceId: source.id, local: local.region.regionEpoch, proposed: source.regionEpoch }, 'merge source epoch differs locally');
  }
  const merged = cloneRegion(target);
  const sourceFirst = compareBytes(source.endKey, target.startKey) === 0 && source.endKey.length > 0;
  if (sourceFirst) merged.startKey = Uint8Array.from(source.startKey);
  else merged.endKey = Uint8Array.from(source.endKey);
  merged.regionEpoch = { ...merged.regionEpoch, version: Math.max(source.regionEpoch.version, target.regionEpoch.version) + 1 };
  fsm.region = merged;
  round.wb.put(regionStateKey(merged.id), encodeRegionState({ state: 'Normal', region: merged }));
  round.wb.put(regionStateKey(source.id), encodeRegionState({ state: 'Tombstone', region: source }));
  ctx.meta.tombstones.set(source.id, { epoch: source.regionEpoch, peerId: source.peers.find((p) => p.storeId === ctx.storeId)?.id ?? 0 });
  if (local !== undefined) local.markMerged();
  results.push({ t: 'commitMerge', region: merged, source });
  return { ok: true, responses: [], region: merged };
}

export function execRollbackMerge(fsm: ApplyFsm, round: ApplyRound, admin: Extract<AdminCmd, { t: 'rollbackMerge' }>, results: ExecResult[]): CmdResult {
  if (fsm.merging === undefined || fsm.merging.commit !== admin.commit) return refuse('no such merge to roll back');
  const region = cloneRegion(fsm.region);
  region.regionEpoch = { ...region.regionEpoch, version: region.regionEpoch.version + 1 };
  fsm.region = region;
  fsm.merging = undefined;
  round.wb.put(regionStateKey(region.id), encodeRegionState({ state: 'Normal', region }));
  results.push({ t: 'rollbackMerge', region });
  return { ok: true, responses: [], region };
}
