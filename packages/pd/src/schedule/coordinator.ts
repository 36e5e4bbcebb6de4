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

const CHECKER_DESCRIPTIONS: Record<string, string> = {
  [REPLICA_CHECKER]: 'keeps every region at max-replicas healthy voters (down/offline peers, learners, missing and extra replicas)',
  [MERGE_CHECKER]: 'merges small adjacent regions (size and key thresholds, split-merge-interval)',
};

export class Coordinator {
  readonly hotCache = new HotCache();
  private readonly replicaChecker: ReplicaChecker;
  private readonly mergeChecker = new MergeChecker();
  private readonly schedulers: Scheduler[];
  private readonly enabled = new Set<string>();
  private lastPatrolMs = Number.NEGATIVE_INFINITY;
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
   * One round of background work: operator timeouts, then (when due) the patrol and the
   * schedulers, then burial of drained stores. Overlapping calls are skipped. Never throws: a
   * failure is logged and the next tick tries again.
   */
  async tick(): Promise<void> {
    if (this.ticking || !this.cluster.bootstrapped) return;
    this.ticking = true;
    try {
      this.operators.tick();
      const now = this.cluster.clock.nowMs();
      const cfg = this.cluster.config;
      if (now - this.lastPatrolMs >= cfg.patrolRegionIntervalMs) {
        this.lastPatrolMs = now;
        await this.patrol();
      }
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

  /** Runs the enabled checkers over every region once. Returns the operators added. */
  async patrol(): Promise<Operator[]> {
    const ctx = new ScheduleContext(this.cluster, this.operators);
    const added: Operator[] = [];
    const replicaOn = this.enabled.has(REPLICA_CHECKER);
    const mergeOn = this.enabled.has(MERGE_CHECKER);
    for (const r of this.cluster.regions.all()) {
      try {
        if (replicaOn) {
          const op = await this.replicaChecker.check(ctx, r);
          if (op !== undefined) {
            added.push(this.operators.add(op));
            continue;
          }
        }
        if (mergeOn) {
          const pair = this.mergeChecker.check(ctx, r);
          if (pair !== undefined) added.push(this.operators.add(pair[0], { twin: pair[1] }));
        }
      } catch (err) {
        if (!isMrkvError(err)) throw err;
        this.logger.debug({ err, regionId: r.meta.id }, 'checker skipped region');
      }
    }
    return added;
  }

  /** Runs every enabled scheduler once. Returns the operators added. */
  async runSchedulers(): Promise<Operator[]> {
    const added: Operator[] = [];
    for (const s of this.schedulers) {
      if (!this.enabled.has(s.name)) continue;
      try {
        added.push(...(await s.schedule(new ScheduleContext(this.cluster, this.operators))));
      } catch (err) {
        if (!isMrkvError(err)) throw err;
        this.logger.debug({ err, scheduler: s.name }, 'scheduler round skipped');
      }
    }
    return added;
  }
}
