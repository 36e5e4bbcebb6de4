/** Backoff curves and the call scope's budget, deadline and cancellation. */
import { describe, expect, it } from 'vitest';
import { SeededRng, systemClock } from '@mrkv/common';
import { backoffCurves, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { CallScope, type ScopeEnv } from './call-scope.js';
import { ClientErrorCodes } from './errors.js';

describe('backoffDelay', () => {
  const rng = new SeededRng(1);

  it('doubles from base to cap without jitter', () => {
    const curve = DEFAULT_BACKOFF.regionMiss;
    expect([0, 1, 2, 3, 8, 9, 40].map((a) => backoffDelay(curve, a, rng))).toEqual([2, 4, 8, 16, 500, 500, 500]);
  });

  it('keeps equal jitter within [d/2, d) and full jitter within [0, d)', () => {
    for (let a = 0; a < 10; a++) {
      const d = Math.min(2000, 100 * 2 ** a);
      const e = backoffDelay(DEFAULT_BACKOFF.tikvRpc, a, rng);
      expect(e).toBeGreaterThanOrEqual(d / 2);
      expect(e).toBeLessThanOrEqual(d);
      const f = backoffDelay({ baseMs: 100, capMs: 2000, jitter: 'full' }, a, rng);
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(d);
    }
  });

  it("raises the delay to a store's hint, capped by the curve", () => {
    const c = { baseMs: 2, capMs: 100, jitter: 'none' as const };
    expect(backoffDelay(c, 0, rng, 50)).toBe(50);
    expect(backoffDelay(c, 0, rng, 5000)).toBe(100);
  });

  it('overrides some kinds and keeps the rest', () => {
    const curves = backoffCurves({ serverBusy: { baseMs: 1 } });
    expect(curves.serverBusy).toEqual({ baseMs: 1, capMs: 10000, jitter: 'equal' });
    expect(curves.pdRpc).toEqual(DEFAULT_BACKOFF.pdRpc);
  });
});

describe('CallScope', () => {
  const env = (closing = new AbortController().signal): ScopeEnv => ({
    clock: systemClock,
    rng: new SeededRng(3),
    curves: backoffCurves({ regionMiss: { baseMs: 10, capMs: 10 } }),
    closing,
  });

  it('gives up with the kind’s error once the backoff budget is spent', async () => {
    const scope = new CallScope(env(), { timeoutMs: 5000, maxBackoffMs: 25 });
    const cause = new Error('region gone');
    await scope.backoff('regionMiss', cause);
    await scope.backoff('regionMiss', cause);
    const err = await scope.backoff('regionMiss', cause).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ClientErrorCodes.REGION_UNAVAILABLE, details: { backoffKind: 'regionMiss', sleptMs: 20 } });
    expect((err as Error).cause).toBe(cause);
    scope.dispose();
  });

  it('ends a sleep at the deadline with DEADLINE_EXCEEDED naming the last error', async () => {
    const scope = new CallScope(env(), { timeoutMs: 30, maxBackoffMs: 10_000 });
    scope.lastError = Object.assign(new Error('busy'), { code: 'KV:Raftstore:ServerIsBusy' });
    const err = await scope.sleep(5000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ClientErrorCodes.DEADLINE_EXCEEDED, details: { lastError: 'KV:Raftstore:ServerIsBusy' } });
    expect(scope.remainingMs()).toBe(0);
    scope.dispose();
  });

  it('follows the caller’s signal and the client’s close', () => {
    const ac = new AbortController();
    const closing = new AbortController();
    const a = new CallScope(env(closing.signal), { timeoutMs: 1000, maxBackoffMs: 1000, signal: ac.signal });
    const b = new CallScope(env(closing.signal), { timeoutMs: 1000, maxBackoffMs: 1000 });
    ac.abort('stop');
    expect(() => a.check()).toThrow(expect.objectContaining({ code: ClientErrorCodes.CANCELLED, cause: 'stop' }));
    expect(() => b.check()).not.toThrow();
    closing.abort();
    expect(() => b.check()).toThrow(expect.objectContaining({ code: ClientErrorCodes.CLOSED }));
    a.dispose();
    b.dispose();
  });
});
