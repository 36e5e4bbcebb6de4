/** Turning the binding's plain `Error`s into typed engine errors, at the one place they arise. */
import { EngineError, EngineErrorCodes, type EngineErrorCode } from '../errors.js';

/**
 * Wraps an error of the RocksDB binding. The binding reports RocksDB's `Status` only as message
 * text ("Corruption: …", "IO error: No space left on device …"), so this is the one place that
 * reads messages to pick a code; everything above branches on the code.
 */
export function rocksError(e: unknown, op: string, path: string, closed: boolean): EngineError {
  if (e instanceof EngineError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  let code: EngineErrorCode = EngineErrorCodes.IO;
  if (closed || /iterator has ended|not open|closed/i.test(msg)) code = EngineErrorCodes.CLOSED;
  else if (/^Corruption/i.test(msg)) code = EngineErrorCodes.CORRUPTION;
  else if (/No space left/i.test(msg)) code = EngineErrorCodes.NO_SPACE;
  return new EngineError(code, `rocksdb ${op} failed in ${path}: ${msg}`, { cause: e, details: { path, op } });
}

export function closedError(path: string): EngineError {
  return new EngineError(EngineErrorCodes.CLOSED, `engine ${path} is closed`, { details: { path } });
}
