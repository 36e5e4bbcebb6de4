/**
 * The mrkv error model (STYLE.md §5).
 *
 * Expected outcomes are `MrkvError`s whose `code` comes from an `as const` table, so callers
 * branch on `err.code`, never on message text, and the code survives structured clone and the
 * wire (`toWire`/`fromWire`). Codes follow TiKV's `error_code` naming where one exists.
 *
 * Invariant violations are not errors to handle: `invariant()` throws `InvariantViolation`, which
 * fails the peer or process fast (like etcd's `Panicf`). Request paths never catch it.
 */

/** Codes shared by every package. Packages add their own tables; a code is a stable string. */
export const CommonCodes = {
  INVALID_ARGUMENT: 'KV:Common:InvalidArgument',
  INVALID_CONFIG: 'KV:Common:InvalidConfig',
  NOT_FOUND: 'KV:Common:NotFound',
  TIMEOUT: 'KV:Common:Timeout',
  CANCELLED: 'KV:Common:Cancelled',
  UNAVAILABLE: 'KV:Common:Unavailable',
  INTERNAL: 'KV:Common:Internal',
  CORRUPTION: 'KV:Common:Corruption',
  IO: 'KV:Common:Io',
  UNIMPLEMENTED: 'KV:Common:Unimplemented',
} as const;

export type CommonCode = (typeof CommonCodes)[keyof typeof CommonCodes];

/** The plain, cloneable form of an error: what crosses threads and process boundaries. */
export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

/** Base class of every expected mrkv error. `details` is a plain, cloneable payload. */
export class MrkvError<C extends string = string> extends Error {
  readonly code: C;
  readonly details: Record<string, unknown>;

  constructor(code: C, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MrkvError';
    this.code = code;
    this.details = options?.details ?? {};
  }

  /** The cloneable form (class identity does not survive structured clone or protobuf). */
  toWire(): WireError {
    return { code: this.code, message: this.message, details: this.details };
  }

  static fromWire(w: WireError): MrkvError {
    return new MrkvError(w.code, w.message, { details: w.details ?? {} });
  }
}

/** True if `e` carries an mrkv error code (works across realms, unlike `instanceof`). */
export function isMrkvError(e: unknown): e is MrkvError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && 'details' in e;
}

/** Thrown by `invariant`: a bug, not an outcome. Fail fast; never catch on request paths. */
export class InvariantViolation extends Error {
  readonly fields: Record<string, unknown>;
  constructor(message: string, fields: Record<string, unknown> = {}) {
    super(`invariant violated: ${message}${Object.keys(fields).length ? ' ' + safeJson(fields) : ''}`);
    this.name = 'InvariantViolation';
    this.fields = fields;
  }
}

/** Asserts an internal invariant. The message should name the numbers and a likely cause. */
export function invariant(cond: unknown, message: string, fields?: Record<string, unknown>): asserts cond {
  if (!cond) throw new InvariantViolation(message, fields);
}

/** Exhaustiveness check for discriminated unions: `default: return assertNever(msg)`. */
export function assertNever(x: never, what = 'value'): never {
  throw new InvariantViolation(`unexpected ${what}`, { value: safeJson(x) });
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  } catch {
    return String(v);
  }
}
