/**
 * Error codes of @mrkv/proto's own failures: bytes that do not decode, objects that do not encode,
 * and wire values that do not fit mrkv's domain types. Region errors (errorpb) have their own table
 * in region-errors.ts, and request errors of the RawKV API theirs in request-errors.ts.
 */
import { MrkvError } from '@mrkv/common';

export const ProtoCodes = {
  /** Bytes that are not a valid encoding of the expected message (truncated, bad wire type, ...). */
  MALFORMED_MESSAGE: 'KV:Proto:Malformed',
  /** A JavaScript object that cannot be encoded as the named message (wrong field types). */
  INVALID_MESSAGE: 'KV:Proto:InvalidMessage',
  /** A message type name that the loaded contract does not define. */
  UNKNOWN_TYPE: 'KV:Proto:UnknownType',
  /** A uint64/int64 on the wire that does not fit a JS safe integer where mrkv needs one (ids, indexes). */
  INTEGER_OUT_OF_RANGE: 'KV:Proto:IntegerOutOfRange',
  /** An enum value on the wire that this contract does not know. */
  UNKNOWN_ENUM_VALUE: 'KV:Proto:UnknownEnumValue',
  /** A required part of a message is missing (for example a Region without an epoch). */
  MISSING_FIELD: 'KV:Proto:MissingField',
} as const;

export type ProtoCode = (typeof ProtoCodes)[keyof typeof ProtoCodes];

/** A failure to encode, decode or convert a wire message. Never a region error. */
export class ProtoError extends MrkvError<ProtoCode> {
  constructor(code: ProtoCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
    this.name = 'ProtoError';
  }
}
