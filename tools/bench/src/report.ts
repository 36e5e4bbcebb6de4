/**
 * The report: a cli-table3 table with one row per target (and one per operation kind when the
 * workload mixes kinds), the ratios between targets, error samples, and the final JSON line.
 *
 * JSON line (always the last line of stdout):
 * `{"name":"cluster","params":{…},"targets":{"etcd":{"ops_per_sec":…,"p50_ms":…,"p99_ms":…,…}},
 *   "ratios":{"mrkv/etcd":{"ops_per_sec":…,"p50_ms":…,"p99_ms":…}}}`. A failed target appears
 * as `{"error":{"code","message"}}`; ratios only cover targets that both ran. Throughput ratios
 * above 1 favour the numerator; latency ratios below 1 do. A `grow` run on mrkv adds
 * `"splits":{"count","regions_start","regions_end","first_split_s","mean_split_interval_s",
 * "baseline_ops_per_sec","split_ops_per_sec","min_split_ops_per_sec","dip_percent"}` to its target
 * (null where a figure has no samples) and a line to the text report.
 */
import Table from 'cli-table3';
import type { TargetKind } from './drivers/index.js';
import type { LatencySummary } from './histogram.js';
import type { BenchReport, TargetResult } from './runner.js';
import type { SplitSummary } from './split-watch.js';

/** Pairs compared, numerator first, when both ran. */
export const RATIO_PAIRS: ReadonlyArray<readonly [TargetKind, TargetKind]> = [
  ['mrkv', 'etcd'],
  ['mrkv', 'rocksdb'],
  ['etcd', 'rocksdb'],
];

const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const int = (x: number) => Math.round(x).toLocaleString('en-US');

function latencyJson(l: LatencySummary) {
  return { p50_ms: round(l.p50Ms), p90_ms: round(l.p90Ms), p99_ms: round(l.p99Ms), p999_ms: round(l.p999Ms), max_ms: round(l.maxMs), mean_ms: round(l.meanMs) };
}

type OkResult = Extract<TargetResult, { ok: true }>;

const orNull = (x: number | undefined, digits = 3) => (x === undefined ? null : round(x, digits));

/** The split figures in the JSON line. */
export function splitsJson(s: SplitSummary): Record<string, number | null> {
  return {
    count: s.splits,
    regions_start: s.regionsStart,
    regions_end: s.regionsEnd,
    first_split_s: orNull(s.firstSplitMs === undefined ? undefined : s.firstSplitMs / 1000),
    mean_split_interval_s: orNull(s.meanSplitIntervalMs === undefined ? undefined : s.meanSplitIntervalMs / 1000),
    baseline_ops_per_sec: round(s.baselineOpsPerSec, 1),
    split_ops_per_sec: orNull(s.splitOpsPerSec, 1),
    min_split_ops_per_sec: orNull(s.minSplitOpsPerSec, 1),
    dip_percent: orNull(s.dipPercent, 1),
  };
}

/** The split figures as one line of the text report. */
export function splitsText(s: SplitSummary): string {
  const sec = (x: number | undefined) => (x === undefined ? '-' : `${(x / 1000).toFixed(1)}s`);
  const rate = (x: number | undefined) => (x === undefined ? '-' : int(x));
  return (
    `splits: ${s.splits} (regions ${s.regionsStart} → ${s.regionsEnd}); first after ${sec(s.firstSplitMs)}, then every ${sec(s.meanSplitIntervalMs)}; ` +
    `throughput ${rate(s.baselineOpsPerSec)} ops/s (median interval), ${rate(s.splitOpsPerSec)} around splits (lowest ${rate(s.minSplitOpsPerSec)}, ` +
    `dip ${s.dipPercent === undefined ? '-' : `${s.dipPercent.toFixed(0)}%`})`
  );
}

/** The ratio figures of `a` over `b`. */
export function ratio(a: OkResult, b: OkResult): { ops_per_sec: number; p50_ms: number; p99_ms: number } {
  const div = (x: number, y: number) => (y === 0 ? 0 : round(x / y));
  return { ops_per_sec: div(a.opsPerSec, b.opsPerSec), p50_ms: div(a.latency.p50Ms, b.latency.p50Ms), p99_ms: div(a.latency.p99Ms, b.latency.p99Ms) };
}

function ratios(results: readonly TargetResult[]): Record<string, ReturnType<typeof ratio>> {
  const ok = new Map(results.filter((r): r is OkResult => r.ok).map((r) => [r.target, r]));
  const out: Record<string, ReturnType<typeof ratio>> = {};
  for (const [a, b] of RATIO_PAIRS) {
    const ra = ok.get(a);
    const rb = ok.get(b);
    if (ra && rb) out[`${a}/${b}`] = ratio(ra, rb);
  }
  return out;
}

