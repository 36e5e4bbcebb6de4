/**
 * The configuration of one raft node (etcd `Config`, raft-rs `Config`), validated up front:
 * a bad value is a `RaftError(CONFIG_INVALID)` naming the field, never a misbehaving node.
 */
import { RaftCodes, RaftError } from './errors.js';
import type { Logger } from './logger.js';
import { noopLogger } from './logger.js';
import { ReadOnlyOption } from './types.js';

/** The randomness raft needs: a uniform integer in [0, n). Inject a seeded generator. */
export interface RaftRng {
  nextInt(n: number): number;
}

export interface Config {
  /** This node's id (> 0). */
  id: number;
  /**
   * Ticks a follower waits without hearing from a leader before campaigning; the actual
   * timeout is drawn from [electionTick, 2 * electionTick) (Raft paper §5.2). Must exceed
   * heartbeatTick (etcd suggests 10 × heartbeatTick).
   */
  electionTick: number;
  /** Ticks between leader heartbeats. */
  heartbeatTick: number;
  /** The last applied index when restarting (0 for a new node). Never beyond the commit index. */
  applied?: number;
  /** Most payload bytes per MsgApp (at least one entry is always sent). Default 1 MiB. */
  maxSizePerMsg?: number;
  /** Most payload bytes of committed entries per Ready (at least one). Default unlimited. */
  maxCommittedSizePerReady?: number;
  /**
   * Most payload bytes of uncommitted entries a leader accepts; proposals beyond it are dropped
   * (one entry always fits). Bounds memory when followers are slow. Default unlimited.
   */
  maxUncommittedEntriesSize?: number;
  /** Most MsgApps in flight per follower in Replicate state. Default 256. */
  maxInflightMsgs?: number;
  /** Most payload bytes in flight per follower. Default unlimited. */
  maxInflightBytes?: number;
  /**
   * The leader steps down when a quorum was not active for an election timeout, and followers
   * that heard from a leader within the election timeout ignore vote requests ("leader
   * stickiness"). Required by LeaseBased reads and by the store's leader lease.
   */
  checkQuorum?: boolean;
  /** Run a pre-election first, so a partitioned node cannot disrupt the cluster (thesis §9.6). */
  preVote?: boolean;
  /** How ReadIndex confirms leadership. LeaseBased requires checkQuorum. Default Safe. */
  readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /**
   * Election priority (raft-rs): among candidates with equal logs, a voter with a higher
   * priority refuses a lower-priority candidate. Default 0.
   */
  priority?: number;
  /** Do not broadcast a new commit index right away (followers learn it later). Default false. */
  skipBcastCommit?: boolean;
  /** A leader removed from (or demoted in) the configuration steps down. Default true. */
  stepDownOnRemoval?: boolean;
  /**
   * Skip the proposal-time checks of conf changes against the active configuration (one change
   * at a time, joint state rules). For applications that validate changes themselves; raft
   * still refuses invalid changes when they are applied. Default false.
   */
  disableConfChangeValidation?: boolean;
  /** Source of the randomized election timeout. */
  rng: RaftRng;
  /** Where raft logs; default silent. */
  logger?: Logger;
}

/** A validated config with every default filled in. */
export interface ResolvedConfig {
  readonly id: number;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly applied: number;
  readonly maxSizePerMsg: number;
  readonly maxCommittedSizePerReady: number;
  readonly maxUncommittedEntriesSize: number;
  readonly maxInflightMsgs: number;
  readonly maxInflightBytes: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly readOnlyOption: ReadOnlyOption;
  readonly disableProposalForwarding: boolean;
  readonly priority: number;
  readonly skipBcastCommit: boolean;
  readonly stepDownOnRemoval: boolean;
  readonly disableConfChangeValidation: boolean;
  readonly rng: RaftRng;
  readonly logger: Logger;
}

function invalid(field: string, reason: string, value: unknown): never {
  throw new RaftError(RaftCodes.CONFIG_INVALID, `invalid raft config: ${field} ${reason}`, { details: { field, value: String(value) } });
}

function posInt(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) invalid(field, 'must be a positive integer', v);
  return v;
}

function sizeLimit(field: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (v === Infinity) return v;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) invalid(field, 'must be a non-negative integer or Infinity', v);
  return v;
}

function flag(field: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') invalid(field, 'must be a boolean', v);
  return v;
}

/** Validates a config and fills defaults; throws RaftError(CONFIG_INVALID). */
export function resolveConfig(c: Config): ResolvedConfig {
  const id = posInt('id', c.id);
  const heartbeatTick = posInt('heartbeatTick', c.heartbeatTick);
  const electionTick = posInt('electionTick', c.electionTick);
  if (electionTick <= heartbeatTick) invalid('electionTick', 'must be greater than heartbeatTick', electionTick);
  const applied = c.applied ?? 0;
  if (!Number.isSafeInteger(applied) || applied < 0) invalid('applied', 'must be a non-negative integer', applied);
  const maxInflightMsgs = c.maxInflightMsgs === undefined ? 256 : posInt('maxInflightMsgs', c.maxInflightMsgs);
  const maxInflightBytes = sizeLimit('maxInflightBytes', c.maxInflightBytes, Infinity);
  if (maxInflightBytes === 0) invalid('maxInflightBytes', 'must be positive (use Infinity for no limit)', 0);
  const checkQuorum = flag('checkQuorum', c.checkQuorum, false);
  const readOnlyOption = c.readOnlyOption ?? ReadOnlyOption.Safe;
  if (readOnlyOption !== ReadOnlyOption.Safe && readOnlyOption !== ReadOnlyOption.LeaseBased) {
    invalid('readOnlyOption', 'must be ReadOnlyOption.Safe or ReadOnlyOption.LeaseBased', readOnlyOption);
  }
  if (readOnlyOption === ReadOnlyOption.LeaseBased && !checkQuorum) {
    invalid('readOnlyOption', 'LeaseBased requires checkQuorum', readOnlyOption);
  }
  const priority = c.priority ?? 0;
  if (!Number.isSafeInteger(priority)) invalid('priority', 'must be an integer', priority);
  if (c.rng === undefined || typeof c.rng.nextInt !== 'function') invalid('rng', 'must provide nextInt(n)', c.rng);
  return {
    id,
    electionTick,
    heartbeatTick,
    applied,
    maxSizePerMsg: sizeLimit('maxSizePerMsg', c.maxSizePerMsg, 1024 * 1024),
    maxCommittedSizePerReady: sizeLimit('maxCommittedSizePerReady', c.maxCommittedSizePerReady, Infinity),
    maxUncommittedEntriesSize: sizeLimit('maxUncommittedEntriesSize', c.maxUncommittedEntriesSize, Infinity),
    maxInflightMsgs,
    maxInflightBytes,
    checkQuorum,
    preVote: flag('preVote', c.preVote, false),
    readOnlyOption,
    disableProposalForwarding: flag('disableProposalForwarding', c.disableProposalForwarding, false),
    priority,
    skipBcastCommit: flag('skipBcastCommit', c.skipBcastCommit, false),
    stepDownOnRemoval: flag('stepDownOnRemoval', c.stepDownOnRemoval, true),
    disableConfChangeValidation: flag('disableConfChangeValidation', c.disableConfChangeValidation, false),
    rng: c.rng,
    logger: c.logger ?? noopLogger,
  };
}
