/**
 * Errors of mrkv-ctl and its exit codes:
 * | exit | when |
 * | --- | --- |
 * | 0 | success |
 * | 1 | PD refused the request (not found, invalid value, operator refused, ...) |
 * | 2 | bad usage (unknown command, bad flag, malformed key or number) |
 * | 3 | PD unreachable or timed out |
 */
import { MrkvError } from '@mrkv/common';

export const CtlErrorCodes = {
  USAGE: 'CTL:Usage',
  BAD_KEY: 'CTL:BadKey',
  UNREACHABLE: 'CTL:Unreachable',
  /** PD answered with an error; `details.pdCode` holds PD's code. */
  PD: 'CTL:Pd',
} as const;

export type CtlErrorCode = (typeof CtlErrorCodes)[keyof typeof CtlErrorCodes];

export class CtlError extends MrkvError<CtlErrorCode> {
  constructor(code: CtlErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
    this.name = 'CtlError';
  }

  /** The process exit code for this error. */
  get exitCode(): number {
    switch (this.code) {
      case CtlErrorCodes.PD:
        return 1;
      case CtlErrorCodes.UNREACHABLE:
        return 3;
      default:
        return 2;
    }
  }
}
