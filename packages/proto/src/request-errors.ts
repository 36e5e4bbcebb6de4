/**
 * Request errors of the RawKV API: failures that are final for the request (bad input, limits,
 * unsupported features), as opposed to region errors, which the client retries elsewhere. A store
 * answers them in the Raw response's `error` string field. RawBatchGet, RawScan and RawBatchScan
 * responses have no such field; like TiKV, a store answers those with a single KvPair whose
 * `error.abort` holds the same string ({@link requestErrorToKeyError}).
 *
 * The string form is `[<code>] <message>`, e.g. `[KV:Storage:KeyTooLarge] key is 9000 bytes, limit
 * 8192`: readable by any TiKV client, and parsed back into a typed error by mrkv's client with
 * {@link requestErrorFromWire}. Codes follow TiKV's `KV:Storage:` error codes where TiKV has one.
 */
import { MrkvError } from '@mrkv/common';
import type { KeyError } from './generated/kvrpcpb/KeyError.js';

export const RequestErrorCodes = {
  /** A key is empty where the API needs one (get, put, delete, CAS). */
  KEY_IS_EMPTY: 'KV:Storage:KeyIsEmpty',
  KEY_TOO_LARGE: 'KV:Storage:KeyTooLarge',
  VALUE_TOO_LARGE: 'KV:Storage:ValueTooLarge',
  /** Too many keys or bytes in one batch request. */
  BATCH_TOO_LARGE: 'KV:Storage:BatchTooLarge',
  /** A scan or delete-range whose bounds are inverted for its direction. */
  INVALID_SCAN_RANGE: 'KV:Storage:InvalidReqRange',
  /** A scan limit of 0 or above the server's maximum. */
  INVALID_SCAN_LIMIT: 'KV:Storage:InvalidScanLimit',
  /** A column family the store does not have. */
  INVALID_CF: 'KV:Storage:InvalidCF',
  /** Context.api_version other than V1. */
  API_VERSION_NOT_SUPPORTED: 'KV:Storage:ApiVersionNotSupported',
  /** A non-zero TTL: mrkv runs without TTL support (API V1). */
  TTL_NOT_SUPPORTED: 'KV:Storage:TtlNotSupported',
  /** RawBatchPut.ttls has neither one entry nor one per pair. */
  TTL_LEN_NOT_EQUALS_TO_PAIRS: 'KV:Storage:TtlLenNotEqualsToPairs',
  /** A batch request with no keys, or a BatchCommands request with no command set. */
  EMPTY_REQUEST: 'KV:Storage:EmptyRequest',
  /** Context.max_execution_duration_ms passed before the request finished. */
  DEADLINE_EXCEEDED: 'KV:Storage:DeadlineExceeded',
  /** A request error string this contract does not know (from another server version). */
  UNKNOWN: 'KV:Storage:Unknown',
} as const;

export type RequestErrorCode = (typeof RequestErrorCodes)[keyof typeof RequestErrorCodes];

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(RequestErrorCodes));

/** A final, non-region failure of one RawKV request. */
export class RequestError extends MrkvError<RequestErrorCode> {
  constructor(code: RequestErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
    this.name = 'RequestError';
  }
}

/** The string a store puts in a Raw response's `error` field. */
export function requestErrorToWire(err: RequestError): string {
  return `[${err.code}] ${err.message}`;
}

/** The KvPair error for responses without an `error` field (see the module comment). */
export function requestErrorToKeyError(err: RequestError): KeyError {
  return { abort: requestErrorToWire(err) };
}

const WIRE_FORM = /^\[(KV:[A-Za-z]+:[A-Za-z]+)\] ([\s\S]*)$/;

/**
 * The typed error for a Raw response's `error` string. Strings not in mrkv's `[<code>] <message>`
 * form (or with an unknown code) become `KV:Storage:Unknown` carrying the whole string.
 */
export function requestErrorFromWire(s: string): RequestError {
  const m = WIRE_FORM.exec(s);
  if (m !== null && KNOWN_CODES.has(m[1]!)) return new RequestError(m[1] as RequestErrorCode, m[2]!);
  return new RequestError(RequestErrorCodes.UNKNOWN, s);
}

// ---- Constructors with uniform messages (no user key bytes in messages: they end up in logs) ----

export const requestErrors = {
  keyIsEmpty: (): RequestError => new RequestError(RequestErrorCodes.KEY_IS_EMPTY, 'key is empty'),
  keyTooLarge: (size: number, limit: number): RequestError =>
    new RequestError(RequestErrorCodes.KEY_TOO_LARGE, `key is ${size} bytes, limit ${limit}`, { details: { size, limit } }),
  valueTooLarge: (size: number, limit: number): RequestError =>
    new RequestError(RequestErrorCodes.VALUE_TOO_LARGE, `value is ${size} bytes, limit ${limit}`, { details: { size, limit } }),
  batchTooLarge: (what: 'keys' | 'bytes', size: number, limit: number): RequestError =>
    new RequestError(RequestErrorCodes.BATCH_TOO_LARGE, `batch has ${size} ${what}, limit ${limit}`, { details: { what, size, limit } }),
  invalidScanRange: (reverse: boolean): RequestError =>
    new RequestError(
      RequestErrorCodes.INVALID_SCAN_RANGE,
      reverse ? 'reverse scan needs start_key > end_key' : 'scan needs start_key < end_key',
      { details: { reverse } },
    ),
  invalidScanLimit: (limit: number, max: number): RequestError =>
    new RequestError(RequestErrorCodes.INVALID_SCAN_LIMIT, `scan limit ${limit} is not in [1, ${max}]`, { details: { limit, max } }),
  invalidCf: (cf: string): RequestError =>
    new RequestError(RequestErrorCodes.INVALID_CF, `unknown column family ${JSON.stringify(cf)}`, { details: { cf } }),
  apiVersionNotSupported: (version: string): RequestError =>
    new RequestError(RequestErrorCodes.API_VERSION_NOT_SUPPORTED, `api version ${version} is not supported; mrkv serves V1`, {
      details: { version },
    }),
  ttlNotSupported: (): RequestError => new RequestError(RequestErrorCodes.TTL_NOT_SUPPORTED, 'TTL is not supported (API V1)'),
  ttlLenNotEqualsToPairs: (ttls: number, pairs: number): RequestError =>
    new RequestError(RequestErrorCodes.TTL_LEN_NOT_EQUALS_TO_PAIRS, `${ttls} ttls for ${pairs} pairs`, { details: { ttls, pairs } }),
  emptyRequest: (what: string): RequestError => new RequestError(RequestErrorCodes.EMPTY_REQUEST, `empty request: ${what}`),
  deadlineExceeded: (budgetMs: number): RequestError =>
    new RequestError(RequestErrorCodes.DEADLINE_EXCEEDED, `deadline of ${budgetMs} ms exceeded`, { details: { budgetMs } }),
} as const;
