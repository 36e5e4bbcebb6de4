/**
 * A pino-shaped logger interface (STYLE.md §6). Packages never import pino: they take a `Logger`
 * and default to `noopLogger`. Services build the pino root and pass child loggers down.
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LogFn {
  (obj: Record<string, unknown>, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger that adds `bindings` to every line (e.g. `{ regionId, peerId }`). */
  child(bindings: Record<string, unknown>): Logger;
  /** Guard for hot-path debug logging. */
  isLevelEnabled(level: LogLevel): boolean;
}

const noop: LogFn = () => {};

/** A logger that drops everything. The default for every package. */
export const noopLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => noopLogger,
  isLevelEnabled: () => false,
};

/** Formats a user key for logs: hex, truncated, never the raw bytes (TiKV log_wrappers). */
export function redactKey(key: Uint8Array | undefined, max = 16): string {
  if (!key) return '';
  const hex = Buffer.from(key.buffer, key.byteOffset, Math.min(key.length, max)).toString('hex');
  return key.length > max ? `${hex}…(${key.length}B)` : hex;
}
