/**
 * Watching regions split while a `grow` run fills the cluster: a `SplitWatch` on the harness's
 * main thread samples, every `intervalMs`, how many regions PD knows and how many operations the
 * workers have completed (the shared counters). `summarizeSplits` turns the samples into the
 * report's split figures:
 * - splits: every rise of the region count (a batch split of k keys counts k);
 * - time to the first split (from the first sample) and the mean time between splits;
 * - throughput around splits: the rate of each sample interval, the median over all intervals
 *   as the baseline, and the mean and lowest rate of the intervals in which a split showed up
 *   (and the one right after, where its elections and retries land). The dip is how far the
 *   lowest split-interval rate falls below the baseline.
 * PD learns of a split from the leader's report and heartbeats, so a split shows up within one
 * interval plus that delay.
 */
import { ClusterView } from '@mrkv/playground';
import { readCounters } from './progress.js';

/** One observation. */
export interface SplitSample {
  /** Milliseconds since the watch started. */
  readonly atMs: number;
  readonly regions: number;
  /** Operations completed so far, all workers (failed ones included). */
  readonly done: number;
}

/** What the report shows about splits. */
export interface SplitSummary {
  readonly regionsStart: number;
  readonly regionsEnd: number;
  readonly splits: number;
  /** From the first sample to the first sample with more regions. */
  readonly firstSplitMs: number | undefined;
  /** Mean time between the first and the last split sample, per split after the first. */
  readonly meanSplitIntervalMs: number | undefined;
  /** Median rate (ops/s) over all sample intervals. */
  readonly baselineOpsPerSec: number;
  /** Mean rate of the intervals with a split (and the one after each). */
  readonly splitOpsPerSec: number | undefined;
  /** Lowest rate among those intervals. */
  readonly minSplitOpsPerSec: number | undefined;
  /** `1 − minSplitOpsPerSec / baselineOpsPerSec`, in percent (0 when no dip). */
  readonly dipPercent: number | undefined;
  readonly samples: number;
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The split figures of a series of samples (in time order). */
export function summarizeSplits(samples: readonly SplitSample[]): SplitSummary {
  const first = samples[0];
  const last = samples[samples.length - 1];
  const rates: number[] = [];
  const splitIntervals = new Set<number>();
  let splits = 0;
  let firstSplitAt: number | undefined;
  let lastSplitAt: number | undefined;
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    const dt = b.atMs - a.atMs;
    rates.push(dt > 0 ? ((b.done - a.done) * 1000) / dt : 0);
    const rise = b.regions - a.regions;
    if (rise > 0) {
      splits += rise;
      firstSplitAt ??= b.atMs;
      lastSplitAt = b.atMs;
      splitIntervals.add(i - 1);
      if (i < samples.length - 1) splitIntervals.add(i);
    }
  }
  const baseline = median(rates);
  const around = [...splitIntervals].map((i) => rates[i]!);
  const minAround = around.length === 0 ? undefined : Math.min(...around);
  return {
    regionsStart: first?.regions ?? 0,
    regionsEnd: last?.regions ?? 0,
    splits,
    firstSplitMs: firstSplitAt === undefined || first === undefined ? undefined : firstSplitAt - first.atMs,
    meanSplitIntervalMs: splits > 1 && firstSplitAt !== undefined && lastSplitAt !== undefined ? (lastSplitAt - firstSplitAt) / (splits - 1) : undefined,
    baselineOpsPerSec: baseline,
    splitOpsPerSec: around.length === 0 ? undefined : around.reduce((s, r) => s + r, 0) / around.length,
    minSplitOpsPerSec: minAround,
    dipPercent: minAround === undefined || baseline <= 0 ? undefined : Math.max(0, (1 - minAround / baseline) * 100),
    samples: samples.length,
  };
}

/** Samples PD's region count and the workers' completions until stopped. */
export class SplitWatch {
  private readonly view: ClusterView;
  private readonly samples: SplitSample[] = [];
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped: Promise<SplitSample[]> | undefined;

  constructor(
    pdAddress: string,
    private readonly counters: Int32Array,
    private readonly workers: number,
    private readonly intervalMs = 250,
  ) {
    this.view = new ClusterView(pdAddress);
  }

  /** Takes the first sample, then one per interval (a sample PD does not answer is skipped). */
  async start(): Promise<void> {
    await this.sample();
    this.timer = setInterval(() => {
      this.inFlight ??= this.sample().finally(() => (this.inFlight = undefined));
    }, this.intervalMs);
  }

  /** Stops sampling (after one last sample) and returns the samples; later calls return the same. */
  stop(): Promise<SplitSample[]> {
    this.stopped ??= (async () => {
      if (this.timer !== undefined) clearInterval(this.timer);
      this.timer = undefined;
      await this.inFlight;
      await this.sample();
      this.view.close();
      return this.samples;
    })();
    return this.stopped;
  }

  private async sample(): Promise<void> {
    const done = readCounters(this.counters, this.workers);
    const regions = await this.view.regions().then(
      (rs) => rs.length,
      () => undefined,
    );
    if (regions === undefined || regions === 0) return;
    this.samples.push({ atMs: performance.now() - this.started, regions, done: done.done + done.failed });
  }
}
