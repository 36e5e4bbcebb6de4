/**
 * The operator controller (PD `OperatorController`, pkg/schedule/operator_controller.go): holds
 * the running operators (at most one per region), tracks their steps from heartbeats, ends them
 * on success, timeout, staleness or cancellation, and produces the command for the leader.
 *
 * Delivery: a command goes out in the region's heartbeat response, on the stream of the store
 * that holds the leader. It is sent at once when an operator is added (if the leader is known)
 * through `dispatch`, then again on every heartbeat of the region until its step finishes.
 *
 * Timeouts: each step has its own deadline from the moment it became current: `fast-step-timeout`
 * for quick steps, `slow-step-timeout` for steps that may need a snapshot (add learner/peer,
 * merge). Checked on every heartbeat and on every `tick()`.
 */
import { noopLogger, type Clock, type Logger } from '@mrkv/common';
import type { ScheduleConfig } from '../config.js';
import { PdError, PdErrorCodes } from '../errors.js';
import type { RegionInfo } from '../core/region-info.js';
import { describeStep, isSlowStep, stepCommand, type HeartbeatCommand, type Operator, type OperatorKind, type OperatorStatus } from './operator.js';

/** How many finished operators `history()` remembers. */
export const OPERATOR_HISTORY = 200;

export interface OperatorControllerOptions {
  readonly clock: Clock;
  readonly config: () => ScheduleConfig;
  /** The region as PD holds it now (for immediate dispatch and twin checks). */
  readonly region: (id: number) => RegionInfo | undefined;
  /** Sends a command to the leader's store now (the heartbeat stream); optional. */
  readonly dispatch?: (cmd: HeartbeatCommand) => void;
  /** Called when an operator ends, with its final status. */
  readonly onFinish?: (op: Operator) => void;
  readonly logger?: Logger;
}

export class OperatorController {
  private readonly running = new Map<number, Operator>();
  private readonly finished: Operator[] = [];
  private nextId = 1;
  private readonly logger: Logger;
  /** Sends a command to the leader's store now (the server sets it to its heartbeat streams). */
  dispatch: ((cmd: HeartbeatCommand) => void) | undefined;
  /** Called when an operator ends (the server counts them in metrics). */
  onFinish: ((op: Operator) => void) | undefined;

  constructor(private readonly opts: OperatorControllerOptions) {
    this.logger = (opts.logger ?? noopLogger).child({ component: 'operator' });
    this.dispatch = opts.dispatch;
    this.onFinish = opts.onFinish;
  }

  /**
   * Adds `op` (and its merge twin). Refuses (PD:schedule:ErrOperator) if the region already has
   * one, unless `replace` is set: an admin operator replaces a scheduler's.
   */
  add(op: Operator, options: { replace?: boolean; twin?: Operator } = {}): Operator {
    const ops = options.twin ? [op, options.twin] : [op];
    for (const o of ops) {
      if (o.steps.length === 0) throw new PdError(PdErrorCodes.OPERATOR, `operator for region ${o.regionId} has no steps`);
      const cur = this.running.get(o.regionId);
      if (cur !== undefined && !options.replace) {
        throw new PdError(PdErrorCodes.OPERATOR, `region ${o.regionId} already has a running operator: ${cur.toString()}`, {
          details: { regionId: o.regionId, operatorId: cur.id },
        });
      }
    }
    const now = this.opts.clock.nowMs();
    for (const o of ops) {
      const cur = this.running.get(o.regionId);
      if (cur !== undefined) this.end(cur, 'replaced', `replaced by operator for ${o.source}`);
      o.id = this.nextId++;
      o.createdAtMs = now;
      o.stepStartedAtMs = now;
      this.running.set(o.regionId, o);
      this.logger.info({ regionId: o.regionId, operatorId: o.id, kind: o.kind, source: o.source, desc: o.desc }, 'operator added');
      const region = this.opts.region(o.regionId);
      if (region !== undefined) {
        o.advance(region, now);
        const cmd = this.commandFor(o, region);
        if (cmd !== undefined) this.dispatch?.(cmd);
      }
    }
    return op;
  }

  /** The running operator of a region. */
  get(regionId: number): Operator | undefined {
    return this.running.get(regionId);
  }

  /** Running operators, oldest first. */
  list(): Operator[] {
    return [...this.running.values()].sort((a, b) => a.id - b.id);
  }

  /** Recently finished operators, newest first. */
  history(): Operator[] {
    return [...this.finished].reverse();
  }

  /** Running operators of `kind`. */
  count(kind: OperatorKind): number {
    let n = 0;
    for (const o of this.running.values()) if (o.kind === kind) n++;
    return n;
  }

  /** Cancels the operator of `regionId` (and its twin). Throws OPERATOR_NOT_FOUND if none runs. */
  cancel(regionId: number, reason = 'cancelled by admin'): Operator {
    const op = this.running.get(regionId);
    if (op === undefined) {
      throw new PdError(PdErrorCodes.OPERATOR_NOT_FOUND, `region ${regionId} has no running operator`, { details: { regionId } });
    }
    this.end(op, 'cancelled', reason);
    return op;
  }

