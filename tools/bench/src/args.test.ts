import { describe, expect, it } from 'vitest';
import { parseBenchArgs, parseCount, parseDuration } from './args.js';
import { BenchCodes } from './errors.js';

const parse = (...argv: string[]) => parseBenchArgs(argv, () => {});

describe('parseBenchArgs', () => {
  it('defaults: mrkv then etcd, raw-put, 10k keys, 256 B, concurrency 64, 10 s after 1 s warm-up', () => {
    const o = parse();
    expect(o).toMatchObject({ targets: ['mrkv', 'etcd'], workload: 'raw-put', keys: 10_000, valueSize: 256, concurrency: 64, durationMs: 10_000, warmupMs: 1000, ops: undefined, rocksdbSync: true, clientModule: '@mrkv/client' });
    expect(o.workers).toBeGreaterThanOrEqual(1);
  });

  it('takes the issue-8 command line', () => {
    const o = parse('--target', 'mrkv', '--pd', '127.0.0.1:2379', '--target', 'etcd', '--etcd', '127.0.0.1:1,127.0.0.1:2', '--workload', 'raw-put', '--value-size', '256', '--concurrency', '64', '--duration', '20s');
    expect(o).toMatchObject({ targets: ['mrkv', 'etcd'], pd: ['127.0.0.1:2379'], etcd: ['127.0.0.1:1', '127.0.0.1:2'], durationMs: 20_000 });
  });

  it('keeps target order, drops repeats, caps workers at the concurrency, and takes --ops instead of a duration', () => {
    const o = parse('--target', 'rocksdb', '--target', 'etcd', '--target', 'rocksdb', '--ops', '10k', '--concurrency', '2', '--workers', '8', '--no-rocksdb-sync');
    expect(o).toMatchObject({ targets: ['rocksdb', 'etcd'], ops: 10_000, durationMs: undefined, warmupMs: 0, workers: 2, rocksdbSync: false });
  });

  it.each([
    [['--target', 'redis'], /--target.*expected one of mrkv, etcd, rocksdb, got "redis"/],
    [['--workload', 'ycsb-z'], /Allowed choices/],
    [['--duration', '10x'], /--duration.*duration like/],
    [['--duration', '1s', '--ops', '5'], /--duration or --ops/],
    [['--keys', '0'], /--keys/],
    [['--concurrency', '-1'], /--concurrency|unknown option/],
    [['--pd', 'nohost'], /host:port/],
    [['--read-percent', '101'], /--read-percent/],
    [['stray'], /too many arguments/],
    [['--nope'], /unknown option/],
  ])('rejects %j with INVALID_ARGUMENT', (argv, message) => {
    let err: unknown;
    try {
      parse(...argv);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: BenchCodes.INVALID_ARGUMENT });
    expect((err as Error).message).toMatch(message);
  });

  it('prints help without failing', () => {
    const out: string[] = [];
    expect(parseBenchArgs(['--help'], (s) => out.push(s)).helpShown).toBe(true);
    expect(out.join('')).toMatch(/--workload <name>/);
  });
});

describe('parseDuration / parseCount', () => {
  it('reads units', () => {
    expect([parseDuration('250ms'), parseDuration('2s'), parseDuration('1.5m'), parseDuration('3')]).toEqual([250, 2000, 90_000, 3000]);
    expect([parseCount(0, 1e9)('12'), parseCount(0, 1e9)('10k'), parseCount(0, 1e9)('2M')]).toEqual([12, 10_000, 2_000_000]);
    expect(() => parseCount(0, 10)('1.5')).toThrow(/integer/);
  });
});
