/**
 * Region merge, peer side (see apply/merge.ts for the process overview).
 *
 * - `proposePrepareMerge`: the source leader checks it can merge (not merging already, no
 *   membership change in flight, the target adjacent and on the same stores) and proposes
 *   PrepareMerge with the lowest index every peer has.
 * - After PrepareMerge applied, every source peer is frozen: writes and reads are refused with
 *   ProposalInMergingMode (clients retry; after the merge the key belongs to the target) and
 *   the lease is suspected. Each source peer asks its local target peer to propose CommitMerge,
 *   again every few ticks until the merge is done — the one whose target peer leads succeeds.
 * - If the target's epoch moved since PrepareMerge (it split or changed members), the target
 *   refuses; the source leader then proposes RollbackMerge.
 * - When the target applied CommitMerge, the local source peer is destroyed without deleting
 *   data (`merged`), and the target peer's range grows.
 */
import { ProposalInMergingModeError, type Region } from '@mrkv/proto';
import { compareBytes, MrkvError, CommonCodes } from '@mrkv/common';
import type { CmdCallback } from '../fsm/msgs.js';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import type { MergeState } from '../wire/local-state.js';
import type { Entry } from '@mrkv/raft';
import { adjacent } from '../apply/merge.js';
import { destroyPeer } from './destroy.js';
import { heartbeatPd } from './pd.js';
import { notLeader, proposeAdmin } from './propose.js';

/** Ticks between attempts to get CommitMerge proposed on the target. */
const COMMIT_MERGE_RETRY_TICKS = 5;

function refuse(cb: CmdCallback, message: string): void {
  cb({ ok: false, error: new MrkvError(CommonCodes.INVALID_ARGUMENT, message) });
}

export function proposePrepareMerge(peer: Peer, ctx: StoreContext, target: Region, cb: CmdCallback): void {
  if (!peer.isLeader) return cb({ ok: false, error: notLeader(peer) });
  if (peer.merging !== undefined) return refuse(cb, 'region is already merging');
  if (!adjacent(peer.region, target)) return refuse(cb, `region ${target.id} is not adjacent to ${peer.regionId}`);
  const stores = (r: Region) => r.peers.map((p) => p.storeId).sort((a, b) => a - b).join(',');
  if (stores(peer.region) !== stores(target)) return refuse(cb, 'source and target peers are not on the same stores');
  const st = peer.rawNode.basicStatus();
  if (st.pendingConfIndex > st.applied) return refuse(cb, 'a membership change is in flight');
  let minIndex = st.lastIndex;
  for (const [id, pr] of peer.rawNode.status().progress) if (id !== peer.peerId && pr.match < minIndex) minIndex = pr.match;
  if (minIndex < peer.storage.firstIndex() - 1) return refuse(cb, 'a peer is too far behind (it needs a snapshot first)');
  proposeAdmin(peer, ctx, { t: 'prepareMerge', minIndex, target }, cb);
}

export function onPrepareMergeApplied(peer: Peer, ctx: StoreContext, region: Region, state: MergeState): void {
  peer.region = region;
  peer.merging = state;
  peer.mergeRetryTick = peer.ticks;
  ctx.meta.setRegion(region);
  ctx.observers.regionChange(region, 'update');
  peer.lease.suspect(ctx.clock.nowMs());
  peer.logger.info({ target: state.target.id, commit: state.commit }, 'merge prepared; region frozen');
  scheduleCommitMerge(peer, ctx);
}

/**
 * Asks the local target peer to propose CommitMerge (idempotent: duplicates are refused at apply,
 * and retried on ticks). When the local target moved on since PrepareMerge — a newer epoch with a
 * range that does not cover the source, i.e. not because of this merge — the source leader
 * proposes RollbackMerge instead (TiKV `on_check_merge`).
 */