  /**
   * A heartbeat of `region` arrived: advances its operator and returns the command to send, or
   * undefined (no operator, operator finished, or passive step).
   */
  onRegionHeartbeat(region: RegionInfo): HeartbeatCommand | undefined {
    const op = this.running.get(region.meta.id);
    if (op === undefined) return undefined;
    const now = this.opts.clock.nowMs();
    op.advance(region, now);
    if (op.step === undefined) {
      this.end(op, 'success', '');
      return undefined;
    }
    const staleWhy = this.staleness(op, region);
    if (staleWhy !== undefined) {
      this.end(op, 'stale', staleWhy);
      return undefined;
    }
    if (this.timedOut(op, now)) return undefined;
    return this.commandFor(op, region);
  }

  /**
   * Regions that disappeared from the tree (replaced by a split sibling or a merge target): a
   * merge source's active operator and a split operator succeeded (their effect arrived first as
   * the other region's report); anything else on them is stale.
   */
  onRegionsRemoved(removed: readonly RegionInfo[]): void {
    for (const r of removed) {
      const op = this.running.get(r.meta.id);
      if (op === undefined) continue;
      const step = op.step;
      if (step?.type === 'mergeRegion' && !step.passive) this.end(op, 'success', 'source merged', false);
      else if (step?.type === 'splitRegion') this.end(op, 'success', 'split: a new region took part of the range');
      else this.end(op, 'stale', 'region replaced by an overlapping region');
    }
  }

  /**
   * Cancels operators whose current step moves a leader or a new peer onto a store that can no
   * longer take it (it went down after the operator was made): otherwise the operator would hold
   * its region until the step's timeout, and the replica checker could not repair the region.
   * A step that adds a replica (`addLearner`, `addPeer`: a snapshot to write) is also cancelled
   * when its store no longer takes new replicas (low on disk space since the operator was made,
   * PD's storage threshold); promoting a learner already there, or moving a leader, is not. A
   * learner left behind is the replica checker's to remove.
   */
  cancelUnusableTargets(usable: (storeId: number) => boolean, takesNewReplicas: (storeId: number) => boolean = usable): void {
    for (const op of [...this.running.values()]) {
      const s = op.step;
      if (s === undefined) continue;
      if (s.type === 'addLearner' || s.type === 'addPeer') {
        if (!usable(s.storeId)) this.end(op, 'cancelled', `store ${s.storeId} cannot take the step any more`);
        else if (!takesNewReplicas(s.storeId)) this.end(op, 'cancelled', `store ${s.storeId} is low on disk space and takes no new replicas`);
        continue;
      }
      const target = s.type === 'transferLeader' ? s.toStore : s.type === 'promoteLearner' ? s.storeId : undefined;
      if (target !== undefined && !usable(target)) this.end(op, 'cancelled', `store ${target} cannot take the step any more`);
    }
  }

  /** Ends operators whose step deadline passed. Call periodically. */
  tick(): void {
    const now = this.opts.clock.nowMs();
    for (const op of [...this.running.values()]) this.timedOut(op, now);
  }

  private timedOut(op: Operator, now: number): boolean {
    const step = op.step;
    if (step === undefined) return false;
    const cfg = this.opts.config();
    const limit = isSlowStep(step) ? cfg.slowStepTimeoutMs : cfg.fastStepTimeoutMs;
    if (now - op.stepStartedAtMs <= limit) return false;
    this.end(op, 'timeout', `step "${describeStep(step)}" took longer than ${limit} ms`);
    return true;
  }

  /** Why `op` no longer fits `region`, or undefined (PD `checkStaleOperator`). */
  private staleness(op: Operator, region: RegionInfo): string | undefined {
    const e = region.meta.regionEpoch;
    if (!op.changesRange && e.version !== op.regionEpoch.version) return `region version moved from ${op.regionEpoch.version} to ${e.version}`;
    if (e.confVer > op.regionEpoch.confVer + op.confSteps) return `region conf_ver moved from ${op.regionEpoch.confVer} to ${e.confVer} beyond the operator's own changes`;
    return undefined;
  }

  private commandFor(op: Operator, region: RegionInfo): HeartbeatCommand | undefined {
    const step = op.step;
    if (step === undefined || region.leader === undefined) return undefined;
    const command = stepCommand(step, region);
    if (command === undefined) return undefined;
    return { regionId: region.meta.id, regionEpoch: { ...region.meta.regionEpoch }, targetPeer: { ...region.leader }, command };
  }

  private end(op: Operator, status: OperatorStatus, reason: string, endTwin = true): void {
    if (this.running.get(op.regionId) !== op) return;
    this.running.delete(op.regionId);
    op.status = status;
    op.reason = reason;
    op.finishedAtMs = this.opts.clock.nowMs();
    this.finished.push(op);
    if (this.finished.length > OPERATOR_HISTORY) this.finished.shift();
    const log = status === 'success' ? this.logger.info.bind(this.logger) : this.logger.warn.bind(this.logger);
    log({ regionId: op.regionId, operatorId: op.id, status, reason, desc: op.desc, tookMs: op.finishedAtMs - op.createdAtMs }, 'operator finished');
    this.onFinish?.(op);
    if (endTwin && op.twinRegionId !== undefined) {
      const twin = this.running.get(op.twinRegionId);
      if (twin !== undefined && twin.twinRegionId === op.regionId) {
        if (status === 'success' && twin.step?.type === 'mergeRegion' && twin.step.passive) return; // the target's twin finishes on its own heartbeat
        this.end(twin, status === 'success' ? 'success' : 'cancelled', `twin operator on region ${op.regionId} ended: ${status}`, false);
      }
    }
  }
}
