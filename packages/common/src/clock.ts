/**
 * Time comes in through an interface so the whole cluster can run on virtual time in the
 * simulator. `nowMs()` is monotonic (never goes backwards; unaffected by wall-clock jumps).
 */

export interface Clock {
  /** Monotonic milliseconds since an arbitrary origin. Used for leases, timeouts and deadlines. */
  nowMs(): number;
  /** Wall-clock milliseconds since the Unix epoch. Only for TSO, logs and display, never for safety. */
  wallMs(): number;
}

/**
 * The real clock. `nowMs` reads CLOCK_MONOTONIC through `process.hrtime()`, which — unlike
 * `performance.now()`, whose origin differs per worker thread — is the same clock on every thread
 * of the process, so a lease expiry written by one thread can be checked by another.
 */
export const systemClock: Clock = {
  nowMs: () => {
    const t = process.hrtime();
    return t[0] * 1e3 + t[1] / 1e6;
  },
  wallMs: () => Date.now(),
};

/** A clock moved by hand, for tests and the deterministic simulator. */
export class ManualClock implements Clock {
  private mono: number;
  private wall: number;
  constructor(startMs = 0, wallStartMs = 1_700_000_000_000) {
    this.mono = startMs;
    this.wall = wallStartMs;
  }
  nowMs(): number {
    return this.mono;
  }
  wallMs(): number {
    return this.wall;
  }
  /** Moves both clocks forward by `ms` (must be ≥ 0). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    this.mono += ms;
    this.wall += ms;
  }
  /** Moves the wall clock only (a clock jump); the monotonic clock is unaffected. */
  jumpWall(ms: number): void {
    this.wall += ms;
  }
}
