/**
 * Operator builders (PD `pkg/schedule/operator/create_operator.go`): each checks that the change
 * makes sense for the region as PD holds it and returns an operator, or throws
 * `PD:schedule:ErrOperator` saying why not.
 *
 * Adding a voter is always add-learner then promote (a learner catches up before it counts for
 * quorum). Removing the leader's peer first moves the leader to another healthy voter.
 */
import { compareBytes } from '@mrkv/common';
import { regionContainsKey } from '@mrkv/proto';
import { PdError, PdErrorCodes } from '../errors.js';
import { isDownPeer, isPending, peerOnStore, voters, type RegionInfo } from '../core/region-info.js';
import { Operator, type OperatorKind, type OpStep, type SplitPolicy } from './operator.js';

/** Who builds the operator and how it counts against limits. */
export interface BuildContext {
  readonly kind: OperatorKind;
  readonly source: string;
  /** True if new peers and leaders may go to `storeId` (an Up store). */
  readonly storeUsable: (storeId: number) => boolean;
}

function refuse(regionId: number, message: string): PdError {
  return new PdError(PdErrorCodes.OPERATOR, `region ${regionId}: ${message}`, { details: { regionId } });
}

function requireLeader(r: RegionInfo): NonNullable<RegionInfo['leader']> {
  if (r.leader === undefined) throw refuse(r.meta.id, 'no leader known yet (wait for its heartbeat)');
  return r.leader;
}

function op(r: RegionInfo, ctx: BuildContext, desc: string, steps: OpStep[], twinRegionId?: number): Operator {
  return new Operator({ regionId: r.meta.id, regionEpoch: r.meta.regionEpoch, desc, kind: ctx.kind, source: ctx.source, steps, twinRegionId });
}

/** A healthy voter (not the leader, not pending or down, on a usable store) to take leadership, preferring `prefer`. */
function leaderCandidate(r: RegionInfo, ctx: BuildContext, exceptStore: number, prefer?: number): number | undefined {
  const c = voters(r).filter(
    (p) => p.storeId !== exceptStore && p.role === 'Voter' && !isPending(r, p.id) && !isDownPeer(r, p.id) && ctx.storeUsable(p.storeId),
  );
  return (c.find((p) => p.storeId === prefer) ?? c[0])?.storeId;
}

/** Moves the leader to the voter on `toStore`. */
export function transferLeaderOperator(r: RegionInfo, toStore: number, ctx: BuildContext): Operator {
  const leader = requireLeader(r);
  const to = peerOnStore(r, toStore);
  if (to === undefined) throw refuse(r.meta.id, `has no peer on store ${toStore}`);
  if (to.role !== 'Voter') throw refuse(r.meta.id, `peer ${to.id} on store ${toStore} is a ${to.role}, not a voter`);
  if (leader.storeId === toStore) throw refuse(r.meta.id, `leader is already on store ${toStore}`);
  if (!ctx.storeUsable(toStore)) throw refuse(r.meta.id, `store ${toStore} is not Up`);
  if (isPending(r, to.id) || isDownPeer(r, to.id)) throw refuse(r.meta.id, `peer ${to.id} on store ${toStore} is pending or down`);
  return op(r, ctx, `transfer leader of region ${r.meta.id} from store ${leader.storeId} to store ${toStore}`, [
    { type: 'transferLeader', fromStore: leader.storeId, toStore },
  ]);
}

/** Adds a voter on `storeId` (add learner, then promote). */
export function addPeerOperator(r: RegionInfo, storeId: number, peerId: number, ctx: BuildContext): Operator {
  requireLeader(r);
  if (peerOnStore(r, storeId) !== undefined) throw refuse(r.meta.id, `already has a peer on store ${storeId}`);
  if (!ctx.storeUsable(storeId)) throw refuse(r.meta.id, `store ${storeId} is not Up`);
  return op(r, ctx, `add peer on store ${storeId} to region ${r.meta.id}`, [
    { type: 'addLearner', storeId, peerId },
    { type: 'promoteLearner', storeId, peerId },
  ]);
}

