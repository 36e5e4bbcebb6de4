import { describe, expect, it } from 'vitest';
import { SeededRng } from '@mrkv/common';
import { encodeHistogram, mergeEncoded, newHistogram, recordMs, summarize } from './histogram.js';

describe('histogram merge', () => {
  it('adding encoded per-worker histograms equals recording everything in one', () => {
    const rng = new SeededRng(9);
    const parts = [newHistogram(), newHistogram(), newHistogram()];
    const all = newHistogram();
    for (let i = 0; i < 30_000; i++) {
      // Three workers with different latency profiles.
      const w = i % 3;
      const ms = w === 0 ? rng.next() : w === 1 ? 5 + 10 * rng.next() : 100 * rng.next() * rng.next();
      recordMs(parts[w]!, ms);
      recordMs(all, ms);
    }
    const merged = summarize(mergeEncoded(parts.map(encodeHistogram)));
    const direct = summarize(all);
    expect(merged).toEqual(direct);
    expect(merged.count).toBe(30_000);
    // Percentiles of the merge are not any single worker's.
    expect(merged.p50Ms).toBeGreaterThan(summarize(parts[0]!).p99Ms);
    expect(merged.p99Ms).toBeGreaterThan(summarize(parts[1]!).maxMs);
  });

  it('summarizes in milliseconds with 3 significant digits, and an empty histogram as zeros', () => {
    const h = newHistogram();
    for (let i = 1; i <= 100; i++) recordMs(h, i);
    const s = summarize(h);
    expect(s.p50Ms).toBeCloseTo(50, 0);
    expect(s.p99Ms).toBeCloseTo(99, 0);
    expect(s.maxMs).toBeCloseTo(100, 0);
    expect(summarize(newHistogram())).toEqual({ count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 });
  });

  it('clamps sub-microsecond and huge latencies instead of throwing', () => {
    const h = newHistogram();
    recordMs(h, 0);
    recordMs(h, 1e9);
    expect(h.totalCount).toBe(2);
  });
});
