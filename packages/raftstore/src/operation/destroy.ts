/**
 * Destroying a peer (TiKV `operation/life.rs`): removed from its region, told it is a tombstone,
 * or replaced. Waiting proposals and reads fail with RegionNotFound; the apply FSM deletes the
 * region's data (when no other local region owns the range) and writes a Tombstone region state
 * (synced) first, and only then is the raft log removed — a crash in between leaves a tombstone
 * with a log, which recovery cleans up, never a live region without one.
 */
import { RegionNotFoundError, UndeterminedResultError } from '@mrkv/proto';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';
import { failReads } from './read.js';

export function destroyPeer(peer: Peer, ctx: StoreContext, reason: string, keepData = false): void {
  if (peer.destroyed) return;
  peer.destroyed = true;
  peer.logger.info({ reason }, 'destroying peer');
  const error = new RegionNotFoundError({ regionId: peer.regionId });
  failReads(peer, error);
  // Proposed writes may have been applied (by a snapshot, or on the other replicas): unknown.
  const unknown = new UndeterminedResultError({ detail: `region ${peer.regionId} left this store with the write in flight` });
  for (const p of peer.proposals) p.cb({ ok: false, error: unknown });
  peer.proposals = [];
  if (peer.batch !== undefined) for (const part of peer.batch.parts) part.cb({ ok: false, error });
  peer.batch = undefined;
  peer.lease.expire();
  if (!keepData) ctx.meta.removeRegion(peer.regionId);
  ctx.observers.regionChange(peer.region, 'destroy');
  ctx.meta.tombstones.set(peer.regionId, { epoch: peer.region.regionEpoch, peerId: peer.peerId });
  const regionId = peer.regionId;
  ctx.meta.destroying.add(regionId);
  const sent = ctx.sendApply(regionId, {
    type: 'destroy',
    keepData,
    done: () => {
      void ctx.raftEngine
        .write(ctx.raftEngine.newBatch().removeRegion(regionId), { sync: true })
        .then(
          () => ctx.meta.destroying.delete(regionId),
          (err: unknown) => peer.logger.error({ err }, 'failed to remove the raft log of a destroyed peer'),
        );
    },
  });
  if (!sent) {
    peer.logger.warn({}, 'no apply FSM for a destroyed peer');
    ctx.meta.destroying.delete(regionId);
  }
  ctx.removePeer(regionId);
}
