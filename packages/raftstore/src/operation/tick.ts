/**
 * The peer's base tick (TiKV `PeerTick`): drives raft's clock, times out reads, and on its own
 * multiples runs the leader's periodic work — the PD heartbeat and raft log GC.
 *
 * Raft log GC (TiKV `on_raft_gc_log_tick`): the leader proposes CompactLog up to the index every
 * peer has replicated, once more than `raftLogGcThreshold` entries could go; when the log passes
 * `raftLogGcCountLimit` entries or `raftLogGcSizeLimit` bytes it compacts up to the applied index
 * even if a follower lags (that follower gets a snapshot), so a down follower cannot make the log
 * grow without bound. Idle regions propose nothing.
 *
 * Either way GC never cuts the entries a follower catching up through a snapshot needs next
 * ({@link snapshotHold}): while a snapshot is being generated nothing is compacted (its index is
 * the applied index when the apply side takes the request), and once one is sent the log keeps
 * the entries after its index until the follower acknowledges it, its sending fails, or
 * `raftLogSnapshotHoldMs` passes. Without the hold, a region written faster than a snapshot is
 * made and installed compacted past every snapshot before it could be used: each one was stale
 * on arrival and the follower never caught up (the long chaos profile, count limit 12).
 */
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import { updateAppendHolds } from './disk-usage.js';
import { heartbeatPd } from './pd.js';
import { proposeAdmin } from './propose.js';
import { renewLeaseInAdvance, tickReads } from './read.js';
import { onMergeTick } from './merge.js';
import { maybeSplitCheck } from './split-check.js';

/** Heartbeat interval while peers are pending or down, so PD sees operator steps finish quickly. */
const PENDING_HEARTBEAT_MS = 1000;

export function onTick(peer: Peer, ctx: StoreContext): void {
  if (peer.destroyed) return;
  peer.ticks++;
  peer.rawNode.tick();
  tickReads(peer, ctx);
  if (peer.merging !== undefined) onMergeTick(peer, ctx);
  if (!peer.isLeader) return;
  updateAppendHolds(peer);
  renewLeaseInAdvance(peer, ctx);
  const base = ctx.cfg.raftBaseTickMs;
  peer.leader.heartbeatTicks++;
  const every = peer.leader.hasPendingPeers ? Math.min(ctx.cfg.pdHeartbeatTickMs, PENDING_HEARTBEAT_MS) : ctx.cfg.pdHeartbeatTickMs;
  if (peer.leader.heartbeatTicks * base >= every) heartbeatPd(peer, ctx);
  const gcEvery = Math.max(1, Math.round(ctx.cfg.raftLogGcTickMs / base));
  if (peer.ticks % gcEvery === 0) maybeCompactLog(peer, ctx);
  const splitEvery = Math.max(1, Math.round(ctx.cfg.splitRegionCheckTickMs / base));
  if (peer.ticks % splitEvery === 0) maybeSplitCheck(peer, ctx);
}

export function maybeCompactLog(peer: Peer, ctx: StoreContext): void {
  // A merging source keeps its log: CommitMerge carries its entries to lagging replicas.
  if (peer.applyingSnapshot !== undefined || peer.merging !== undefined) return;
  const first = peer.storage.firstIndex();
  const last = peer.storage.lastIndex();
  const applied = peer.applied.index;
  if (last < first + 2 || applied < first) return;
  const progress = peer.rawNode.status().progress;
  let replicated = last;
  for (const [id, pr] of progress) if (id !== peer.peerId && pr.match < replicated) replicated = pr.match;
  let compactIdx: number;
  const count = applied - first + 1;
  if (count >= ctx.cfg.raftLogGcCountLimit || approxLogBytes(peer, first, applied) >= ctx.cfg.raftLogGcSizeLimit) {
    compactIdx = applied;
  } else if (replicated < first || replicated - first + 1 < ctx.cfg.raftLogGcThreshold) {
    return;
  } else {
    compactIdx = replicated;
  }
  compactIdx = Math.min(compactIdx, applied, snapshotHold(peer, ctx, progress));
  if (compactIdx < first) return;
  const compactTerm = peer.storage.term(compactIdx);
  proposeAdmin(peer, ctx, { t: 'compactLog', compactIndex: compactIdx, compactTerm }, (r) => {
    if (!r.ok) peer.logger.debug({ err: r.error }, 'CompactLog not applied');
  });
}

/**
 * The highest index raft log GC may compact to without cutting what a follower catching up
 * through a snapshot needs next (see the module comment); `Infinity` when nothing holds it.
 * Forgets sent snapshots that were acknowledged or are older than the hold (a follower that went
 * down after receiving one pins the log no longer than that); one whose sending failed is
 * forgotten at once (operation/snapshot.ts). The follower's silence is no sign: it answers
 * nothing while it installs the snapshot (seconds for a big region).
 */
export function snapshotHold(peer: Peer, ctx: StoreContext, progress: ReadonlyMap<number, { match: number }>): number {
  if (peer.storage.isGenerating) return peer.storage.truncated.index;
  if (peer.snapshotsSent.size === 0) return Number.POSITIVE_INFINITY;
  const limitTicks = Math.ceil(ctx.cfg.raftLogSnapshotHoldMs / ctx.cfg.raftBaseTickMs);
  let hold = Number.POSITIVE_INFINITY;
  for (const [id, sent] of peer.snapshotsSent) {
    const pr = progress.get(id);
    // Below the log's start already (kept from another term): holding it would stop GC for nothing.
    if (pr === undefined || pr.match >= sent.index || sent.index < peer.storage.truncated.index || peer.ticks - sent.tick > limitTicks) {
      peer.snapshotsSent.delete(id);
      continue;
    }
    hold = Math.min(hold, sent.index);
  }
  return hold;
}

function approxLogBytes(peer: Peer, first: number, applied: number): number {
  // Sampled: entries are similar in size within a region; avoid summing a long log every tick.
  const n = applied - first + 1;
  if (n <= 0) return 0;
  const sample = peer.storage.slice(first, Math.min(applied + 1, first + 16));
  let s = 0;
  for (const e of sample) s += e.data.length + 32;
  return sample.length === 0 ? 0 : (s / sample.length) * n;
}
