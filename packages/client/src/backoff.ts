/**
 * Backoff policy: how long to wait before retrying, per kind of failure, as client-go's
 * `retry/config.go` does. Each kind doubles from `baseMs` up to `capMs` with its own attempt
 * counter, and adds jitter so that many clients retrying the same region do not move in step:
 *
 * | kind | base / cap (ms) | jitter | used for |
 * | --- | --- | --- | --- |
 * | tikvRpc | 100 / 2000 | equal | a store that cannot be reached (gRPC failure) |
 * | pdRpc | 500 / 3000 | equal | a PD that cannot be reached or names no leader |
 * | regionMiss | 2 / 500 | none | EpochNotMatch with a stale answer, a region PD does not know yet |
 * | regionScheduling | 2 / 500 | none | NotLeader without a hint, RegionNotInitialized, merges |
 * | serverBusy | 2000 / 10000 | equal | ServerIsBusy (or the store's `backoff_ms` hint when larger) |
 * | staleCmd | 2 / 1000 | none | StaleCommand |
 *
 * The policy is pure (no timers): `CallScope.backoff` sleeps what it computes.
 */
import type { Rng } from '@mrkv/common';

/** The failure kinds that get their own backoff curve. */
export type BackoffKind = 'tikvRpc' | 'pdRpc' | 'regionMiss' | 'regionScheduling' | 'serverBusy' | 'staleCmd';

/** Jitter styles of client-go: none, equal (half fixed, half random), full (all random). */
export type Jitter = 'none' | 'equal' | 'full';

/** One backoff curve. */
export interface BackoffCurve {
  readonly baseMs: number;
  readonly capMs: number;
  readonly jitter: Jitter;
}

/** client-go's curves (module comment). */
export const DEFAULT_BACKOFF: Readonly<Record<BackoffKind, BackoffCurve>> = {
  tikvRpc: { baseMs: 100, capMs: 2000, jitter: 'equal' },
  pdRpc: { baseMs: 500, capMs: 3000, jitter: 'equal' },
  regionMiss: { baseMs: 2, capMs: 500, jitter: 'none' },
  regionScheduling: { baseMs: 2, capMs: 500, jitter: 'none' },
  serverBusy: { baseMs: 2000, capMs: 10000, jitter: 'equal' },
  staleCmd: { baseMs: 2, capMs: 1000, jitter: 'none' },
};

/** Curves with some kinds overridden (`overrides` wins per kind). */
export function backoffCurves(overrides: Partial<Record<BackoffKind, Partial<BackoffCurve>>> = {}): Record<BackoffKind, BackoffCurve> {
  const out = { ...DEFAULT_BACKOFF };
  for (const kind of Object.keys(overrides) as BackoffKind[]) out[kind] = { ...DEFAULT_BACKOFF[kind], ...overrides[kind] };
  return out;
}

/**
 * The delay of the `attempt`-th retry (0-based) on `curve`: `min(cap, base·2^attempt)` with jitter
 * applied. `hintMs` (a store's ServerIsBusy `backoff_ms`) raises the delay, capped at the curve's cap.
 */
export function backoffDelay(curve: BackoffCurve, attempt: number, rng: Rng, hintMs = 0): number {
  const exp = Math.min(curve.capMs, curve.baseMs * 2 ** Math.min(attempt, 30));
  const raw = Math.max(exp, Math.min(hintMs, curve.capMs));
  switch (curve.jitter) {
    case 'none':
      return raw;
    case 'equal':
      return raw / 2 + rng.next() * (raw / 2);
    case 'full':
      return rng.next() * raw;
  }
}
