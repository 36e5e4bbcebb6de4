/**
 * Operator influence (PD `OpInfluence`, pkg/schedule/operator/influence.go): what the running
 * operators will still change on each store once their unfinished steps are done. The region
 * tree only shows a step once a heartbeat reports it, so a scheduler that counted the tree alone
 * would see the source of an in-flight leader transfer as still busy and its target as still idle,
 * move more leaders the same way on its next run, overshoot, and then move them back (the leader
 * ping-pong seen right after a pre-split). {@link ScheduleContext} adds this influence to the
 * store loads it hands to every checker and scheduler.
 *
 * Only the unfinished steps count (PD `NewUnfinishedOpInfluence`): a finished step is already in
 * the tree, so counting it again would be double.
 */
import { assertNever } from '@mrkv/common';
import type { StoreLoad } from '../cluster/cluster.js';
import { sizeMib, type RegionInfo } from '../core/region-info.js';
import type { Operator } from './operator.js';

/** The change the running operators will still make to one store's load. */
export interface StoreInfluence {
  regionCount: number;
  leaderCount: number;
  /** Region data in balance-region's units (MiB, each region at least 1; `regionUnits`). */
  regionUnits: number;
}

/** The unfinished influence of `ops` per store id; `region` looks a region up as PD holds it now. */
export function unfinishedInfluence(ops: Iterable<Operator>, region: (id: number) => RegionInfo | undefined): Map<number, StoreInfluence> {
  const out = new Map<number, StoreInfluence>();
  const of = (id: number): StoreInfluence => {
    let i = out.get(id);
    if (i === undefined) out.set(id, (i = { regionCount: 0, leaderCount: 0, regionUnits: 0 }));
    return i;
  };
  for (const op of ops) {
    const r = region(op.regionId);
    const units = r === undefined ? 1 : Math.max(1, sizeMib(r));
    for (const step of op.steps.slice(op.currentStep)) {
      switch (step.type) {
        case 'transferLeader':
          of(step.fromStore).leaderCount--;
          of(step.toStore).leaderCount++;
          break;
        case 'addLearner':
        case 'addPeer':
          of(step.storeId).regionCount++;
          of(step.storeId).regionUnits += units;
          break;
        case 'removePeer':
          of(step.storeId).regionCount--;
          of(step.storeId).regionUnits -= units;
          break;
        case 'promoteLearner':
        case 'splitRegion':
        case 'mergeRegion':
          break;
        default:
          assertNever(step);
      }
    }
  }
  return out;
}

/**
 * Adds the region and leader counts of `influence` into `loads` in place (stores missing from
 * `loads` are added). `regionSizeMib` is left as the tree has it: balance-region, the one user of
 * sizes, adds `regionUnits` to its own score.
 */
export function applyInfluence(loads: Map<number, StoreLoad>, influence: ReadonlyMap<number, StoreInfluence>): void {
  for (const [id, inf] of influence) {
    let l = loads.get(id);
    if (l === undefined) loads.set(id, (l = { regionCount: 0, leaderCount: 0, regionSizeMib: 0, pendingPeerCount: 0 }));
    l.regionCount += inf.regionCount;
    l.leaderCount += inf.leaderCount;
  }
}
