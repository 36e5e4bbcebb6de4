/** Error codes of the `mrkv-pd` process itself (PD logic errors are @mrkv/pd's PdError). */
import { MrkvError } from '@mrkv/common';

export const PdServerCodes = {
  /** A listen address could not be bound (in use, bad host). */
  BIND_FAILED: 'PD:server:ErrBindFailed',
  /** The data directory cannot be used (locked by another PD, unreadable). */
  DATA_DIR: 'PD:server:ErrDataDir',
} as const;

export type PdServerCode = (typeof PdServerCodes)[keyof typeof PdServerCodes];

export class PdServerError extends MrkvError<PdServerCode> {
  constructor(code: PdServerCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
    this.name = 'PdServerError';
  }
}
