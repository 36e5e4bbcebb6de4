/**
 * Latency histograms: HdrHistogram (hdr-histogram-js), values in microseconds, 3 significant
 * digits, up to 10 minutes. Each worker records into its own histograms and sends them back
 * encoded (HdrHistogram's compressed base64 form, a few hundred bytes); the main thread decodes and
 * adds them, so percentiles are exact over all workers, not averages of per-worker percentiles.
 */
import * as hdr from 'hdr-histogram-js';

/** Highest latency tracked, µs (longer ones are clamped to it). */
export const MAX_LATENCY_US = 600_000_000;

const BUILD: hdr.BuildRequest = {
  bitBucketSize: 32,
  lowestDiscernibleValue: 1,
  highestTrackableValue: MAX_LATENCY_US,
  numberOfSignificantValueDigits: 3,
  autoResize: false,
};

/** A latency histogram. */
export type Histogram = hdr.Histogram;

/** A new, empty latency histogram. */
export function newHistogram(): Histogram {
  return hdr.build(BUILD);
}

/** Records one latency given in milliseconds (as `performance.now()` differences are). */
export function recordMs(h: Histogram, ms: number): void {
  const us = Math.round(ms * 1000);
  h.recordValue(us < 1 ? 1 : us > MAX_LATENCY_US ? MAX_LATENCY_US : us);
}

/** The cloneable form of a histogram (what a worker returns). */
export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Adds the encoded histograms into one new histogram. */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const out = newHistogram();
  for (const e of encoded) {
    const h = hdr.decodeFromCompressedBase64(e, 32);
    out.add(h);
    h.destroy();
  }
  return out;
}

/** Percentiles of a histogram, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** The summary of `h` (all zero when it is empty). */
export function summarize(h: Histogram): LatencySummary {
  const at = (p: number) => (h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / 1000);
  return {
    count: h.totalCount,
    meanMs: h.totalCount === 0 ? 0 : h.mean / 1000,
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    p999Ms: at(99.9),
    // From the buckets, not `maxValue`: a decoded histogram only knows the bucket, so this keeps a
    // merged summary identical to one recorded in a single histogram.
    maxMs: at(100),
  };
}
