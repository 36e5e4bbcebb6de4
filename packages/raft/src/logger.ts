/**
 * The logger raft writes to: pino-shaped, structurally compatible with `@mrkv/common`'s Logger
 * (which has more methods; any such logger can be passed here). Raft INFO lines are short,
 * stable sentences ("1 became leader at term 1") with the numbers also given as fields; they are
 * part of the interaction-test traces, so changing one is a reviewed diff.
 */

/** A pino-style log method: structured fields first, then the message. */
export type RaftLogFn = (obj: Record<string, unknown>, msg?: string) => void;

export interface Logger {
  debug: RaftLogFn;
  info: RaftLogFn;
  warn: RaftLogFn;
  error: RaftLogFn;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): Logger;
  /** Optional guard for debug lines on hot paths; absent means "debug is off". */
  isLevelEnabled?(level: 'debug' | 'info' | 'warn' | 'error'): boolean;
}

const noop: RaftLogFn = () => {};

/** A logger that drops everything: the default. */
export const noopLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => noopLogger,
  isLevelEnabled: () => false,
};

/** True when `logger` wants debug lines (false when it cannot say). */
export function debugEnabled(logger: Logger): boolean {
  return logger.isLevelEnabled !== undefined && logger.isLevelEnabled('debug');
}
