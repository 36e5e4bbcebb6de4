/**
 * Workloads: what mix of operations a run issues, over which keys. RawKV has no fields or
 * records, so YCSB's core workloads map onto it as go-ycsb's rawkv binding does: a record is
 * one key, read = get, update and insert = put, scan = a forward range scan from a chosen key,
 * read-modify-write = get then put of the same key (timed together).
 *
 * | workload | mix | keys |
 * | --- | --- | --- |
 * | raw-put | 100% put | uniform (or `--distribution`) over `--keys` |
 * | raw-get | 100% get | over the loaded keys |
 * | raw-batch-put | 100% batch put of `--batch-size` keys | as raw-put |
 * | mixed | `--read-percent` get, the rest put | over the loaded keys |
 * | ycsb-a | 50% read, 50% update | zipfian |
 * | ycsb-b | 95% read, 5% update | zipfian |
 * | ycsb-c | 100% read | zipfian |
 * | ycsb-d | 95% read, 5% insert | latest |
 * | ycsb-e | 95% scan (1–`--scan-length` keys, uniform), 5% insert | zipfian |
 * | ycsb-f | 50% read, 50% read-modify-write | zipfian |
 * | grow | 100% insert of new keys | spread over the key space (hashed), so every region grows |
 *
 * `grow` is for watching regions split: the data only grows, and with a small `region-max-size`
 * (`--region-max-size`, set on the playground the harness starts) the split checker splits the
 * regions again and again; the harness reports the splits and the throughput around them.
 */
import type { Distribution } from './distribution.js';

/** The workloads the harness runs. */
export const WORKLOAD_NAMES = ['raw-put', 'raw-get', 'raw-batch-put', 'mixed', 'ycsb-a', 'ycsb-b', 'ycsb-c', 'ycsb-d', 'ycsb-e', 'ycsb-f', 'grow'] as const;
/** One of {@link WORKLOAD_NAMES}. */
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** Kinds of operation; each gets its own latency histogram. */
export const OP_KINDS = ['read', 'update', 'insert', 'scan', 'rmw', 'batch-put'] as const;
/** One of {@link OP_KINDS}. */
export type OpKind = (typeof OP_KINDS)[number];

/** A workload resolved against the run's options: a plain object that crosses to workers. */
export interface WorkloadSpec {
  readonly name: WorkloadName;
  /** Operation kinds with their weights (summing to 1), in a fixed order. */
  readonly mix: ReadonlyArray<readonly [OpKind, number]>;
  /** How keys of reads, updates and scan starts are chosen. */
  readonly distribution: Distribution;
  /** Whether `keys` keys must exist before the run (reads of missing keys would measure nothing). */
  readonly needsLoad: boolean;
  /** Keys per batch put. */
  readonly batchSize: number;
  /** Longest scan (lengths are uniform in [1, scanLength]). */
  readonly scanLength: number;
}

/** The knobs a workload is resolved with. */
export interface WorkloadParams {
  /** `--distribution`, if given: overrides the workload's default. */
  readonly distribution?: Distribution;
  readonly readPercent: number;
  readonly batchSize: number;
  readonly scanLength: number;
}

/** Resolves `name` into the operation mix and key distribution it runs with. */
export function resolveWorkload(name: WorkloadName, p: WorkloadParams): WorkloadSpec {
  const base = { name, batchSize: p.batchSize, scanLength: p.scanLength };
  const make = (mix: Array<readonly [OpKind, number]>, distribution: Distribution, needsLoad: boolean): WorkloadSpec => ({
    ...base,
    mix: mix.filter(([, w]) => w > 0),
    distribution: p.distribution ?? distribution,
    needsLoad,
  });
  switch (name) {
    case 'raw-put':
      return make([['update', 1]], 'uniform', false);
    case 'raw-get':
      return make([['read', 1]], 'uniform', true);
    case 'raw-batch-put':
      return make([['batch-put', 1]], 'uniform', false);
    case 'mixed':
      return make([['read', p.readPercent / 100], ['update', 1 - p.readPercent / 100]], 'uniform', true);
    case 'ycsb-a':
      return make([['read', 0.5], ['update', 0.5]], 'zipfian', true);
    case 'ycsb-b':
      return make([['read', 0.95], ['update', 0.05]], 'zipfian', true);
    case 'ycsb-c':
      return make([['read', 1]], 'zipfian', true);
    case 'ycsb-d':
      return make([['read', 0.95], ['insert', 0.05]], 'latest', true);
    case 'ycsb-e':
      return make([['scan', 0.95], ['insert', 0.05]], 'zipfian', true);
    case 'ycsb-f':
      return make([['read', 0.5], ['rmw', 0.5]], 'zipfian', true);
    case 'grow':
      return make([['insert', 1]], 'uniform', false);
  }
}

/** Picks an operation kind for a uniform draw `u` in [0, 1). */
export function pickOp(mix: WorkloadSpec['mix'], u: number): OpKind {
  let acc = 0;
  for (const [kind, w] of mix) {
    acc += w;
    if (u < acc) return kind;
  }
  return mix[mix.length - 1]![0];
}
