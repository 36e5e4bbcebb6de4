/**
 * Raft's errors. `@mrkv/raft` depends on nothing else of ours, so it carries its own small copy
 * of the mrkv error model (STYLE.md §5): expected refusals are `RaftError`s whose `code` comes
 * from the `RaftCodes` table (TiKV `error_code` names, so operators can grep both systems), and
 * broken invariants throw `RaftInvariantViolation`, which must fail the peer fast.
 *
 * `RaftError` is structurally an mrkv error (`code` + `details` + `toWire()`), so
 * `@mrkv/common`'s `isMrkvError` recognises it.
 */

export const RaftCodes = {
  /** A proposal was refused: no leader, forwarding disabled, transfer pending, over the limit. */
  PROPOSAL_DROPPED: 'KV:Raft:ProposalDropped',
  /** A local-only message type (MsgHup, MsgBeat, …) was passed to `step`. */
  STEP_LOCAL_MSG: 'KV:Raft:StepLocalMsg',
  /** A response came from a peer that has no Progress here. */
  STEP_PEER_NOT_FOUND: 'KV:Raft:StepPeerNotFound',
  /** A message is malformed (unknown type, bad numbers, non-contiguous entries, …). */
  INVALID_MESSAGE: 'KV:Raft:InvalidMessage',
  /** The configuration is invalid. */
  CONFIG_INVALID: 'KV:Raft:ConfigInvalid',
  /** A configuration change cannot be applied to the current configuration. */
  CONF_CHANGE_ERROR: 'KV:Raft:ConfChangeError',
  /** Bytes do not decode as a ConfChange / ConfChangeV2. */
  CODEC_ERROR: 'KV:Raft:CodecError',
  /** The storage's initial state is inconsistent (commit beyond the log, bad ConfState, …). */
  STORE_INCONSISTENT: 'KV:Raft:StoreInconsistent',
  /** Storage: the requested index precedes the first available index. */
  STORE_COMPACTED: 'KV:Raft:StoreCompacted',
  /** Storage: the requested index is beyond the last index. */
  STORE_UNAVAILABLE: 'KV:Raft:StoreUnavailable',
  /** Storage: a snapshot older than the current one was offered. */
  STORE_SNAPSHOT_OUT_OF_DATE: 'KV:Raft:StoreSnapshotOutOfDate',
  /** Storage: entries or a snapshot are being fetched; the caller will call back. */
  STORE_TEMPORARILY_UNAVAILABLE: 'KV:Raft:StoreTemporarilyUnavailable',
} as const;

export type RaftCode = (typeof RaftCodes)[keyof typeof RaftCodes];

/** The plain, cloneable form of a raft error. */
export interface RaftWireError {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

/** An expected refusal with a stable code. Callers branch on `code`, never on the message. */
export class RaftError extends Error {
  readonly code: RaftCode;
  readonly details: Record<string, unknown>;

  constructor(code: RaftCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RaftError';
    this.code = code;
    this.details = options?.details ?? {};
  }

  toWire(): RaftWireError {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** True if `e` is a RaftError with the given code (works across realms, unlike instanceof). */
export function isRaftError(e: unknown, code?: RaftCode): e is RaftError {
  if (!(e instanceof Error)) return false;
  const c = (e as { code?: unknown }).code;
  return typeof c === 'string' && c.startsWith('KV:Raft:') && (code === undefined || c === code);
}

/** A bug or corrupted state, not an outcome (etcd `Panicf`): fail the peer, never catch it. */
export class RaftInvariantViolation extends Error {
  readonly fields: Record<string, unknown>;
  constructor(message: string, fields: Record<string, unknown> = {}) {
    super(`raft invariant violated: ${message}${Object.keys(fields).length ? ' ' + JSON.stringify(fields) : ''}`);
    this.name = 'InvariantViolation';
    this.fields = fields;
  }
}

/** Asserts an internal invariant; the message names the numbers and a likely cause. */
export function invariant(cond: unknown, message: string, fields?: Record<string, unknown>): asserts cond {
  if (!cond) throw new RaftInvariantViolation(message, fields);
}

/** A dropped proposal (raft-rs `ProposalDropped`). */
export function proposalDropped(reason: string, details?: Record<string, unknown>): RaftError {
  return new RaftError(RaftCodes.PROPOSAL_DROPPED, `raft proposal dropped: ${reason}`, { details: details ?? {} });
}
