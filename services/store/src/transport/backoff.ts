/**
 * Reconnect backoff: exponential from `baseMs` to `maxMs`, each delay scaled by a random factor
 * in [1 − jitter, 1 + jitter) so stores that lost the same peer do not reconnect in lock step
 * (the shape of grpc-js `BackoffTimeout`). Randomness comes from an injected `Rng`.
 */
import type { Rng } from '@mrkv/common';

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly rng: Rng,
    private readonly jitter = 0.2,
  ) {}

  /** The delay before the next attempt; each call doubles the next one, up to `maxMs`. */
  next(): number {
    const exp = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const factor = 1 - this.jitter + 2 * this.jitter * this.rng.next();
    return Math.max(0, Math.round(exp * factor));
  }

  /** Back to `baseMs` after a success. */
  reset(): void {
    this.attempt = 0;
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }
}
