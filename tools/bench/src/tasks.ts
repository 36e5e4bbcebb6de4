/**
 * The messages between the harness and its load-generator workers: the tasks (plain, cloneable
 * objects) and what a worker returns, plus the layout of the shared counter block both sides read.
 */
import type { WireError } from '@mrkv/common';
import type { TargetSpec } from './drivers/index.js';
import type { OpKind, WorkloadSpec } from './workload.js';

/** Index in the shared `Int32Array`: operations handed out so far (`--ops` mode). */
export const SLOT_ISSUED = 0;
/** Index in the shared `Int32Array`: the key count; inserts take the next index with `Atomics.add`. */
export const SLOT_KEY_COUNT = 1;
/** First per-worker slot pair: completed operations at `SLOT_WORKERS + 2w`, failed ones at `+1`. */
export const SLOT_WORKERS = 4;

/** A shared counter block for `workers` workers. */
export function sharedCounters(workers: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * (SLOT_WORKERS + 2 * workers)));
}

/** Writes keys `[from, to)` in batches before a run (the YCSB load phase). */
export interface LoadTask {
  readonly type: 'load';
  readonly target: TargetSpec;
  readonly worker: number;
  readonly from: number;
  readonly to: number;
  readonly valueSize: number;
  readonly batchSize: number;
  /** Batches in flight at once. */
  readonly inflight: number;
  readonly seed: number;
  readonly counters: Int32Array;
}

/** Runs a worker's share of a workload. */
export interface RunTask {
  readonly type: 'run';
  readonly target: TargetSpec;
  readonly workload: WorkloadSpec;
  readonly worker: number;
  /** Operations this worker keeps in flight. */
  readonly concurrency: number;
  readonly valueSize: number;
  /** Measured time, when the run is time-bound. */
  readonly durationMs: number | undefined;
  /** Operations over all workers, when the run is count-bound. */
  readonly totalOps: number | undefined;
  /** Unmeasured time before the measured part (time-bound runs only). */
  readonly warmupMs: number;
  readonly seed: number;
  readonly counters: Int32Array;
}

/** Loads the task module and answers at once: run on every thread before timing anything. */
export interface PingTask {
  readonly type: 'ping';
  readonly worker: number;
}

/** A task for a worker. */
export type WorkerTask = LoadTask | RunTask | PingTask;

/** One operation kind's outcome in one worker. */
export interface OpResult {
  readonly count: number;
  readonly errors: number;
  /** The latency histogram (µs), encoded (histogram.ts). */
  readonly histogram: string;
}

/** What a run task returns. */
export interface RunResult {
  readonly type: 'run';
  readonly worker: number;
  /** Milliseconds from the end of warm-up to the last completion. */
  readonly elapsedMs: number;
  readonly byOp: Partial<Record<OpKind, OpResult>>;
  /** Keys written (puts, inserts, read-modify-writes, and every key of a batch put). */
  readonly keysWritten: number;
  /** A few distinct error messages, `[code] message`. */
  readonly errorSamples: readonly string[];
}

/** What a ping task returns. */
export interface PingResult {
  readonly type: 'ping';
  readonly worker: number;
  readonly threadId: number;
}

/**
 * What any task returns instead of throwing: class identity and own properties such as `code` do
 * not survive the thread boundary, so failures cross as a plain `WireError` (STYLE.md §5).
 */
export interface FailedResult {
  readonly type: 'failed';
  readonly worker: number;
  readonly error: WireError;
}

/** What a load task returns. */
export interface LoadResult {
  readonly type: 'load';
  readonly worker: number;
  readonly keys: number;
  readonly elapsedMs: number;
}