export function scheduleCommitMerge(peer: Peer, ctx: StoreContext): void {
  const state = peer.merging;
  if (state === undefined || peer.destroyed) return;
  peer.mergeRetryTick = peer.ticks;
  const local = ctx.meta.index.all().find((r) => r.id === state.target.id);
  if (local !== undefined && isNewer(local, state.target) && !covers(local, peer.region)) {
    if (peer.isLeader) {
      peer.logger.warn({ target: local.id, epoch: local.regionEpoch, expected: state.target.regionEpoch }, 'merge target changed; rolling back');
      proposeAdmin(peer, ctx, { t: 'rollbackMerge', commit: state.commit }, () => undefined);
    }
    return;
  }
  const from = Math.max(state.minIndex + 1, peer.storage.firstIndex());
  const entries = from <= state.commit && state.commit <= peer.storage.lastIndex() ? peer.storage.slice(from, state.commit + 1) : [];
  ctx.sendPeer(state.target.id, { type: 'admin', admin: { t: 'commitMerge', source: peer.region, commit: state.commit, entries }, cb: () => undefined });
}

/**
 * CatchUpLogs (TiKV): a lagging source replica applies up to the PrepareMerge index from its own
 * log (entries it holds up to `minIndex`: every peer had those when the merge was prepared) and
 * the entries CommitMerge carried. All of them are committed — the PrepareMerge at `commit` is —
 * so they apply as they would have through raft. The peer is destroyed right after the merge.
 */
export function onCatchUpLogs(peer: Peer, ctx: StoreContext, carried: readonly Entry[], commit: number): void {
  if (peer.applied.index >= commit || peer.catchingUp) return;
  const from = peer.applied.index + 1;
  const firstCarried = carried[0]?.index ?? commit + 1;
  const own = from < firstCarried ? peer.storage.slice(from, Math.min(firstCarried, peer.storage.lastIndex() + 1)) : [];
  const entries = [...own, ...carried.filter((e) => e.index >= from + own.length)];
  if (entries.length === 0 || entries[0]!.index !== from || entries[entries.length - 1]!.index < commit) {
    peer.logger.warn({ from, commit, own: own.length, carried: carried.length }, 'cannot catch up the merge source from its log and the carried entries');
    return;
  }
  peer.catchingUp = true;
  peer.logger.info({ from, commit }, 'catching up a merge source from CommitMerge');
  ctx.sendApply(peer.regionId, { type: 'apply', term: peer.term, entries: entries.filter((e) => e.index <= commit), proposals: [] });
}

function isNewer(a: Region, b: Region): boolean {
  return a.regionEpoch.version > b.regionEpoch.version || a.regionEpoch.confVer > b.regionEpoch.confVer;
}

function covers(outer: Region, inner: Region): boolean {
  const startOk = compareBytes(outer.startKey, inner.startKey) <= 0;
  const endOk = outer.endKey.length === 0 || (inner.endKey.length > 0 && compareBytes(inner.endKey, outer.endKey) <= 0);
  return startOk && endOk;
}

export function onMergeTick(peer: Peer, ctx: StoreContext): void {
  if (peer.merging !== undefined && peer.ticks - peer.mergeRetryTick >= COMMIT_MERGE_RETRY_TICKS) scheduleCommitMerge(peer, ctx);
}

export function onCommitMergeApplied(peer: Peer, ctx: StoreContext, region: Region, source: Region): void {
  ctx.meta.removeRegion(source.id);
  peer.region = region;
  ctx.meta.setRegion(region);
  ctx.observers.regionChange(region, 'update');
  peer.logger.info({ source: source.id, version: region.regionEpoch.version }, 'region merged');
  ctx.sendPeer(source.id, { type: 'merged' });
  if (peer.isLeader) heartbeatPd(peer, ctx);
}

export function onRollbackMergeApplied(peer: Peer, ctx: StoreContext, region: Region): void {
  peer.region = region;
  peer.merging = undefined;
  ctx.meta.setRegion(region);
  ctx.observers.regionChange(region, 'update');
  peer.logger.info({ version: region.regionEpoch.version }, 'merge rolled back');
  if (peer.isLeader) heartbeatPd(peer, ctx);
}

/** The source after the target took it over: gone, leaving its data to the target. */
export function onMerged(peer: Peer, ctx: StoreContext): void {
  destroyPeer(peer, ctx, 'merged into its target', true);
}

export function mergingError(peer: Peer): ProposalInMergingModeError {
  return new ProposalInMergingModeError({ regionId: peer.regionId });
}
