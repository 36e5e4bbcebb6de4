/**
 * Splitting a region (TiKV `operation/command/admin/split.rs`).
 *
 * Process overview:
 *   1. a split is asked for with split keys (the SplitRegion RPC, PD's split operator, or the
 *      split checker); the leader validates the keys against its region and asks PD for the
 *      new region and peer ids (AskBatchSplit);
 *   2. it proposes BatchSplit; on apply (apply/admin.ts) every replica checks the epoch and keys
 *      again, cuts the region at the keys — the derived region keeps the parent's id (the
 *      rightmost one with right-derive, TiKV's default) — bumps `version` by the number of new
 *      regions on all of them, and writes every region's state plus the new regions' initial
 *      apply state (index 5, term 5) in one synced batch;
 *   3. here, each replica shrinks its peer and creates the new peers with an initial raft state
 *      (log reset to 5/5). A new peer that already exists uninitialized — created by messages
 *      from a faster replica — is replaced, keeping its term and vote so a vote it cast is never
 *      forgotten. A tombstoned new region (removed meanwhile) is not re-created;
 *   4. the parent's leader reports the new regions to PD at once, and the new peers on the
 *      leader's store campaign at once, so the children have leaders without an election timeout.
 */
import { KeyNotInRegionError, regionContainsKey, type Region } from '@mrkv/proto';
import { compareBytes, MrkvError, CommonCodes } from '@mrkv/common';
import type { CmdCallback } from '../fsm/msgs.js';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import { notLeader } from './propose.js';

/** Validates split keys and asks PD for ids, then mails the BatchSplit proposal to the peer. */
export function askSplit(peer: Peer, ctx: StoreContext, keys: readonly Uint8Array[], cb: CmdCallback): void {
  if (!peer.isLeader) {
    cb({ ok: false, error: notLeader(peer) });
    return;
  }
  const region = peer.region;
  const sorted = [...keys].sort(compareBytes).filter((k, i, a) => i === 0 || compareBytes(a[i - 1]!, k) !== 0);
  for (const k of sorted) {
    if (k.length === 0 || !regionContainsKey(region, k) || compareBytes(k, region.startKey) === 0) {
      cb({ ok: false, error: new KeyNotInRegionError({ key: Uint8Array.from(k), regionId: region.id, startKey: region.startKey, endKey: region.endKey }) });
      return;
    }
  }
  if (sorted.length === 0) {
    cb({ ok: false, error: new MrkvError(CommonCodes.INVALID_ARGUMENT, 'no split key') });
    return;
  }
  const pd = ctx.pd;
  if (pd === undefined) {
    cb({ ok: false, error: new MrkvError(CommonCodes.UNAVAILABLE, 'no PD to allocate ids for a split') });
    return;
  }
  pd.askBatchSplit(region, sorted.length).then(
    (ids) => {
      if (ids.length !== sorted.length || ids.some((x) => x.newPeerIds.length !== region.peers.length)) {
        cb({ ok: false, error: new MrkvError(CommonCodes.INTERNAL, 'PD returned ids that do not match the split') });
        return;
      }
      const splits = sorted.map((splitKey, i) => ({ splitKey, newRegionId: ids[i]!.newRegionId, newPeerIds: ids[i]!.newPeerIds }));
      const sent = ctx.sendPeer(region.id, { type: 'admin', admin: { t: 'batchSplit', splits, rightDerive: ctx.cfg.rightDeriveWhenSplit }, cb });
      if (!sent) cb({ ok: false, error: notLeader(peer) });
    },
    (err: unknown) => cb({ ok: false, error: err instanceof Error ? err : new Error(String(err)) }),
  );
}

export function onSplitApplied(peer: Peer, ctx: StoreContext, regions: readonly Region[], derived: Region): void {
  const wasLeader = peer.isLeader;
  peer.region = derived;
  ctx.meta.setRegion(derived);
  ctx.observers.regionChange(derived, 'update');
  for (const r of regions) {
    if (r.id === derived.id) continue;
    ctx.createSplitPeer(r, wasLeader);
  }
  peer.logger.info({ regions: regions.map((r) => r.id), version: derived.regionEpoch.version }, 'region split');
  if (wasLeader && ctx.pd !== undefined) {
    ctx.pd.reportBatchSplit(regions).catch((err: unknown) => peer.logger.warn({ err }, 'ReportBatchSplit failed'));
  }
}
