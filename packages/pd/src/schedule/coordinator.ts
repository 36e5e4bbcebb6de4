/**
 * The coordinator (PD `pkg/schedule/coordinator.go`): runs the checkers over every region (the
 * patrol), the enabled schedulers every `schedule-interval`, operator timeouts, and the burial of
 * drained stores, all from `tick()`, which the server calls on a timer. It also feeds every
 * region heartbeat to the operator controller and the hot-region cache.
 *
 * Checkers and schedulers share one on/off registry (`scheduler list|add|remove`), persisted so
 * a restart keeps the choice.
 */
import { isMrkvError, noopLogger, type Logger } from '@mrkv/common';
import type { Cluster, HeartbeatResult } from '../cluster/cluster.js';
import { PdError, PdErrorCodes } from '../errors.js';
import type { RegionInfo } from '../core/region-info.js';
import type { MetaStorage } from '../storage/meta-storage.js';
import { MERGE_CHECKER, MergeChecker } from './checkers/merge-checker.js';
import { REPLICA_CHECKER, ReplicaChecker } from './checkers/replica-checker.js';
import { ScheduleContext } from './context.js';
import type { HeartbeatCommand, Operator } from './operator.js';
import type { OperatorController } from './operator-controller.js';
import { BalanceLeaderScheduler } from './schedulers/balance-leader.js';
import { BalanceRegionScheduler } from './schedulers/balance-region.js';
import { HotCache, HotRegionScheduler } from './schedulers/hot-region.js';
import type { Scheduler } from './schedulers/scheduler.js';

/** One entry of `scheduler list`. */
export interface SchedulerEntry {
  readonly name: string;
  readonly type: 'scheduler' | 'checker';
  readonly enabled: boolean;
  readonly description: string;
}

export interface CoordinatorOptions {
  readonly cluster: Cluster;
  readonly operators: OperatorController;
  readonly storage: MetaStorage;
  readonly logger?: Logger;
}

/** Regions the patrol checks per tick (PD `patrolRegionScanLimit` is 128 per 10 ms). */
export const PATROL_BATCH = 512;

interface PatrolRound {
  readonly ctx: ScheduleContext;
  cursor: Uint8Array | undefined;
}

const CHECKER_DESCRIPTIONS: Record<string, string> = {
  [REPLICA_CHECKER]: 'keeps every region at max-replicas healthy voters (down/offline peers, learners, missing and extra replicas)',
  [MERGE_CHECKER]: 'merges small adjacent regions (size and key thresholds, split-merge-interval)',
};

export class Coordinator {
  readonly hotCache = new HotCache();
  private readonly replicaChecker: ReplicaChecker;
  private readonly mergeChecker: MergeChecker;
  private readonly schedulers: Scheduler[];
  private readonly enabled = new Set<string>();
  private lastPatrolMs = Number.NEGATIVE_INFINITY;
  /** The patrol round in progress (its store view and the start key of its next slice). */
  private patrolRound: PatrolRound | undefined;
  private lastScheduleMs = Number.NEGATIVE_INFINITY;
  private ticking = false;
  private readonly cluster: Cluster;
  private readonly operators: OperatorController;
  private readonly storage: MetaStorage;
  private readonly logger: Logger;

  private constructor(opts: CoordinatorOptions) {
    this.cluster = opts.cluster;
    this.operators = opts.operators;
    this.storage = opts.storage;
    this.logger = (opts.logger ?? noopLogger).child({ component: 'coordinator' });
    const allocId = () => this.cluster.ids.alloc(1);
    this.replicaChecker = new ReplicaChecker(allocId);
    this.mergeChecker = new MergeChecker(allocId);
    this.schedulers = [new BalanceLeaderScheduler(), new BalanceRegionScheduler(allocId), new HotRegionScheduler(this.hotCache)];
  }

  /** Loads the enabled set (default: everything on). */
  static async open(opts: CoordinatorOptions): Promise<Coordinator> {
    const c = new Coordinator(opts);
    const saved = await opts.storage.loadJson('schedulers');
    const names = Array.isArray(saved) ? saved.filter((x): x is string => typeof x === 'string') : c.allNames();
    for (const n of names) if (c.allNames().includes(n)) c.enabled.add(n);
    return c;
  }

  private allNames(): string[] {
    return [REPLICA_CHECKER, MERGE_CHECKER, ...this.schedulers.map((s) => s.name)];
  }

  /** Every checker and scheduler with its state. */
  list(): SchedulerEntry[] {
    return [
      ...[REPLICA_CHECKER, MERGE_CHECKER].map((name) => ({ name, type: 'checker' as const, enabled: this.enabled.has(name), description: CHECKER_DESCRIPTIONS[name]! })),
      ...this.schedulers.map((s) => ({ name: s.name, type: 'scheduler' as const, enabled: this.enabled.has(s.name), description: s.description })),
    ];
  }

