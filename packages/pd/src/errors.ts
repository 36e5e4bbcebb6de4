/**
 * Error codes of the placement driver. Expected outcomes only (a region PD does not know, an
 * operator that cannot be built, a config value out of range); invariant violations use
 * `invariant()` from @mrkv/common. Codes follow PD's `errs` names where one exists
 * (`PD:cluster:ErrNotBootstrapped`, `PD:core:ErrStoreTombstone`, ...), so operators can grep both.
 *
 * The gRPC layer maps codes onto pdpb `ErrorType`s in response headers (see {@link pdErrorType}).
 */
import { MrkvError } from '@mrkv/common';

export const PdErrorCodes = {
  /** The cluster has not been bootstrapped yet (pdpb NOT_BOOTSTRAPPED). */
  NOT_BOOTSTRAPPED: 'PD:cluster:ErrNotBootstrapped',
  /** Bootstrap on a bootstrapped cluster (pdpb ALREADY_BOOTSTRAPPED). */
  ALREADY_BOOTSTRAPPED: 'PD:cluster:ErrAlreadyBootstrapped',
  /** The store is a tombstone: it may not come back (pdpb STORE_TOMBSTONE). */
  STORE_TOMBSTONE: 'PD:core:ErrStoreTombstone',
  /** No store with that id (pdpb UNKNOWN, as PD answers). */
  STORE_NOT_FOUND: 'PD:core:ErrStoreNotFound',
  /** No region with that id or key (pdpb REGION_NOT_FOUND). */
  REGION_NOT_FOUND: 'PD:core:ErrRegionNotFound',
  /** A region (heartbeat, split report) older than what PD holds. */
  STALE_REGION: 'PD:core:ErrRegionStale',
  /** A request value PD refuses (pdpb INVALID_VALUE). */
  INVALID_VALUE: 'PD:core:ErrInvalidValue',
  /** The store cannot be deleted/changed in its current state. */
  STORE_STATE: 'PD:core:ErrStoreState',
  /** An operator cannot be built or added (region busy, no target, limit reached). */
  OPERATOR: 'PD:schedule:ErrOperator',
  /** No running operator matches. */
  OPERATOR_NOT_FOUND: 'PD:schedule:ErrOperatorNotFound',
  /** Unknown scheduler name. */
  SCHEDULER_NOT_FOUND: 'PD:schedule:ErrSchedulerNotFound',
  /** Unknown config key. */
  CONFIG_KEY: 'PD:config:ErrUnknownKey',
  /** Metadata in storage that cannot be read back. */
  CORRUPT_META: 'PD:storage:ErrCorruptMeta',
  /** The id allocator or TSO could not persist its bound. */
  PERSIST: 'PD:storage:ErrPersist',
  /** TSO cannot serve right now (logical overflow beyond the saved bound). */
  TSO: 'PD:tso:ErrGenerateTimestamp',
  /** PD is shutting down. */
  CLOSED: 'PD:server:ErrServerClosed',
} as const;

export type PdErrorCode = (typeof PdErrorCodes)[keyof typeof PdErrorCodes];

/** An expected PD failure. `details` is plain data (ids, keys as hex). */
export class PdError extends MrkvError<PdErrorCode> {
  constructor(code: PdErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
    this.name = 'PdError';
  }
}

/** True if `e` is a PdError (by code shape; works across realms). */
export function isPdError(e: unknown): e is PdError {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && code.startsWith('PD:');
}

/** The pdpb `ErrorType` a response header carries for `code`. */
export function pdErrorType(code: string): string {
  switch (code) {
    case PdErrorCodes.NOT_BOOTSTRAPPED:
      return 'NOT_BOOTSTRAPPED';
    case PdErrorCodes.ALREADY_BOOTSTRAPPED:
      return 'ALREADY_BOOTSTRAPPED';
    case PdErrorCodes.STORE_TOMBSTONE:
      return 'STORE_TOMBSTONE';
    case PdErrorCodes.REGION_NOT_FOUND:
      return 'REGION_NOT_FOUND';
    case PdErrorCodes.INVALID_VALUE:
      return 'INVALID_VALUE';
    default:
      return 'UNKNOWN';
  }
}
