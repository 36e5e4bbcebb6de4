/**
 * Admission control: a bound on the requests the store serves at once, across every connection.
 * Beyond it, requests are answered at once with TiKV's ServerIsBusy region error (clients back off
 * and retry), so a flood of requests costs a counter check each instead of memory and latency for
 * everyone. The gate also tells a graceful shutdown when the last request has finished.
 */
import { ServerIsBusyError } from '@mrkv/proto';

/** Suggested client backoff in a ServerIsBusy answer. */
export const BUSY_BACKOFF_MS = 20;

/** A ServerIsBusy region error for `reason`. */
export function serverIsBusy(reason: string): ServerIsBusyError {
  return new ServerIsBusyError({ reason, backoffMs: BUSY_BACKOFF_MS, estimatedWaitMs: 0, appliedIndex: 0 });
}

export class Admission {
  private active = 0;
  private waiters: Array<() => void> = [];

  /** `max`: requests admitted at once (config `server.max-inflight-requests`). */
  constructor(readonly max: number) {}

  /** Requests admitted and not yet left. */
  get inflight(): number {
    return this.active;
  }

  /** Admits one request, or returns false when the bound is reached. */
  tryEnter(): boolean {
    if (this.active >= this.max) return false;
    this.active++;
    return true;
  }

  /** Releases one admitted request. */
  leave(): void {
    this.active--;
    if (this.active === 0) {
      const ws = this.waiters;
      this.waiters = [];
      for (const w of ws) w();
    }
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
