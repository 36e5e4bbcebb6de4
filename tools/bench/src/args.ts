/**
 * `mrkv-bench cluster` flags, parsed and validated into `BenchOptions`. Every mistake is a
 * `BenchError` INVALID_ARGUMENT whose message names the flag.
 */
import { availableParallelism } from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DISTRIBUTIONS, type Distribution } from './distribution.js';
import { TARGET_KINDS, type TargetKind } from './drivers/index.js';
import { BenchCodes, BenchError } from './errors.js';
import { MAX_KEYS } from './keys.js';
import { WORKLOAD_NAMES, type WorkloadName } from './workload.js';

/** Everything a run is configured with. */
export interface BenchOptions {
  /** Targets in the order they run (each at most once). */
  readonly targets: readonly TargetKind[];
  /** `--pd`: PD endpoints of a running mrkv cluster (else the harness starts a playground). */
  readonly pd: readonly string[] | undefined;
  /** `--etcd`: endpoints of a running etcd cluster (else the harness starts one). */
  readonly etcd: readonly string[] | undefined;
  /** `--rocksdb-dir`: database directory (else a temporary one, removed after). */
  readonly rocksdbDir: string | undefined;
  readonly rocksdbSync: boolean;
  readonly workload: WorkloadName;
  readonly keys: number;
  readonly valueSize: number;
  /** Overrides the workload's default distribution. */
  readonly distribution: Distribution | undefined;
  readonly readPercent: number;
  readonly batchSize: number;
  readonly scanLength: number;
  /** Operations in flight over all workers. */
  readonly concurrency: number;
  /** Worker threads for network targets (rocksdb always uses one). */
  readonly workers: number;
  /** Measured run time, ms (undefined when `--ops` bounds the run). */
  readonly durationMs: number | undefined;
  /** Total operations (undefined when the run is time-bound). */
  readonly ops: number | undefined;
  readonly warmupMs: number;
  readonly seed: number;
  /** Stores and regions of the playground started for `--target mrkv` without `--pd`. */
  readonly stores: number;
  readonly regions: number;
  /**
   * `--region-max-size`: the stores' `region-max-size` in bytes for the playground the harness
   * starts (split size two thirds of it); default 1 MiB for the `grow` workload, else the stores'
   * own default (undefined).
   */
  readonly regionMaxSize: number | undefined;
  /** Module exporting `createRawClient` (tests). */
  readonly clientModule: string;
  /** Set when the command only printed help. */
  readonly helpShown?: boolean;
}

/** Parses `500ms`, `10s`, `2m` or a plain number of seconds into milliseconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`expected a duration like 500ms, 10s or 2m, got "${v}"`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  return Math.round(ms);
}

/** Parses an integer with optional `k`/`m` suffix (`10k` = 10000) in [min, max]. */
export function parseCount(min: number, max: number) {
  return (v: string): number => {
    const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(v.trim());
    const n = m ? Number(m[1]) * (m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1e6) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}, got "${v}"`);
    return n;
  };
}

/** Accumulates `--target` values; commander's `.choices()` cannot be combined with accumulation. */
function targetList(v: string, prev: TargetKind[] | undefined): TargetKind[] {
  if (!(TARGET_KINDS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${TARGET_KINDS.join(', ')}, got "${v}"`);
  return [...(prev ?? []), v as TargetKind];
}

function list(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), ...v.split(',').map((s) => s.trim()).filter((s) => s !== '')];
}

/** Default worker threads: half the cores, 1–4 (the targets need the rest). */
export function defaultWorkers(concurrency: number): number {
  return Math.max(1, Math.min(concurrency, 4, Math.floor(availableParallelism() / 2)));
}

