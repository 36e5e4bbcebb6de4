/**
 * Errors of the playground. A child that dies, a cluster that does not come up in time, a port
 * that is taken: each is a `PlaygroundError` with a stable code, and its message carries what the
 * user needs (for a dead child: its exit status and last log lines).
 */
import { MrkvError } from '@mrkv/common';

/** Stable codes of the playground. */
export const PlaygroundCodes = {
  /** A flag is missing, malformed or out of range. Exit code 2. */
  INVALID_ARGUMENT: 'KV:Playground:InvalidArgument',
  /** PD or a store exited (or could not be spawned). `details`: name, code, signal, lastLines. */
  CHILD_EXITED: 'KV:Playground:ChildExited',
  /** The cluster did not become ready (regions with leaders, smoke check) before the deadline. */
  NOT_READY: 'KV:Playground:NotReady',
  /** The smoke check wrote a key and read back something else. */
  SMOKE_FAILED: 'KV:Playground:SmokeFailed',
  /** Start-up was cancelled (a signal arrived). */
  CANCELLED: 'KV:Playground:Cancelled',
  /** A port the layout needs is already taken. */
  PORT_IN_USE: 'KV:Playground:PortInUse',
} as const;

/** One of {@link PlaygroundCodes}. */
export type PlaygroundCode = (typeof PlaygroundCodes)[keyof typeof PlaygroundCodes];

/** An expected failure of the playground, with a stable `code`. */
export class PlaygroundError extends MrkvError<PlaygroundCode> {
  constructor(code: PlaygroundCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
    this.name = 'PlaygroundError';
  }
}
