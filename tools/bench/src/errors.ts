/**
 * Errors of the benchmark harness. Every failure the user can cause or meet (a bad flag, a target
 * that cannot be reached or started, a load generator that died) is a `BenchError` with a stable
 * code from `BenchCodes`, so `main.ts` can print one clear line and pick the exit code.
 */
import { MrkvError, isMrkvError } from '@mrkv/common';

/** Stable codes of the benchmark harness. */
export const BenchCodes = {
  /** A flag or option is missing, malformed or out of range. Exit code 2. */
  INVALID_ARGUMENT: 'KV:Bench:InvalidArgument',
  /** A target cannot be used here (binary absent, client not built, endpoint unreachable). */
  TARGET_UNAVAILABLE: 'KV:Bench:TargetUnavailable',
  /** A target started but failed while setting up or loading data. */
  TARGET_FAILED: 'KV:Bench:TargetFailed',
  /** A load-generator worker thread failed (not an operation error: those are counted). */
  WORKER_FAILED: 'KV:Bench:WorkerFailed',
} as const;

/** One of {@link BenchCodes}. */
export type BenchCode = (typeof BenchCodes)[keyof typeof BenchCodes];

/** An expected failure of the harness, with a stable `code`. */
export class BenchError extends MrkvError<BenchCode> {
  constructor(code: BenchCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
    this.name = 'BenchError';
  }
}

/** `[code] message` of an error (code when it has one), for samples and messages. */
export function describeError(e: unknown): string {
  if (isMrkvError(e)) return `[${e.code}] ${e.message}`;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return code !== undefined ? `[${String(code)}] ${e.message}` : e.message;
  }
  return String(e);
}
