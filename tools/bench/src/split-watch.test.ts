import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from './args.js';
import { reportJson, reportText, splitsJson, splitsText } from './report.js';
import type { BenchReport } from './runner.js';
import { resolveWorkload } from './workload.js';
import { summarizeSplits, type SplitSample } from './split-watch.js';

/** Samples every 250 ms: 1000 ops/s, regions rising at the given sample indexes, slower there. */
function series(n: number, rises: Record<number, { regions: number; rate: number }>): SplitSample[] {
  const out: SplitSample[] = [];
  let regions = 4;
  let done = 0;
  for (let i = 0; i < n; i++) {
    const r = rises[i];
    if (i > 0) done += ((r?.rate ?? 1000) * 250) / 1000;
    if (r !== undefined) regions += r.regions;
    out.push({ atMs: i * 250, regions, done });
  }
  return out;
}

describe('summarizeSplits', () => {
  it('counts every rise of the region count, times the first split and the mean interval, and finds the dip', () => {
    const s = summarizeSplits(series(20, { 4: { regions: 1, rate: 400 }, 12: { regions: 2, rate: 600 } }));
    expect(s).toMatchObject({ regionsStart: 4, regionsEnd: 7, splits: 3, firstSplitMs: 1000, samples: 20 });
    // First split at 1000 ms, last at 3000 ms: 2000 ms over the two splits after the first.
    expect(s.meanSplitIntervalMs).toBe(1000);
    expect(s.baselineOpsPerSec).toBe(1000);
    expect(s.minSplitOpsPerSec).toBe(400);
    expect(s.dipPercent).toBeCloseTo(60);
    // Intervals 3, 4 (rise at 4, rate 400 then 1000) and 11, 12 (600, 1000).
    expect(s.splitOpsPerSec).toBeCloseTo((400 + 1000 + 600 + 1000) / 4);
  });

  it('reports no split figures when the count never rose, and copes with no samples', () => {
    const s = summarizeSplits(series(8, {}));
    expect(s).toMatchObject({ splits: 0, firstSplitMs: undefined, meanSplitIntervalMs: undefined, splitOpsPerSec: undefined, dipPercent: undefined });
    expect(summarizeSplits([])).toMatchObject({ splits: 0, regionsStart: 0, regionsEnd: 0, baselineOpsPerSec: 0, samples: 0 });
    expect(splitsJson(s)).toMatchObject({ count: 0, first_split_s: null, dip_percent: null });
    expect(splitsText(s)).toMatch(/^splits: 0 \(regions 4 → 4\); first after -/);
  });
});

describe('the grow workload', () => {
  it('inserts only, needs no load, and gives the playground 1 MiB regions unless told otherwise', () => {
    expect(resolveWorkload('grow', { readPercent: 50, batchSize: 16, scanLength: 100 })).toMatchObject({ mix: [['insert', 1]], needsLoad: false });
    expect(parseBenchArgs(['--workload', 'grow'], () => {}).regionMaxSize).toBe(1 << 20);
    expect(parseBenchArgs(['--workload', 'grow', '--region-max-size', '256k'], () => {}).regionMaxSize).toBe(256_000);
    expect(parseBenchArgs([], () => {}).regionMaxSize).toBeUndefined();
    expect(() => parseBenchArgs(['--region-max-size', '10'], () => {})).toThrow(/--region-max-size/);
  });

  it('puts the split figures into the text report and the JSON line', () => {
    const options = parseBenchArgs(['--workload', 'grow', '--target', 'mrkv'], () => {});
    const workload = resolveWorkload('grow', { readPercent: 50, batchSize: 16, scanLength: 100 });
    const latency = { count: 5000, p50Ms: 1, p90Ms: 2, p99Ms: 3, p999Ms: 4, maxMs: 5, meanMs: 1 };
    const splits = summarizeSplits(series(20, { 4: { regions: 1, rate: 400 } }));
    const report: BenchReport = {
      options,
      workload,
      results: [{ target: 'mrkv', ok: true, where: 'x', workers: 1, elapsedMs: 5000, opsPerSec: 1000, keysPerSec: 1000, count: 5000, errors: 0, latency, byOp: {}, errorSamples: [], load: undefined, splits }],
    };
    expect(reportText(report)).toMatch(/splits: 1 \(regions 4 → 5\); first after 1\.0s/);
    const json = reportJson(report) as { params: Record<string, unknown>; targets: { mrkv: { splits: Record<string, unknown> } } };
    expect(json.params['region_max_size']).toBe(1 << 20);
    expect(json.targets.mrkv.splits).toMatchObject({ count: 1, regions_start: 4, regions_end: 5, first_split_s: 1, dip_percent: 60 });
  });
});
