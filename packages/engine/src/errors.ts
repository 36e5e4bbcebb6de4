/**
 * Error codes of the storage engines. Codes follow TiKV's `KV:Engine:` names where TiKV has one
 * (`Io`, `EntriesCompacted`, `EntriesUnavailable`), so operators can grep both systems.
 *
 * Every failure an engine can report on bad input or a bad disk is an `EngineError` with one of
 * these codes; a bug inside the engine is an `InvariantViolation` instead (never caught).
 */
import { MrkvError } from '@mrkv/common';

export const EngineErrorCodes = {
  /** A caller broke the API contract (empty key, inverted range, non-contiguous entries, …). */
  INVALID_ARGUMENT: 'KV:Engine:InvalidArgument',
  /** The engine was closed (or its memory disk crashed) before or during the call. */
  CLOSED: 'KV:Engine:Closed',
  /** RocksDB (or the file system) reported an I/O failure. `details.path` names the directory. */
  IO: 'KV:Engine:Io',
  /** Injected or real out-of-space failure of a write; nothing of the write was applied. */
  NO_SPACE: 'KV:Engine:NoSpace',
  /**
   * Persisted bytes fail their checksum, or the log has a hole, at or below the durable last
   * index. `details` names `regionId`, `index` and `path`. The engine refuses to open.
   */
  CORRUPTION: 'KV:Engine:Corruption',
  /** Entries below the first index were asked for (they were compacted away). raft: `Compacted`. */
  ENTRIES_COMPACTED: 'KV:Engine:EntriesCompacted',
  /** Entries beyond the last index were asked for. raft: `Unavailable`. */
  ENTRIES_UNAVAILABLE: 'KV:Engine:EntriesUnavailable',
  /** Another process (or another open in this process) holds the engine directory. */
  LOCKED: 'KV:Engine:DataDirLocked',
  /** The directory is not an mrkv engine directory (foreign files, missing format marker). */
  NOT_ENGINE_DIR: 'KV:Engine:NotEngineDir',
  /** The format marker names a format version this build cannot read. */
  UNSUPPORTED_FORMAT: 'KV:Engine:UnsupportedFormat',
  /** The directory holds another kind of engine (a kv directory opened as a raft-log engine). */
  KIND_MISMATCH: 'KV:Engine:KindMismatch',
  /** The directory belongs to another cluster or store than the one opening it. */
  IDENT_MISMATCH: 'KV:Engine:IdentMismatch',
  /** A write was attempted on an engine opened read-only. */
  READ_ONLY: 'KV:Engine:ReadOnly',
} as const;

export type EngineErrorCode = (typeof EngineErrorCodes)[keyof typeof EngineErrorCodes];

/** A failure reported by a storage engine. `details` is a plain, cloneable payload. */
export class EngineError extends MrkvError<EngineErrorCode> {
  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
    this.name = 'EngineError';
  }
}

/** Shorthand for the most common refusal. */
export function invalidArgument(message: string, details?: Record<string, unknown>): EngineError {
  return new EngineError(EngineErrorCodes.INVALID_ARGUMENT, message, details ? { details } : undefined);
}
