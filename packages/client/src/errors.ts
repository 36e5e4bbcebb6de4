/**
 * The client's error model. Every call rejects with a `ClientError` whose `code` is one of
 * `ClientErrorCodes`; the error that made the call give up (a region error, a gRPC status, a
 * store's request error) is its `cause`. Callers branch on `code`, never on message text.
 *
 * Retried failures (region errors, unreachable stores, PD hiccups) never reach the caller while
 * the call has time left; what reaches the caller says why the call stopped.
 */
import { MrkvError } from '@mrkv/common';
import { requestErrorFromWire } from '@mrkv/proto';

export const ClientErrorCodes = {
  /** The call's deadline (`timeoutMs`) passed; `details.lastError` names the last retried failure. */
  DEADLINE_EXCEEDED: 'KV:Client:DeadlineExceeded',
  /** The caller's AbortSignal fired; the signal's reason is the cause. */
  CANCELLED: 'KV:Client:Cancelled',
  /** The client was closed before or while the call ran. */
  CLOSED: 'KV:Client:Closed',
  /**
   * The region kept failing (region errors, no leader, no region in PD) until the call's backoff
   * budget (`maxBackoffMs`) was spent.
   */
  REGION_UNAVAILABLE: 'KV:Client:RegionUnavailable',
  /** A store could not be reached until the backoff budget was spent. */
  STORE_UNAVAILABLE: 'KV:Client:StoreUnavailable',
  /**
   * A write reached a store that then failed to answer (stream broke, no answer in time): it may
   * or may not have been applied. It is never sent again by the client (a second copy could
   * apply after a later write, or twice for compare-and-swap); the caller decides.
   */
  UNDETERMINED: 'KV:Client:UndeterminedResult',
  /** No PD endpoint answered (or none named a leader) until the backoff budget was spent. */
  PD_UNAVAILABLE: 'KV:Client:PdUnavailable',
  /** PD answered with a header error that retrying cannot fix (`details.pdError`). */
  PD_ERROR: 'KV:Client:PdError',
  /**
   * The region's leader refused the write because its store, or a majority of the region's
   * stores, is low on disk space (errorpb.DiskFull; TiKV `storage.reserve-space`). Definitive:
   * the write was refused before it was proposed, so it did not and will not apply. Not retried
   * by the client (space comes back only when an operator frees or adds it); reads still work.
   * `details.storeIds` names the full stores, `details.regionId` the region; the DiskFullError
   * is the cause.
   */
  DISK_FULL: 'KV:Client:DiskFull',
  /** A region error that is not retried (RaftEntryTooLarge); the RegionError is the cause. */
  REGION_ERROR: 'KV:Client:RegionError',
  /**
   * The store refused the request for good (bad input, limits): `details.requestCode` is the
   * store's code (`KV:Storage:KeyTooLarge`, ...), the RequestError the cause.
   */
  REQUEST_FAILED: 'KV:Client:RequestFailed',
  /** Bad arguments, found before anything was sent (an empty key, an inverted range). */
  INVALID_ARGUMENT: 'KV:Client:InvalidArgument',
  /** A response the client cannot make sense of (a BatchCommands answer without the expected arm). */
  PROTOCOL: 'KV:Client:Protocol',
} as const;

export type ClientErrorCode = (typeof ClientErrorCodes)[keyof typeof ClientErrorCodes];

/** What every client call rejects with. */
export class ClientError extends MrkvError<ClientErrorCode> {
  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
    this.name = 'ClientError';
  }
}

/** True if `e` is a ClientError with `code` (works across realms: compares the name and code). */
export function isClientError(e: unknown, code?: ClientErrorCode): e is ClientError {
  if (!(e instanceof Error) || e.name !== 'ClientError') return false;
  return code === undefined || (e as ClientError).code === code;
}

/** Throws REQUEST_FAILED for a store's `error` string (empty: no error). */
export function checkError(error: string): void {
  if (error === '') return;
  const cause = requestErrorFromWire(error);
  throw new ClientError(ClientErrorCodes.REQUEST_FAILED, cause.message, { cause, details: { requestCode: cause.code } });
}
