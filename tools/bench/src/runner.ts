/**
 * One benchmark run: for each target in turn, bring it up, load the keys the workload reads,
 * run the workload on the worker pool while the progress line ticks (and, for `grow` on mrkv,
 * a `SplitWatch` samples PD's region count), merge the workers' histograms, and take the target
 * down. A target that fails is reported as failed; the others
 * still run.
 */
import { noopLogger, type Logger } from '@mrkv/common';
import type { BenchOptions } from './args.js';
import type { TargetKind, TargetSpec } from './drivers/index.js';
import { BenchCodes, describeError } from './errors.js';
import { mergeEncoded, summarize, type LatencySummary } from './histogram.js';
import { LoadPool } from './pool.js';
import { ProgressLine, stderrSink, type ProgressSink } from './progress.js';
import { SplitWatch, summarizeSplits, type SplitSample, type SplitSummary } from './split-watch.js';
import { SLOT_KEY_COUNT, sharedCounters, type LoadResult, type LoadTask, type RunResult, type RunTask } from './tasks.js';
import { openTarget } from './targets.js';
import { OP_KINDS, resolveWorkload, type OpKind, type WorkloadSpec } from './workload.js';

/** Keys per batch and batches in flight per worker while loading. */
const LOAD_BATCH = 100;
const LOAD_INFLIGHT = 4;

/** One operation kind's figures. */
export interface OpSummary {
  readonly count: number;
  readonly errors: number;
  readonly opsPerSec: number;
  readonly latency: LatencySummary;
}

/** A target's figures, or why it has none. */
export type TargetResult =
  | {
      readonly target: TargetKind;
      readonly ok: true;
      readonly where: string;
      readonly workers: number;
      readonly elapsedMs: number;
      /** Successful operations (requests) per second. */
      readonly opsPerSec: number;
      /** Keys written per second (batch puts count each key). */
      readonly keysPerSec: number;
      readonly count: number;
      readonly errors: number;
      /** All successful operations together. */
      readonly latency: LatencySummary;
      readonly byOp: Partial<Record<OpKind, OpSummary>>;
      readonly errorSamples: readonly string[];
      /** Keys loaded before the run, and how long it took. */
      readonly load: { readonly keys: number; readonly ms: number } | undefined;
      /** Regions split during the run (`grow` on mrkv only). */
      readonly splits?: SplitSummary;
    }
  | {
      readonly target: TargetKind;
      readonly ok: false;
      readonly error: { readonly code: string; readonly message: string };
    };

/** Everything a run produced. */
export interface BenchReport {
  readonly options: BenchOptions;
  readonly workload: WorkloadSpec;
  readonly results: readonly TargetResult[];
}

/** Where a run writes as it goes. */
export interface RunIo {
  /** Progress lines (default: stderr). */
  readonly progress?: ProgressSink;
  /** Set-up and tear-down steps. */
  readonly logger?: Logger;
}

/** Runs the workload against every target of `opts`, in order. */
export async function runBench(opts: BenchOptions, io: RunIo = {}): Promise<BenchReport> {
  const workload = resolveWorkload(opts.workload, {
    ...(opts.distribution ? { distribution: opts.distribution } : {}),
    readPercent: opts.readPercent,
    batchSize: opts.batchSize,
    scanLength: opts.scanLength,
  });
  const results: TargetResult[] = [];
  for (const kind of opts.targets) results.push(await runTarget(kind, opts, workload, io));
  return { options: opts, workload, results };
}

/** Runs the workload against one target; failures become a failed result. */
export async function runTarget(kind: TargetKind, opts: BenchOptions, workload: WorkloadSpec, io: RunIo): Promise<TargetResult> {
  const logger = io.logger ?? noopLogger;
  const sink = io.progress ?? stderrSink;
  let session;
  try {
    session = await openTarget(kind, opts, logger);
  } catch (e) {
    return failed(kind, e);
  }
  logger.info({ target: kind }, `${kind}: ${session.where}`);
  const pool = new LoadPool(session.workers);
  try {
    await pool.warm();
    const load = workload.needsLoad ? await loadKeys(pool, session.spec, opts, sink) : undefined;
    const { runs, splitSamples } = await runWorkload(pool, session.spec, workload, opts, sink);
    const result = summarizeRun(kind, session.where, session.workers, runs, load);
    return splitSamples === undefined || !result.ok ? result : { ...result, splits: summarizeSplits(splitSamples) };
  } catch (e) {
    return failed(kind, e);
  } finally {
    await pool.close();
    await session.teardown().catch((e: unknown) => logger.warn({ target: kind, err: e }, `${kind}: tear-down failed: ${describeError(e)}`));
  }
}

