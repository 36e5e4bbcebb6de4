/**
 * @mrkv/bench: the benchmark harness `mrkv-bench` (`pnpm bench cluster …`, main.ts). The same
 * workload runs against mrkv, etcd and a local RocksDB one after the other, from load-generator
 * worker threads, with HdrHistogram latencies merged across workers. This index is for tests and
 * for tools that run benchmarks programmatically.
 */
export { parseBenchArgs, parseDuration, parseCount, defaultWorkers } from './args.js';
export type { BenchOptions } from './args.js';
export { runBench, runTarget, summarizeRun, splitRange } from './runner.js';
export type { BenchReport, TargetResult, OpSummary, RunIo } from './runner.js';
export { reportJson, reportText, ratio, RATIO_PAIRS, splitsJson, splitsText } from './report.js';
export { SplitWatch, summarizeSplits } from './split-watch.js';
export type { SplitSample, SplitSummary } from './split-watch.js';
export { resolveWorkload, pickOp, WORKLOAD_NAMES, OP_KINDS } from './workload.js';
export type { WorkloadName, WorkloadSpec, WorkloadParams, OpKind } from './workload.js';
export { ZipfianGenerator, keyChooser, zeta, DISTRIBUTIONS, ZIPFIAN_THETA } from './distribution.js';
export type { Distribution, KeyChooser } from './distribution.js';
export { newHistogram, recordMs, encodeHistogram, mergeEncoded, summarize, MAX_LATENCY_US } from './histogram.js';
export type { Histogram, LatencySummary } from './histogram.js';
export { benchKey, benchKeyString, fmix32, ValuePool, KEY_LENGTH, MAX_KEYS } from './keys.js';
export { TARGET_KINDS, openDriver, loadCreateRawClient } from './drivers/index.js';
export type { KvDriver, TargetKind, TargetSpec, CreateRawClient } from './drivers/index.js';
export { startEtcdCluster, etcdAvailable, etcdBinary } from './etcd-cluster.js';
export type { EtcdCluster } from './etcd-cluster.js';
export { ProgressLine, readCounters } from './progress.js';
export type { ProgressSink } from './progress.js';
export { BenchCodes, BenchError, describeError } from './errors.js';
export type { BenchCode } from './errors.js';