/** The final JSON object. */
export function reportJson(report: BenchReport): Record<string, unknown> {
  const o = report.options;
  const targets: Record<string, unknown> = {};
  for (const r of report.results) {
    if (!r.ok) {
      targets[r.target] = { error: r.error };
      continue;
    }
    const byOp: Record<string, unknown> = {};
    for (const [kind, s] of Object.entries(r.byOp)) byOp[kind] = { ops: s.count, errors: s.errors, ops_per_sec: round(s.opsPerSec, 1), ...latencyJson(s.latency) };
    targets[r.target] = {
      ops_per_sec: round(r.opsPerSec, 1),
      keys_per_sec: round(r.keysPerSec, 1),
      ...latencyJson(r.latency),
      ops: r.count,
      errors: r.errors,
      elapsed_s: round(r.elapsedMs / 1000),
      workers: r.workers,
      where: r.where,
      by_op: byOp,
      ...(r.splits === undefined ? {} : { splits: splitsJson(r.splits) }),
    };
  }
  return {
    name: 'cluster',
    params: {
      workload: o.workload,
      targets: o.targets,
      keys: o.keys,
      value_size: o.valueSize,
      distribution: report.workload.distribution,
      concurrency: o.concurrency,
      workers: o.workers,
      ...(o.durationMs !== undefined ? { duration_s: o.durationMs / 1000, warmup_s: o.warmupMs / 1000 } : { ops: o.ops }),
      ...(o.workload === 'raw-batch-put' ? { batch_size: o.batchSize } : {}),
      ...(o.workload === 'mixed' ? { read_percent: o.readPercent } : {}),
      ...(o.workload === 'ycsb-e' ? { scan_length: o.scanLength } : {}),
      ...(o.regionMaxSize !== undefined ? { region_max_size: o.regionMaxSize } : {}),
      seed: o.seed,
    },
    targets,
    ratios: ratios(report.results),
  };
}

/** The human part of the report (everything but the JSON line). */
export function reportText(report: BenchReport): string {
  const o = report.options;
  const w = report.workload;
  const bound = o.durationMs !== undefined ? `${o.durationMs / 1000}s (after ${o.warmupMs / 1000}s warm-up)` : `${o.ops} ops`;
  const lines = [
    `workload ${w.name}: ${w.mix.map(([k, p]) => `${Math.round(p * 100)}% ${k}`).join(', ')}; ${w.distribution} over ${o.keys.toLocaleString('en-US')} keys; ` +
      `${o.valueSize} B values; concurrency ${o.concurrency}; ${bound}`,
  ];
  const table = new Table({
    head: ['target', 'op', 'ops/s', 'keys/s', 'ok', 'errors', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms'],
    style: { head: [], border: [] },
  });
  for (const r of report.results) {
    if (!r.ok) {
      table.push([r.target, 'FAILED', '', '', '', '', '', '', '', '', '']);
      continue;
    }
    const row = (name: string, op: string, opsPerSec: number, keysPerSec: string, count: number, errors: number, l: LatencySummary) => [
      name, op, int(opsPerSec), keysPerSec, int(count), int(errors), ms(l.p50Ms), ms(l.p90Ms), ms(l.p99Ms), ms(l.p999Ms), ms(l.maxMs),
    ];
    table.push(row(r.target, 'all', r.opsPerSec, int(r.keysPerSec), r.count, r.errors, r.latency));
    const kinds = Object.entries(r.byOp);
    if (kinds.length > 1) for (const [kind, s] of kinds) table.push(row('', kind, s.opsPerSec, '', s.count, s.errors, s.latency));
  }
  lines.push(table.toString());
  const rs = ratios(report.results);
  for (const [pair, r] of Object.entries(rs)) lines.push(`${pair}: throughput ×${r.ops_per_sec}, p50 ×${r.p50_ms}, p99 ×${r.p99_ms}`);
  for (const r of report.results) {
    if (r.ok) {
      lines.push(`${r.target}: ${r.where}; ${r.workers} worker thread(s)${r.load ? `; loaded ${int(r.load.keys)} keys in ${(r.load.ms / 1000).toFixed(1)}s` : ''}`);
      if (r.splits !== undefined) lines.push(`  ${splitsText(r.splits)}`);
      for (const s of r.errorSamples) lines.push(`  error sample: ${s}`);
    } else {
      lines.push(`${r.target} FAILED [${r.error.code}] ${r.error.message}`);
    }
  }
  return lines.join('\n');
}