/** Promotes the learner on `storeId` to a voter. */
export function promoteLearnerOperator(r: RegionInfo, storeId: number, ctx: BuildContext): Operator {
  const p = peerOnStore(r, storeId);
  if (p === undefined || p.role !== 'Learner') throw refuse(r.meta.id, `has no learner on store ${storeId}`);
  return op(r, ctx, `promote learner of region ${r.meta.id} on store ${storeId}`, [{ type: 'promoteLearner', storeId, peerId: p.id }]);
}

/** Removes the peer on `storeId`, moving the leader away first if it is there. */
export function removePeerOperator(r: RegionInfo, storeId: number, ctx: BuildContext): Operator {
  const leader = requireLeader(r);
  const p = peerOnStore(r, storeId);
  if (p === undefined) throw refuse(r.meta.id, `has no peer on store ${storeId}`);
  if (p.role !== 'Learner' && voters(r).length <= 1) throw refuse(r.meta.id, 'cannot remove its only voter');
  const steps: OpStep[] = [];
  if (leader.storeId === storeId) {
    const to = leaderCandidate(r, ctx, storeId);
    if (to === undefined) throw refuse(r.meta.id, `leader is on store ${storeId} and no other healthy voter can take it`);
    steps.push({ type: 'transferLeader', fromStore: storeId, toStore: to });
  }
  steps.push({ type: 'removePeer', storeId, peerId: p.id });
  return op(r, ctx, `remove peer on store ${storeId} from region ${r.meta.id}`, steps);
}

/**
 * Moves the replica on `fromStore` to `toStore`: add a learner there, promote it, move the
 * leader if it sits on `fromStore`, remove the old peer. A learner on `fromStore` moves as a
 * learner (no promotion).
 */
export function movePeerOperator(r: RegionInfo, fromStore: number, toStore: number, newPeerId: number, ctx: BuildContext): Operator {
  const leader = requireLeader(r);
  const old = peerOnStore(r, fromStore);
  if (old === undefined) throw refuse(r.meta.id, `has no peer on store ${fromStore}`);
  if (peerOnStore(r, toStore) !== undefined) throw refuse(r.meta.id, `already has a peer on store ${toStore}`);
  if (!ctx.storeUsable(toStore)) throw refuse(r.meta.id, `store ${toStore} is not Up`);
  const steps: OpStep[] = [{ type: 'addLearner', storeId: toStore, peerId: newPeerId }];
  if (old.role !== 'Learner') steps.push({ type: 'promoteLearner', storeId: toStore, peerId: newPeerId });
  if (leader.storeId === fromStore) steps.push({ type: 'transferLeader', fromStore, toStore });
  steps.push({ type: 'removePeer', storeId: fromStore, peerId: old.id });
  return op(r, ctx, `move peer of region ${r.meta.id} from store ${fromStore} to store ${toStore}`, steps);
}

/** Splits the region by `policy`, or at `keys` (USEKEY) which must lie strictly inside it. */
export function splitOperator(r: RegionInfo, policy: SplitPolicy, keys: readonly Uint8Array[], ctx: BuildContext): Operator {
  requireLeader(r);
  if (policy === 'USEKEY' && keys.length === 0) throw refuse(r.meta.id, 'split with USEKEY needs at least one key');
  for (const key of keys) {
    if (key.length === 0 || !regionContainsKey(r.meta, key) || compareBytes(key, r.meta.startKey) === 0) {
      throw refuse(r.meta.id, `split key ${Buffer.from(key).toString('hex')} is not strictly inside the region`);
    }
  }
  return op(r, ctx, `split region ${r.meta.id} (${policy})`, [{ type: 'splitRegion', policy, keys: keys.map((k) => Uint8Array.from(k)), startKey: r.meta.startKey, endKey: r.meta.endKey }]);
}

/**
 * Merges `source` into the adjacent `target` (PD `CreateMergeRegionOperator`): an active
 * operator on the source (sends `merge{target}`) and a passive twin on the target (keeps other
 * operators off it). Both must have their peers on the same stores, no pending or down peers and
 * known leaders. An operator added by hand requires them aligned; the merge checker aligns them
 * first with {@link alignAndMergeOperators}.
 */