function failed(kind: TargetKind, e: unknown): TargetResult {
  const own = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  const code = typeof own === 'string' ? own : BenchCodes.TARGET_FAILED;
  return { target: kind, ok: false, error: { code, message: e instanceof Error ? e.message : String(e) } };
}

/** Splits `[0, n)` into `parts` contiguous ranges. */
export function splitRange(n: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let p = 0; p < parts; p++) out.push([Math.floor((n * p) / parts), Math.floor((n * (p + 1)) / parts)]);
  return out;
}

async function loadKeys(pool: LoadPool, target: TargetSpec, opts: BenchOptions, sink: ProgressSink): Promise<{ keys: number; ms: number }> {
  const workers = pool.threads;
  const counters = sharedCounters(workers);
  const tasks: LoadTask[] = splitRange(opts.keys, workers).map(([from, to], worker) => ({
    type: 'load',
    target,
    worker,
    from,
    to,
    valueSize: opts.valueSize,
    batchSize: LOAD_BATCH,
    inflight: LOAD_INFLIGHT,
    seed: opts.seed * 1000 + worker,
    counters,
  }));
  const progress = new ProgressLine(sink, `${target.kind} load`, counters, workers, { ops: opts.keys, unit: 'keys' });
  const started = performance.now();
  try {
    await pool.runAll<LoadResult>(tasks);
  } finally {
    progress.stop();
  }
  return { keys: opts.keys, ms: performance.now() - started };
}

async function runWorkload(
  pool: LoadPool,
  target: TargetSpec,
  workload: WorkloadSpec,
  opts: BenchOptions,
  sink: ProgressSink,
): Promise<{ runs: RunResult[]; splitSamples: SplitSample[] | undefined }> {
  const workers = pool.threads;
  const counters = sharedCounters(workers);
  Atomics.store(counters, SLOT_KEY_COUNT, opts.keys);
  const tasks: RunTask[] = splitRange(opts.concurrency, workers).map(([from, to], worker) => ({
    type: 'run',
    target,
    workload,
    worker,
    concurrency: to - from,
    valueSize: opts.valueSize,
    durationMs: opts.durationMs,
    totalOps: opts.ops,
    warmupMs: opts.warmupMs,
    seed: opts.seed * 7919 + worker + 1,
    counters,
  }));
  const plan = opts.durationMs !== undefined ? { ms: opts.durationMs, warmupMs: opts.warmupMs, unit: 'ops' } : { ops: opts.ops ?? 0, unit: 'ops' };
  const pd = target.kind === 'mrkv' && workload.name === 'grow' ? target.pdEndpoints[0] : undefined;
  const watch = pd === undefined ? undefined : new SplitWatch(pd.replace(/^https?:\/\//, ''), counters, workers);
  await watch?.start();
  const progress = new ProgressLine(sink, `${target.kind} ${workload.name}`, counters, workers, plan);
  try {
    const runs = await pool.runAll<RunResult>(tasks);
    return { runs, splitSamples: await watch?.stop() };
  } finally {
    progress.stop();
    await watch?.stop();
  }
}

/** Merges the workers' results into the target's figures. */
export function summarizeRun(kind: TargetKind, where: string, workers: number, runs: readonly RunResult[], load: { keys: number; ms: number } | undefined): TargetResult {
  const elapsedMs = Math.max(1, ...runs.map((r) => r.elapsedMs));
  const perSec = (n: number) => (n * 1000) / elapsedMs;
  const byOp: Partial<Record<OpKind, OpSummary>> = {};
  const all: string[] = [];
  let count = 0;
  let errors = 0;
  for (const kind of OP_KINDS) {
    const parts = runs.map((r) => r.byOp[kind]).filter((p) => p !== undefined);
    if (parts.length === 0) continue;
    const encoded = parts.map((p) => p.histogram);
    all.push(...encoded);
    const h = mergeEncoded(encoded);
    const c = parts.reduce((s, p) => s + p.count, 0);
    const e = parts.reduce((s, p) => s + p.errors, 0);
    byOp[kind] = { count: c, errors: e, opsPerSec: perSec(c), latency: summarize(h) };
    h.destroy();
    count += c;
    errors += e;
  }
  const total = mergeEncoded(all);
  const latency = summarize(total);
  total.destroy();
  const keysWritten = runs.reduce((s, r) => s + r.keysWritten, 0);
  return {
    target: kind,
    ok: true,
    where,
    workers,
    elapsedMs,
    opsPerSec: perSec(count),
    keysPerSec: perSec(keysWritten),
    count,
    errors,
    latency,
    byOp,
    errorSamples: [...new Set(runs.flatMap((r) => r.errorSamples))].slice(0, 10),
    load,
  };
}