function command(write: (s: string) => void): Command {
  return new Command('mrkv-bench cluster')
    .description('Run one workload against mrkv, etcd and/or a local RocksDB, one after the other, and print them side by side.')
    .option('--target <kind>', `target to measure: ${TARGET_KINDS.join(', ')} (repeatable, run in order)`, targetList)
    .option('--pd <addrs>', 'PD endpoints of a running mrkv cluster (default: start a playground)', list)
    .option('--etcd <addrs>', 'endpoints of a running etcd cluster (default: start 3 members from /usr/bin/etcd)', list)
    .option('--rocksdb-dir <path>', 'RocksDB directory (default: a temporary one)')
    .option('--no-rocksdb-sync', 'RocksDB writes without fsync')
    .addOption(new Option('--workload <name>', 'workload').choices(WORKLOAD_NAMES).default('raw-put'))
    .option('--keys <n>', 'key count (loaded first when the workload reads)', parseCount(1, MAX_KEYS / 2), 10_000)
    .option('--value-size <bytes>', 'value size', parseCount(0, 8 << 20), 256)
    .addOption(new Option('--distribution <d>', 'key distribution (default: the workload\'s)').choices(DISTRIBUTIONS))
    .option('--read-percent <p>', 'reads in the mixed workload, %', parseCount(0, 100), 50)
    .option('--batch-size <n>', 'keys per batch put', parseCount(1, 10_000), 16)
    .option('--scan-length <n>', 'longest scan (ycsb-e)', parseCount(1, 10_000), 100)
    .option('--concurrency <n>', 'operations in flight, all workers together', parseCount(1, 100_000), 64)
    .option('--workers <n>', 'load-generator threads (default: half the cores, at most 4; rocksdb: 1)', parseCount(1, 256))
    .option('--duration <d>', 'measured time per target (default 10s unless --ops)', parseDuration)
    .option('--ops <n>', 'total operations per target instead of a duration', parseCount(1, 2 ** 31 - 1))
    .option('--warmup <d>', 'unmeasured time before each measured run (time-bound runs)', parseDuration, 1000)
    .option('--seed <n>', 'random seed', parseCount(0, 2 ** 31 - 1), 1)
    .option('--stores <n>', 'stores of the playground started for mrkv without --pd', parseCount(1, 64), 3)
    .option('--regions <k>', 'regions that playground pre-splits into', parseCount(1, 4096), 1)
    .option('--region-max-size <bytes>', 'region-max-size of that playground\'s stores (default: 1m for grow, else the stores\' default)', parseCount(4096, 2 ** 40))
    .option('--client-module <specifier>', 'module exporting createRawClient (default @mrkv/client)', '@mrkv/client')
    .exitOverride()
    .configureOutput({ writeOut: write, writeErr: write });
}

interface RawOpts {
  target?: TargetKind[];
  pd?: string[];
  etcd?: string[];
  rocksdbDir?: string;
  rocksdbSync: boolean;
  workload: WorkloadName;
  keys: number;
  valueSize: number;
  distribution?: Distribution;
  readPercent: number;
  batchSize: number;
  scanLength: number;
  concurrency: number;
  workers?: number;
  duration?: number;
  ops?: number;
  warmup: number;
  seed: number;
  stores: number;
  regions: number;
  regionMaxSize?: number;
  clientModule: string;
}

/** Parses `argv` (the arguments after `cluster`). */
export function parseBenchArgs(argv: readonly string[], write: (s: string) => void = (s) => process.stdout.write(s)): BenchOptions {
  const cmd = command(write);
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError && (e.code === 'commander.helpDisplayed' || e.code === 'commander.version')) {
      return { ...fromRaw({ rocksdbSync: true, workload: 'raw-put', keys: 1, valueSize: 0, readPercent: 0, batchSize: 1, scanLength: 1, concurrency: 1, warmup: 0, seed: 0, stores: 1, regions: 1, clientModule: '' }), helpShown: true };
    }
    throw new BenchError(BenchCodes.INVALID_ARGUMENT, e instanceof Error ? e.message : String(e), { cause: e });
  }
  return fromRaw(cmd.opts<RawOpts>());
}

function fromRaw(o: RawOpts): BenchOptions {
  const bad = (msg: string) => new BenchError(BenchCodes.INVALID_ARGUMENT, msg);
  if (o.duration !== undefined && o.ops !== undefined) throw bad('give --duration or --ops, not both');
  if (o.duration !== undefined && o.duration < 100) throw bad(`--duration must be at least 100ms, got ${o.duration}ms`);
  const targets: TargetKind[] = [...new Set<TargetKind>(o.target ?? ['mrkv', 'etcd'])];
  if (o.pd && o.pd.length === 0) throw bad('--pd needs at least one host:port');
  if (o.etcd && o.etcd.length === 0) throw bad('--etcd needs at least one host:port');
  for (const a of [...(o.pd ?? []), ...(o.etcd ?? [])]) {
    if (!/^(https?:\/\/)?[^\s:/]+:\d{1,5}$/.test(a)) throw bad(`expected host:port, got "${a}"`);
  }
  return {
    targets,
    pd: o.pd,
    etcd: o.etcd,
    rocksdbDir: o.rocksdbDir,
    rocksdbSync: o.rocksdbSync,
    workload: o.workload,
    keys: o.keys,
    valueSize: o.valueSize,
    distribution: o.distribution,
    readPercent: o.readPercent,
    batchSize: o.batchSize,
    scanLength: o.scanLength,
    concurrency: o.concurrency,
    workers: Math.min(o.workers ?? defaultWorkers(o.concurrency), o.concurrency),
    durationMs: o.ops === undefined ? (o.duration ?? 10_000) : undefined,
    ops: o.ops,
    warmupMs: o.ops === undefined ? o.warmup : 0,
    seed: o.seed,
    stores: o.stores,
    regions: o.regions,
    regionMaxSize: o.regionMaxSize ?? (o.workload === 'grow' ? 1 << 20 : undefined),
    clientModule: o.clientModule,
  };
}