export function mergeOperators(source: RegionInfo, target: RegionInfo, ctx: BuildContext): [Operator, Operator] {
  requireLeader(source);
  requireLeader(target);
  const adjacent =
    (source.meta.endKey.length > 0 && compareBytes(source.meta.endKey, target.meta.startKey) === 0) ||
    (target.meta.endKey.length > 0 && compareBytes(target.meta.endKey, source.meta.startKey) === 0);
  if (!adjacent) throw refuse(source.meta.id, `is not adjacent to region ${target.meta.id}`);
  const stores = (x: RegionInfo) => x.meta.peers.map((p) => `${p.storeId}:${p.role}`).sort().join(',');
  if (stores(source) !== stores(target)) {
    throw refuse(source.meta.id, `peers are on stores [${stores(source)}] but region ${target.meta.id}'s on [${stores(target)}]; move them first`);
  }
  for (const x of [source, target]) {
    if (x.pendingPeers.length > 0 || x.downPeers.length > 0) throw refuse(x.meta.id, 'has pending or down peers');
  }
  const active = op(source, ctx, `merge region ${source.meta.id} into region ${target.meta.id}`, [{ type: 'mergeRegion', sourceId: source.meta.id, target: target.meta, passive: false }], target.meta.id);
  const passive = op(target, ctx, `merge region ${source.meta.id} into region ${target.meta.id}`, [{ type: 'mergeRegion', sourceId: source.meta.id, target: target.meta, passive: true }], source.meta.id);
  return [active, passive];
}

/**
 * Merges `source` into the adjacent `target` after moving the source's peers onto the target's
 * stores (PD `CreateMergeRegionOperator` with `matchPeerSteps`): for each store of the target the
 * source lacks, add a learner there, promote it, move the leader off the store it replaces if it
 * sits there, and remove the replaced peer; then merge. The passive twin holds the target for the
 * whole operator, so nothing moves the target's peers while the source lines up with them.
 *
 * Both regions must have only voters, as many on each side; `newPeerIds` supplies an id per
 * store to add (extra ids are unused). Aligned regions get plain {@link mergeOperators}.
 */
export function alignAndMergeOperators(source: RegionInfo, target: RegionInfo, newPeerIds: readonly number[], ctx: BuildContext): [Operator, Operator] {
  const sourceLeader = requireLeader(source);
  requireLeader(target);
  for (const x of [source, target]) {
    if (x.meta.peers.some((p) => p.role !== 'Voter')) throw refuse(x.meta.id, 'has learners; merge aligns voters only');
    if (x.pendingPeers.length > 0 || x.downPeers.length > 0) throw refuse(x.meta.id, 'has pending or down peers');
  }
  const targetStores = new Set(target.meta.peers.map((p) => p.storeId));
  const missing = [...targetStores].filter((id) => peerOnStore(source, id) === undefined).sort((a, b) => a - b);
  const extra = source.meta.peers.filter((p) => !targetStores.has(p.storeId)).sort((a, b) => a.storeId - b.storeId);
  if (missing.length === 0) return mergeOperators(source, target, ctx);
  if (missing.length !== extra.length) {
    throw refuse(source.meta.id, `has ${source.meta.peers.length} voters but region ${target.meta.id} has ${target.meta.peers.length}; cannot line them up`);
  }
  if (newPeerIds.length < missing.length) throw refuse(source.meta.id, `needs ${missing.length} new peer ids, got ${newPeerIds.length}`);
  const steps: OpStep[] = [];
  let leaderStore = sourceLeader.storeId;
  missing.forEach((toStore, i) => {
    if (!ctx.storeUsable(toStore)) throw refuse(source.meta.id, `store ${toStore} is not Up`);
    const from = extra[i]!;
    steps.push({ type: 'addLearner', storeId: toStore, peerId: newPeerIds[i]! }, { type: 'promoteLearner', storeId: toStore, peerId: newPeerIds[i]! });
    if (leaderStore === from.storeId) {
      steps.push({ type: 'transferLeader', fromStore: from.storeId, toStore });
      leaderStore = toStore;
    }
    steps.push({ type: 'removePeer', storeId: from.storeId, peerId: from.id });
  });
  const moved = `${extra.map((p) => p.storeId).join(',')} -> ${missing.join(',')}`;
  const desc = `merge region ${source.meta.id} into region ${target.meta.id} (peers moved first: stores ${moved})`;
  const mergeStep = (passive: boolean): OpStep => ({ type: 'mergeRegion', sourceId: source.meta.id, target: target.meta, passive });
  const active = op(source, ctx, desc, [...steps, mergeStep(false)], target.meta.id);
  const passive = op(target, ctx, desc, [mergeStep(true)], source.meta.id);
  return [active, passive];
}

