/**
 * Operators: an ordered list of steps that moves one region from its current shape to a target
 * one (PD `pkg/schedule/operator`). A step is finished when a later heartbeat shows its effect;
 * the operator then moves on to the next step. Every step is re-sent on each heartbeat until it
 * finishes, so the store must treat repeats as no-ops.
 *
 * | step | command to the leader | finished when the heartbeat shows |
 * | --- | --- | --- |
 * | transferLeader | `transfer_leader{peer}` | the leader on the target store |
 * | addLearner | `change_peer{AddLearnerNode, learner}` | the learner, not pending |
 * | promoteLearner | `change_peer{AddNode, voter}` | the peer as a voter |
 * | addPeer | `change_peer{AddNode, voter}` | the voter, not pending |
 * | removePeer | `change_peer{RemoveNode, peer}` | no peer on the store |
 * | splitRegion | `split_region{policy, keys}` | another key range |
 * | mergeRegion | `merge{target}` (source only) | source gone (active) / target range grew (passive) |
 */
import type { Peer, Region, RegionEpoch } from '@mrkv/proto';
import { isPending, type RegionInfo } from '../core/region-info.js';

/** pdpb.CheckPolicy. */
export type SplitPolicy = 'SCAN' | 'APPROXIMATE' | 'USEKEY';

/** One step of an operator. */
export type OpStep =
  | { readonly type: 'transferLeader'; readonly fromStore: number; readonly toStore: number }
  | { readonly type: 'addLearner'; readonly storeId: number; readonly peerId: number }
  | { readonly type: 'promoteLearner'; readonly storeId: number; readonly peerId: number }
  | { readonly type: 'addPeer'; readonly storeId: number; readonly peerId: number }
  | { readonly type: 'removePeer'; readonly storeId: number; readonly peerId: number }
  | {
      readonly type: 'splitRegion';
      readonly policy: SplitPolicy;
      readonly keys: readonly Uint8Array[];
      /** The range before the split: a heartbeat with another range finishes the step. */
      readonly startKey: Uint8Array;
      readonly endKey: Uint8Array;
    }
  | {
      readonly type: 'mergeRegion';
      readonly sourceId: number;
      readonly target: Region;
      /** True on the target's twin operator: it sends nothing and waits for the target to grow. */
      readonly passive: boolean;
    };

/** A command for the region's leader, in pdpb.RegionHeartbeatResponse terms. */
export type OperatorCommand =
  | { readonly kind: 'changePeer'; readonly changeType: 'AddNode' | 'RemoveNode' | 'AddLearnerNode'; readonly peer: Peer }
  | { readonly kind: 'transferLeader'; readonly peer: Peer; readonly peers: readonly Peer[] }
  | { readonly kind: 'merge'; readonly target: Region }
  | { readonly kind: 'splitRegion'; readonly policy: SplitPolicy; readonly keys: readonly Uint8Array[] };

/** A command addressed to a region's leader (one RegionHeartbeatResponse). */
export interface HeartbeatCommand {
  readonly regionId: number;
  /** The region's epoch as PD last saw it; the store refuses the command if it moved on. */
  readonly regionEpoch: RegionEpoch;
  /** The leader the command is for; the response goes to its store's stream. */
  readonly targetPeer: Peer;
  readonly command: OperatorCommand;
}

/**
 * What an operator is for; limits count running operators by kind. `scatter` operators (see
 * schedule/scatter) count against `region-schedule-limit`, apart from balance-region's.
 */
export type OperatorKind = 'leader' | 'region' | 'replica' | 'merge' | 'split' | 'hot' | 'admin' | 'scatter';

/** Where an operator is in its life. */
export type OperatorStatus = 'running' | 'success' | 'timeout' | 'cancelled' | 'replaced' | 'stale';

/** True for steps that may need a snapshot or a long catch-up (PD's slow steps). */
export function isSlowStep(step: OpStep): boolean {
  return step.type === 'addLearner' || step.type === 'addPeer' || step.type === 'mergeRegion';
}

/** True for steps that change membership (each bumps conf_ver once). */
export function isConfStep(step: OpStep): boolean {
  return step.type === 'addLearner' || step.type === 'promoteLearner' || step.type === 'addPeer' || step.type === 'removePeer';
}

/** True if the heartbeat `region` shows `step` done. */
export function isStepFinished(step: OpStep, region: RegionInfo): boolean {
  switch (step.type) {
    case 'transferLeader':
      return region.leader?.storeId === step.toStore;
    case 'addLearner': {
      const p = region.meta.peers.find((x) => x.storeId === step.storeId && x.id === step.peerId);
      return p !== undefined && !isPending(region, p.id);
    }
    case 'promoteLearner': {
      const p = region.meta.peers.find((x) => x.storeId === step.storeId && x.id === step.peerId);
      return p !== undefined && p.role === 'Voter';
    }
    case 'addPeer': {
      const p = region.meta.peers.find((x) => x.storeId === step.storeId && x.id === step.peerId);
      return p !== undefined && p.role === 'Voter' && !isPending(region, p.id);
    }
    case 'removePeer':
      return !region.meta.peers.some((x) => x.storeId === step.storeId);
    case 'splitRegion':
      return Buffer.compare(region.meta.startKey, step.startKey) !== 0 || Buffer.compare(region.meta.endKey, step.endKey) !== 0;
    case 'mergeRegion':
      // Active side: the source disappears (see OperatorController.onRegionsRemoved), so a
      // heartbeat of the source never finishes it. Passive side: the target's range grew.
      return step.passive && (Buffer.compare(region.meta.startKey, step.target.startKey) !== 0 || Buffer.compare(region.meta.endKey, step.target.endKey) !== 0);
  }
}

