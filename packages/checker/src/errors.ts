/**
 * Error codes of @mrkv/checker (STYLE.md §5). Bad histories and bad arguments are expected
 * outcomes: they surface as `MrkvError`s carrying one of these codes, never as crashes.
 */
import { MrkvError } from '@mrkv/common';

export const CheckerCodes = {
  /** A history file line could not be parsed; `details` names the line (1-based) and the file. */
  HISTORY_PARSE: 'KV:Checker:HistoryParse',
  /** An in-memory history is malformed (return before call, unknown operation id, NaN time…). */
  INVALID_HISTORY: 'KV:Checker:InvalidHistory',
  /** A caller misused an API (recording an outcome for an operation that is not in flight…). */
  INVALID_ARGUMENT: 'KV:Checker:InvalidArgument',
  /** The history format is unknown or could not be detected. */
  UNKNOWN_FORMAT: 'KV:Checker:UnknownFormat',
} as const;

export type CheckerCode = (typeof CheckerCodes)[keyof typeof CheckerCodes];

/** Builds the error for a malformed history line: the message names the line, as a reader wants. */
export function parseError(line: number, message: string, source?: string, cause?: unknown): MrkvError<CheckerCode> {
  const where = source === undefined ? `line ${line}` : `${source}:${line}`;
  return new MrkvError(CheckerCodes.HISTORY_PARSE, `${where}: ${message}`, {
    details: { line, ...(source === undefined ? {} : { source }) },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Builds the error for a malformed in-memory history. */
export function invalidHistory(message: string, details: Record<string, unknown> = {}): MrkvError<CheckerCode> {
  return new MrkvError(CheckerCodes.INVALID_HISTORY, message, { details });
}
