/**
 * How a failure becomes a response, as TiKV answers (reference §1.3, §1.4):
 * - a `RegionError` → `region_error` (errorpb.Error with exactly one variant), which clients retry;
 * - any other typed error (request errors, bad Context, wrong cluster id) → the final `error`
 *   string `[<code>] <message>`; responses without an `error` field (RawBatchGet, RawScan,
 *   RawBatchScan) carry it as a single KvPair with `error.abort`; SplitRegion and ReadIndex,
 *   which have neither, get an errorpb.Error with only `message` set, as TiKV does;
 * - a request its caller cancelled (AbortError) → `[KV:Common:Cancelled]`, not logged;
 * - anything unexpected → logged with the request context, answered as `[KV:Server:Internal]`
 *   without details (no stack traces to clients). An `InvariantViolation` is a bug: it is handed
 *   to the server's fatal hook (fail fast), never swallowed.
 */
import { CommonCodes, InvariantViolation, isMrkvError, type Logger } from '@mrkv/common';
import { isRegionError, regionErrorToWire, type errorpb, type kvrpcpb, type RequestContext } from '@mrkv/proto';
import { StoreErrorCodes } from '../errors.js';

/** A failure, classified for the wire. */
export type Failure =
  | { readonly kind: 'region'; readonly regionError: errorpb.Error }
  | { readonly kind: 'request'; readonly message: string };

/** The `error` string clients see for unexpected failures. */
export const INTERNAL_ERROR_MESSAGE = `[${StoreErrorCodes.INTERNAL}] internal error while serving the request; see the store log`;

/** Where classification reports what it cannot answer on its own. */
export interface FailureSink {
  readonly logger: Logger;
  /** Called with invariant violations (bugs). The process decides whether to abort. */
  onFatal(err: InvariantViolation): void;
}

/** Classifies `err` for the wire; logs (and escalates) unexpected ones with the request context. */
export function classifyFailure(err: unknown, method: string, ctx: RequestContext | undefined, sink: FailureSink): Failure {
  if (isRegionError(err)) return { kind: 'region', regionError: regionErrorToWire(err) };
  if (isMrkvError(err)) return { kind: 'request', message: `[${err.code}] ${err.message}` };
  // The caller cancelled or its deadline passed (the request's AbortSignal fired): nothing went
  // wrong here, and nobody reads the answer.
  if (err instanceof Error && err.name === 'AbortError') return { kind: 'request', message: `[${CommonCodes.CANCELLED}] the request was cancelled by the caller` };
  const fields = { method, regionId: ctx?.regionId, requestSource: ctx?.requestSource, err };
  if (err instanceof InvariantViolation) {
    sink.logger.fatal(fields, 'invariant violated while serving a request');
    sink.onFatal(err);
  } else {
    sink.logger.error(fields, 'unexpected error while serving a request');
  }
  return { kind: 'request', message: INTERNAL_ERROR_MESSAGE };
}

/** Response fields for responses with an `error` string. */
export function withErrorString(f: Failure): { regionError?: errorpb.Error; error?: string } {
  return f.kind === 'region' ? { regionError: f.regionError } : { error: f.message };
}

/** Response fields for RawBatchGet (`pairs`): the error travels as one KvPair's `error.abort`. */
export function withPairsError(f: Failure): { regionError?: errorpb.Error; pairs?: kvrpcpb.KvPair[] } {
  return f.kind === 'region' ? { regionError: f.regionError } : { pairs: [{ error: { abort: f.message } }] };
}

/** Response fields for RawScan / RawBatchScan (`kvs`). */
export function withKvsError(f: Failure): { regionError?: errorpb.Error; kvs?: kvrpcpb.KvPair[] } {
  return f.kind === 'region' ? { regionError: f.regionError } : { kvs: [{ error: { abort: f.message } }] };
}

/** Response fields for SplitRegion / ReadIndex: only `region_error` exists. */
export function withRegionErrorOnly(f: Failure): { regionError: errorpb.Error } {
  return f.kind === 'region' ? { regionError: f.regionError } : { regionError: { message: f.message } };
}

/** Outcome label of a response, for metrics. */
export type Outcome = 'ok' | 'region_error' | 'error';

/** The outcome a response reports (region error, request error, or success). */
export function outcomeOf(resp: {
  regionError?: errorpb.Error | null;
  error?: string;
  pairs?: kvrpcpb.KvPair[];
  kvs?: kvrpcpb.KvPair[];
}): Outcome {
  if (resp.regionError != null) return 'region_error';
  if (resp.error !== undefined && resp.error !== '') return 'error';
  const first = resp.pairs?.[0] ?? resp.kvs?.[0];
  if (first?.error != null) return 'error';
  return 'ok';
}
