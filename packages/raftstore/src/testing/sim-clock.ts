/**
 * A store's own clock on the simulator's virtual time, running at an adjustable rate: the
 * "clock rate skew" fault. Real machines' monotonic clocks tick at slightly different speeds
 * (NTP slews them by up to 500 ppm; a VM paused and resumed looks like a burst of speed), and the
 * leader lease is only safe while that difference stays inside the drift margin the config
 * leaves (`maxLeaderLeaseMs` < election timeout, lease.ts).
 *
 * Both what a store reads (`nowMs`, used for leases and deadlines) and how fast its timers fire
 * (ticks, hence election timeouts, measured in the store's own time) follow the rate, as they
 * would on a real machine whose oscillator runs fast or slow.
 */
import type { Clock } from '@mrkv/common';
import type { Timers } from '../store/raftstore.js';

/** The part of the deterministic scheduler a skewed clock needs. */
export interface VirtualTime {
  nowMs(): number;
  setTimer(delayMs: number, fn: () => void): { cancel(): void };
}

export class SkewedClock implements Clock {
  private anchorVirtual: number;
  private anchorLocal: number;
  private r = 1;

  /** @param origin virtual time this clock's reading starts from (a fresh machine's uptime origin). */
  constructor(private readonly time: VirtualTime, origin = 0) {
    this.anchorVirtual = time.nowMs();
    this.anchorLocal = origin;
  }

  /** Local ms per virtual ms (1: exact; 1.1: runs 10% fast). */
  get rate(): number {
    return this.r;
  }

  /** Changes the rate from now on; readings stay continuous and monotonic. */
  setRate(rate: number): void {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`clock rate must be a positive finite number, got ${rate}`);
    this.anchorLocal = this.nowMs();
    this.anchorVirtual = this.time.nowMs();
    this.r = rate;
  }

  nowMs(): number {
    return this.anchorLocal + (this.time.nowMs() - this.anchorVirtual) * this.r;
  }

  wallMs(): number {
    return 1_700_000_000_000 + this.nowMs();
  }

  /** Virtual delay after which `localMs` of this clock will have passed at the current rate. */
  private virtualDelay(localMs: number): number {
    return Math.max(0, localMs / this.r);
  }

  /** Timers measured in this clock's time (each re-arm of a repeating timer uses the current rate). */
  timers(): Timers {
    return {
      every: (ms, fn) => {
        let cancelled = false;
        let t: { cancel(): void } | undefined;
        const arm = (): void => {
          t = this.time.setTimer(this.virtualDelay(ms), () => {
            if (cancelled) return;
            arm();
            fn();
          });
        };
        arm();
        return {
          cancel: () => {
            cancelled = true;
            t?.cancel();
          },
        };
      },
      after: (ms, fn) => this.time.setTimer(this.virtualDelay(ms), fn),
    };
  }
}