/**
 * Moves the region's voters onto `targetStores` and its leader onto `targetLeader` (PD
 * `CreateScatterRegionOperator`). For each store to add, paired with a store to leave (both in
 * ascending store order): add a learner there, promote it, move the leader off the store being
 * left if it sits there (to `targetLeader` when that is already a voter, else to the new voter),
 * remove the peer left behind; at the end, one transfer-leader step if the leader is not on
 * `targetLeader` yet. The voter count never drops below the region's own during the operator.
 *
 * The region must have only voters, as many as `targetStores`; `newPeerIds` supplies an id per
 * store to add. Throws if nothing would change.
 */
export function scatterOperator(r: RegionInfo, targetStores: readonly number[], targetLeader: number, newPeerIds: readonly number[], ctx: BuildContext): Operator {
  const leader = requireLeader(r);
  if (r.meta.peers.some((p) => p.role !== 'Voter')) throw refuse(r.meta.id, 'has learners; scatter moves voters only');
  const target = [...new Set(targetStores)].sort((a, b) => a - b);
  if (target.length !== targetStores.length) throw refuse(r.meta.id, `scatter targets name a store twice: [${targetStores.join(',')}]`);
  if (target.length !== r.meta.peers.length) throw refuse(r.meta.id, `has ${r.meta.peers.length} voters but the scatter targets ${target.length} stores`);
  if (!target.includes(targetLeader)) throw refuse(r.meta.id, `target leader store ${targetLeader} is not one of the target stores [${target.join(',')}]`);
  const adds = target.filter((s) => peerOnStore(r, s) === undefined);
  const leaves = r.meta.peers.filter((p) => !target.includes(p.storeId)).sort((a, b) => a.storeId - b.storeId);
  if (newPeerIds.length < adds.length) throw refuse(r.meta.id, `needs ${adds.length} new peer ids, got ${newPeerIds.length}`);
  for (const s of [...adds, targetLeader]) if (!ctx.storeUsable(s)) throw refuse(r.meta.id, `store ${s} is not Up`);
  const steps: OpStep[] = [];
  const votersNow = new Set(r.meta.peers.map((p) => p.storeId));
  let leaderStore = leader.storeId;
  adds.forEach((toStore, i) => {
    const from = leaves[i]!;
    const peerId = newPeerIds[i]!;
    steps.push({ type: 'addLearner', storeId: toStore, peerId }, { type: 'promoteLearner', storeId: toStore, peerId });
    votersNow.add(toStore);
    if (leaderStore === from.storeId) {
      const to = votersNow.has(targetLeader) ? targetLeader : toStore;
      steps.push({ type: 'transferLeader', fromStore: from.storeId, toStore: to });
      leaderStore = to;
    }
    steps.push({ type: 'removePeer', storeId: from.storeId, peerId: from.id });
    votersNow.delete(from.storeId);
  });
  if (leaderStore !== targetLeader) steps.push({ type: 'transferLeader', fromStore: leaderStore, toStore: targetLeader });
  if (steps.length === 0) throw refuse(r.meta.id, `is already on stores [${target.join(',')}] with its leader on store ${targetLeader}`);
  const before = r.meta.peers.map((p) => p.storeId).sort((a, b) => a - b);
  return op(r, ctx, `scatter region ${r.meta.id}: stores [${before.join(',')}] -> [${target.join(',')}], leader store ${leader.storeId} -> ${targetLeader}`, steps);
}
