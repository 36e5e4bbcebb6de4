/**
 * Smoke runs of the benchmark harness, end to end through its worker threads: short workloads
 * against a local RocksDB and an in-process fake mrkv (the real store gRPC server around an
 * in-memory RawKV, a fake PD) through the real `@mrkv/client`. etcd: bench-etcd.test.ts; the command: bench-cli.test.ts. No performance
 * assertions: only that operations ran, data landed and the figures are consistent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchCodes, benchKey, openDriver, parseBenchArgs, reportJson, runBench, type ProgressSink, type TargetResult } from '@mrkv/bench';
import { startFakeMrkv, type FakeMrkv } from './fake-mrkv.js';


function sink(lines: string[]): ProgressSink {
  return { tty: false, write: (s) => lines.push(s) };
}

function ok(r: TargetResult | undefined): Extract<TargetResult, { ok: true }> {
  if (!r) throw new Error('no result');
  if (!r.ok) throw new Error(`target failed: [${r.error.code}] ${r.error.message}`);
  return r;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mrkv-bench-test-'));
  dirs.push(d);
  return d;
}

describe('rocksdb target', () => {
  it('loads the keys, runs a read/update mix for a fixed op count, and reports consistent figures', async () => {
    const dir = tempDir();
    const opts = parseBenchArgs(['--target', 'rocksdb', '--rocksdb-dir', dir, '--workload', 'ycsb-a', '--keys', '500', '--ops', '3000', '--concurrency', '8', '--value-size', '100']);
    const progress: string[] = [];
    const report = await runBench(opts, { progress: sink(progress) });
    const r = ok(report.results[0]);
    expect(r.count + r.errors).toBe(3000);
    expect(r.errors).toBe(0);
    expect(r.byOp.read!.count + r.byOp.update!.count).toBe(3000);
    expect(r.byOp.read!.count).toBeGreaterThan(1000);
    expect(r.load?.keys).toBe(500);
    expect(r.latency.count).toBe(3000);
    expect(r.latency.p50Ms).toBeLessThanOrEqual(r.latency.p99Ms);
    expect(r.latency.p99Ms).toBeLessThanOrEqual(r.latency.maxMs);
    const json = reportJson(report) as { targets: Record<string, { ops_per_sec: number; p50_ms: number; p99_ms: number }> };
    expect(json.targets.rocksdb!.ops_per_sec).toBeGreaterThan(0);

    // Every loaded key is there, with a value of the asked size.
    const db = await openDriver({ kind: 'rocksdb', path: dir, sync: false });
    try {
      for (let i = 0; i < 500; i++) expect((await db.get(benchKey(i)))?.length).toBe(100);
    } finally {
      await db.close();
    }
  });

  it('runs a time-bound batch-put workload and counts keys per batch', async () => {
    const opts = parseBenchArgs(['--target', 'rocksdb', '--workload', 'raw-batch-put', '--batch-size', '10', '--duration', '1s', '--warmup', '0', '--concurrency', '4']);
    const progress: string[] = [];
    const r = ok((await runBench(opts, { progress: sink(progress) })).results[0]);
    expect(r.count).toBeGreaterThan(0);
    expect(r.keysPerSec).toBeCloseTo(r.opsPerSec * 10, 5);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(1000);
    expect(progress.some((l) => l.startsWith('[rocksdb raw-batch-put]'))).toBe(true);
  });
});

describe('failures inside workers', () => {
  it('keep their code across the thread boundary: a database that cannot be opened is TargetUnavailable', async () => {
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    const opts = parseBenchArgs(['--target', 'rocksdb', '--rocksdb-dir', join(file, 'db'), '--ops', '10']);
    const [r] = (await runBench(opts, { progress: sink([]) })).results;
    expect(r).toMatchObject({ target: 'rocksdb', ok: false, error: { code: BenchCodes.TARGET_UNAVAILABLE } });
    expect(r!.ok ? '' : r!.error.message).toMatch(/^rocksdb: cannot open a client: /);
  });
});

describe('mrkv target (in-process fake cluster, @mrkv/client)', () => {
  let fake: FakeMrkv;
  beforeAll(async () => {
    fake = await startFakeMrkv();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('loads through the client and runs YCSB-B from two worker threads', async () => {
    const opts = parseBenchArgs(['--target', 'mrkv', '--pd', fake.pdAddress, '--workload', 'ycsb-b', '--keys', '300', '--ops', '1500', '--workers', '2', '--concurrency', '8']);
    const r = ok((await runBench(opts, { progress: sink([]) })).results[0]);
    expect(fake.kv.size).toBe(300);
    expect(r.workers).toBe(2);
    expect(r.count).toBe(1500);
    expect(r.errors).toBe(0);
    expect(r.byOp.read!.count).toBeGreaterThan(r.byOp.update!.count);
  });

  it('reports a client module without createRawClient as an unavailable target, and still runs the others', async () => {
    const opts = parseBenchArgs(['--target', 'mrkv', '--target', 'rocksdb', '--pd', fake.pdAddress, '--client-module', '@mrkv/common', '--ops', '100']);
    const report = await runBench(opts, { progress: sink([]) });
    const [mrkv, rocks] = report.results;
    expect(mrkv).toMatchObject({ target: 'mrkv', ok: false, error: { code: BenchCodes.TARGET_UNAVAILABLE } });
    expect(ok(rocks).count).toBe(100);
    const json = reportJson(report) as { targets: Record<string, unknown>; ratios: Record<string, unknown> };
    expect(json.targets.mrkv).toMatchObject({ error: { code: BenchCodes.TARGET_UNAVAILABLE } });
    expect(json.ratios).toEqual({});
  });
});
