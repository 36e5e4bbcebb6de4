import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from './args.js';
import { reportJson, reportText } from './report.js';
import type { BenchReport, TargetResult } from './runner.js';
import { resolveWorkload } from './workload.js';

const lat = (p50: number, p99: number) => ({ count: 1, meanMs: p50, p50Ms: p50, p90Ms: p99, p99Ms: p99, p999Ms: p99, maxMs: p99 });
const result = (target: 'mrkv' | 'etcd' | 'rocksdb', opsPerSec: number, p50: number, p99: number): TargetResult => ({
  target,
  ok: true,
  where: 'test',
  workers: 1,
  elapsedMs: 1000,
  opsPerSec,
  keysPerSec: opsPerSec,
  count: opsPerSec,
  errors: 0,
  latency: lat(p50, p99),
  byOp: { update: { count: opsPerSec, errors: 0, opsPerSec, latency: lat(p50, p99) } },
  errorSamples: [],
  load: undefined,
});

function report(results: TargetResult[]): BenchReport {
  const options = parseBenchArgs(['--target', 'mrkv', '--target', 'etcd', '--target', 'rocksdb'], () => {});
  return { options, workload: resolveWorkload('raw-put', { readPercent: 50, batchSize: 1, scanLength: 1 }), results };
}

describe('report', () => {
  it('JSON has per-target ops_per_sec, p50_ms, p99_ms and mrkv/etcd ratios', () => {
    const j = reportJson(report([result('mrkv', 8000, 4, 20), result('etcd', 4000, 8, 40), result('rocksdb', 16000, 2, 10)])) as {
      targets: Record<string, { ops_per_sec: number; p50_ms: number; p99_ms: number }>;
      ratios: Record<string, { ops_per_sec: number; p50_ms: number; p99_ms: number }>;
      params: Record<string, unknown>;
    };
    expect(j.targets.mrkv).toMatchObject({ ops_per_sec: 8000, p50_ms: 4, p99_ms: 20 });
    expect(j.ratios['mrkv/etcd']).toEqual({ ops_per_sec: 2, p50_ms: 0.5, p99_ms: 0.5 });
    expect(j.ratios['mrkv/rocksdb']).toEqual({ ops_per_sec: 0.5, p50_ms: 2, p99_ms: 2 });
    expect(j.ratios['etcd/rocksdb']).toBeDefined();
    expect(j.params).toMatchObject({ workload: 'raw-put', value_size: 256, concurrency: 64, duration_s: 10 });
  });

  it('a failed target is an error entry, excluded from ratios, and a FAILED row in the table', () => {
    const failed: TargetResult = { target: 'mrkv', ok: false, error: { code: 'KV:Bench:TargetUnavailable', message: 'no client\nmore detail' } };
    const r = report([failed, result('etcd', 4000, 8, 40)]);
    const j = reportJson(r) as { targets: Record<string, unknown>; ratios: Record<string, unknown> };
    expect(j.targets.mrkv).toEqual({ error: failed.error });
    expect(j.ratios).toEqual({});
    const text = reportText(r);
    expect(text).toMatch(/│ mrkv\s+│ FAILED/);
    expect(text).toContain('mrkv FAILED [KV:Bench:TargetUnavailable] no client\nmore detail');
    expect(text).toMatch(/│ etcd\s+│ all\s+│ 4,000/);
  });
});
