/**
 * The replica checker (PD `pkg/schedule/checker/replica_checker.go` plus the learner checker):
 * keeps every region at `max-replicas` healthy voters. In order, for one region:
 * 1. a learner left behind (not pending): promote it while voters are missing, else remove it;
 * 2. a peer on a Down, Offline or Tombstone store, or reported down by the leader for longer
 *    than `max-store-down-time`: rebuild it on another Up store (move), or just remove it if the
 *    region has voters to spare;
 * 3. fewer voters than `max-replicas`: add one on the Up store with the fewest regions;
 * 4. more voters than `max-replicas`: remove the one on the most loaded store.
 * Operators count against `replica-schedule-limit`.
 */
import { needsReplacement } from '../../core/store-info.js';
import { isPending, learners, voters, type RegionInfo } from '../../core/region-info.js';
import { addPeerOperator, movePeerOperator, promoteLearnerOperator, removePeerOperator } from '../builder.js';
import type { ScheduleContext } from '../context.js';
import type { Operator } from '../operator.js';

/** Checker name (switchable like a scheduler). */
export const REPLICA_CHECKER = 'replica-checker';

export class ReplicaChecker {
  readonly name = REPLICA_CHECKER;

  constructor(private readonly allocId: () => Promise<number>) {}

  /**
   * True if `region` may need repair: a learner, a bad peer, or the wrong voter count. The
   * synchronous fast path of the patrol: a healthy region costs no promise.
   */
  needsCheck(ctx: ScheduleContext, r: RegionInfo): boolean {
    if (r.leader === undefined || ctx.operators.get(r.meta.id) !== undefined) return false;
    let voterCount = 0;
    for (const p of r.meta.peers) {
      if (p.role === 'Learner' || this.isBadPeer(ctx, r, p.id, p.storeId)) return true;
      voterCount++;
    }
    return voterCount !== ctx.config.maxReplicas;
  }

  /** An operator that repairs `region`, or undefined if it needs none (or none can be built now). */
  async check(ctx: ScheduleContext, r: RegionInfo): Promise<Operator | undefined> {
    if (r.leader === undefined || ctx.operators.get(r.meta.id) !== undefined || !ctx.underLimit('replica')) return undefined;
    const build = ctx.build('replica', this.name);
    const max = ctx.config.maxReplicas;
    const vs = voters(r);

    for (const l of learners(r)) {
      if (isPending(r, l.id)) continue;
      if (vs.length < max && ctx.usable(l.storeId)) return promoteLearnerOperator(r, l.storeId, build);
      if (vs.length >= max) return removePeerOperator(r, l.storeId, build);
    }

    const bad = r.meta.peers.find((p) => this.isBadPeer(ctx, r, p.id, p.storeId));
    if (bad !== undefined) {
      const target = ctx.pickTargetStore(r);
      if (target !== undefined) {
        ctx.notePeerMove(bad.storeId, target);
        return movePeerOperator(r, bad.storeId, target, await this.allocId(), build);
      }
      if (vs.length > max || bad.role === 'Learner') return this.tryRemove(ctx, r, bad.storeId);
      return undefined;
    }

    if (vs.length < max) {
      const target = ctx.pickTargetStore(r);
      if (target === undefined) return undefined;
      ctx.notePeerMove(undefined, target);
      return addPeerOperator(r, target, await this.allocId(), build);
    }

    if (vs.length > max) {
      const worst = [...vs].sort((a, b) => (ctx.loads.get(b.storeId)?.regionCount ?? 0) - (ctx.loads.get(a.storeId)?.regionCount ?? 0))[0]!;
      return this.tryRemove(ctx, r, worst.storeId);
    }
    return undefined;
  }

  private isBadPeer(ctx: ScheduleContext, r: RegionInfo, peerId: number, storeId: number): boolean {
    const status = ctx.status.get(storeId);
    if (status === undefined || needsReplacement(status)) return true;
    const down = r.downPeers.find((d) => d.peer.id === peerId);
    return down !== undefined && down.downSeconds * 1000 > ctx.config.maxStoreDownMs;
  }

  private tryRemove(ctx: ScheduleContext, r: RegionInfo, storeId: number): Operator | undefined {
    try {
      return removePeerOperator(r, storeId, ctx.build('replica', this.name));
    } catch {
      return undefined; // e.g. the leader sits there and no healthy voter can take it: wait
    }
  }
}