/** The command that makes `region`'s leader perform `step`, or undefined (passive merge, unknown peer). */
export function stepCommand(step: OpStep, region: RegionInfo): OperatorCommand | undefined {
  switch (step.type) {
    case 'transferLeader': {
      const to = region.meta.peers.find((p) => p.storeId === step.toStore);
      return to === undefined ? undefined : { kind: 'transferLeader', peer: { ...to }, peers: [] };
    }
    case 'addLearner':
      return { kind: 'changePeer', changeType: 'AddLearnerNode', peer: { id: step.peerId, storeId: step.storeId, role: 'Learner' } };
    case 'promoteLearner':
    case 'addPeer':
      return { kind: 'changePeer', changeType: 'AddNode', peer: { id: step.peerId, storeId: step.storeId, role: 'Voter' } };
    case 'removePeer': {
      const p = region.meta.peers.find((x) => x.storeId === step.storeId);
      return { kind: 'changePeer', changeType: 'RemoveNode', peer: p !== undefined ? { ...p } : { id: step.peerId, storeId: step.storeId, role: 'Voter' } };
    }
    case 'splitRegion':
      return { kind: 'splitRegion', policy: step.policy, keys: step.keys };
    case 'mergeRegion':
      return step.passive ? undefined : { kind: 'merge', target: step.target };
  }
}

/** A short, stable description of a step ("add learner peer 12 on store 3"). */
export function describeStep(step: OpStep): string {
  switch (step.type) {
    case 'transferLeader':
      return `transfer leader from store ${step.fromStore} to store ${step.toStore}`;
    case 'addLearner':
      return `add learner peer ${step.peerId} on store ${step.storeId}`;
    case 'promoteLearner':
      return `promote learner peer ${step.peerId} on store ${step.storeId} to voter`;
    case 'addPeer':
      return `add peer ${step.peerId} on store ${step.storeId}`;
    case 'removePeer':
      return `remove peer ${step.peerId} on store ${step.storeId}`;
    case 'splitRegion':
      return `split region with policy ${step.policy}${step.keys.length > 0 ? ` at ${step.keys.length} key(s)` : ''}`;
    case 'mergeRegion':
      return step.passive ? `merge region ${step.sourceId} into this region` : `merge this region into region ${step.target.id}`;
  }
}

/** Options of a new operator. */
export interface OperatorInit {
  readonly regionId: number;
  /** The region's epoch when the operator was built. */
  readonly regionEpoch: RegionEpoch;
  readonly desc: string;
  readonly kind: OperatorKind;
  /** Who made it: `admin`, a checker or a scheduler name. */
  readonly source: string;
  readonly steps: readonly OpStep[];
  /** For a merge pair: the region id of the twin operator. */
  readonly twinRegionId?: number;
}

/**
 * One operator's progress. Mutated only by the OperatorController.
 * Invariant: `currentStep <= steps.length`; `status !== 'running'` implies `finishedAtMs` is set.
 */
export class Operator {
  /** Assigned by the controller when added. */
  id = 0;
  readonly regionId: number;
  readonly regionEpoch: RegionEpoch;
  readonly desc: string;
  readonly kind: OperatorKind;
  readonly source: string;
  readonly steps: readonly OpStep[];
  readonly twinRegionId: number | undefined;
  currentStep = 0;
  status: OperatorStatus = 'running';
  /** Why it ended (timeouts and cancellations). */
  reason = '';
  createdAtMs = 0;
  stepStartedAtMs = 0;
  finishedAtMs: number | undefined;

  constructor(init: OperatorInit) {
    this.regionId = init.regionId;
    this.regionEpoch = { ...init.regionEpoch };
    this.desc = init.desc;
    this.kind = init.kind;
    this.source = init.source;
    this.steps = init.steps;
    this.twinRegionId = init.twinRegionId;
  }

  /** The step in progress, or undefined once every step finished. */
  get step(): OpStep | undefined {
    return this.steps[this.currentStep];
  }

  /** Conf-changing steps in the operator (bounds the conf_ver it may cause). */
  get confSteps(): number {
    return this.steps.filter(isConfStep).length;
  }

  /** True if the operator splits or merges (so a version change is expected). */
  get changesRange(): boolean {
    return this.steps.some((s) => s.type === 'splitRegion' || s.type === 'mergeRegion');
  }

  /**
   * Advances past every step `region` shows finished. Returns true if a step finished (the
   * step clock restarts at `nowMs`).
   */
  advance(region: RegionInfo, nowMs: number): boolean {
    let moved = false;
    while (this.step !== undefined && isStepFinished(this.step, region)) {
      this.currentStep++;
      moved = true;
    }
    if (moved) this.stepStartedAtMs = nowMs;
    return moved;
  }

  /** A one-line summary: "<desc> (<kind>, step 2/3: promote learner …)". */
  toString(): string {
    const s = this.step;
    return `${this.desc} (${this.kind}, step ${Math.min(this.currentStep + 1, this.steps.length)}/${this.steps.length}${s ? `: ${describeStep(s)}` : ''})`;
  }
}