  /** Turns a checker or scheduler on or off (persisted). Throws SCHEDULER_NOT_FOUND for an unknown name. */
  async setEnabled(name: string, on: boolean): Promise<SchedulerEntry> {
    if (!this.allNames().includes(name)) {
      throw new PdError(PdErrorCodes.SCHEDULER_NOT_FOUND, `unknown scheduler ${JSON.stringify(name)}; known: ${this.allNames().join(', ')}`, { details: { name } });
    }
    const next = new Set(this.enabled);
    if (on) next.add(name);
    else next.delete(name);
    await this.storage.saveJson('schedulers', [...next].sort());
    if (on) this.enabled.add(name);
    else this.enabled.delete(name);
    this.logger.info({ name, enabled: on }, on ? 'scheduler added' : 'scheduler removed');
    return this.list().find((e) => e.name === name)!;
  }

  /** Feeds a processed heartbeat to operators and the hot cache; returns the command to send back. */
  onRegionHeartbeat(res: HeartbeatResult): HeartbeatCommand | undefined {
    if (res.overlaps.length > 0) {
      this.operators.onRegionsRemoved(res.overlaps);
      for (const o of res.overlaps) this.hotCache.forget(o.meta.id);
    }
    this.hotCache.observe(res.region, this.cluster.config.hotRegionMinWriteRate);
    return this.operators.onRegionHeartbeat(res.region);
  }

  /**
   * One round of background work: operator timeouts, then the next slice of the patrol (a full
   * patrol starts every `patrol-region-interval` and goes through {@link PATROL_BATCH} regions per
   * tick, so a big cluster never blocks the event loop for a whole round), the schedulers when
   * due, and burial of drained stores. Overlapping calls are skipped. Never throws: a failure is
   * logged and the next tick tries again.
   */
  async tick(): Promise<void> {
    if (this.ticking || !this.cluster.bootstrapped) return;
    this.ticking = true;
    try {
      this.operators.tick();
      const stores = new ScheduleContext(this.cluster, this.operators);
      this.operators.cancelUnusableTargets((id) => stores.usable(id), (id) => stores.takesNewReplicas(id));
      const now = this.cluster.clock.nowMs();
      const cfg = this.cluster.config;
      if (this.patrolRound === undefined && now - this.lastPatrolMs >= cfg.patrolRegionIntervalMs) {
        this.lastPatrolMs = now;
        this.patrolRound = { ctx: new ScheduleContext(this.cluster, this.operators), cursor: new Uint8Array(0) };
      }
      if (this.patrolRound !== undefined) await this.patrolStep(this.patrolRound);
      if (now - this.lastScheduleMs >= cfg.scheduleIntervalMs) {
        this.lastScheduleMs = now;
        await this.runSchedulers();
      }
      await this.cluster.buryDrainedStores();
    } catch (err) {
      this.logger.error({ err }, 'coordinator round failed');
    } finally {
      this.ticking = false;
    }
  }

  /** Runs the enabled checkers over every region once, at once. Returns the operators added. */
  async patrol(): Promise<Operator[]> {
    const round: PatrolRound = { ctx: new ScheduleContext(this.cluster, this.operators), cursor: new Uint8Array(0) };
    const added: Operator[] = [];
    while (round.cursor !== undefined) added.push(...(await this.patrolStep(round)));
    return added;
  }

  /** Checks the next {@link PATROL_BATCH} regions of a round from its cursor; ends the round at the last region. */
  private async patrolStep(round: PatrolRound): Promise<Operator[]> {
    if (round.cursor === undefined) return [];
    const batch = this.cluster.regions.scan(round.cursor, new Uint8Array(0), PATROL_BATCH + 1);
    const next = batch.length > PATROL_BATCH ? batch.pop()!.meta.startKey : undefined;
    const added = await this.checkRegions(round.ctx, batch);
    round.cursor = next;
    if (next === undefined && this.patrolRound === round) this.patrolRound = undefined;
    return added;
  }

  private async checkRegions(ctx: ScheduleContext, regions: readonly RegionInfo[]): Promise<Operator[]> {
    const added: Operator[] = [];
    const replicaOn = this.enabled.has(REPLICA_CHECKER);
    const mergeOn = this.enabled.has(MERGE_CHECKER);
    for (const r of regions) {
      try {
        if (replicaOn && this.replicaChecker.needsCheck(ctx, r)) {
          const op = await this.replicaChecker.check(ctx, r);
          if (op !== undefined) {
            added.push(this.operators.add(op));
            continue;
          }
        }
        if (mergeOn) {
          const pair = await this.mergeChecker.check(ctx, r);
          if (pair !== undefined) added.push(this.operators.add(pair[0], { twin: pair[1] }));
        }
      } catch (err) {
        if (!isMrkvError(err)) throw err;
        this.logger.debug({ err, regionId: r.meta.id }, 'checker skipped region');
      }
    }
    return added;
  }

  /** Runs every enabled scheduler once, on one view of the cluster. Returns the operators added. */
  async runSchedulers(): Promise<Operator[]> {
    const added: Operator[] = [];
    let ctx: ScheduleContext | undefined;
    for (const s of this.schedulers) {
      if (!this.enabled.has(s.name)) continue;
      ctx ??= new ScheduleContext(this.cluster, this.operators);
      try {
        added.push(...(await s.schedule(ctx)));
      } catch (err) {
        if (!isMrkvError(err)) throw err;
        this.logger.debug({ err, scheduler: s.name }, 'scheduler round skipped');
      }
    }
    return added;
  }
}
