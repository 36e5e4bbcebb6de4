/**
 * The Prometheus side of a service (prom-client): one registry per service instance, so that
 * several PDs or stores can live in one test process, and nothing registers on import (grpc-js'
 * registration-on-import is the thing not to copy). A service's metrics class extends
 * `MetricsRegistry` and declares its metrics as fields built with `counter`, `gauge` and
 * `histogram`, which register them on this instance's registry:
 *
 * ```ts
 * class PdMetrics extends MetricsRegistry {
 *   readonly tsoRequests = this.counter({ name: 'mrkv_pd_tso_timestamps_total', help: 'Timestamps handed out' });
 * }
 * ```
 *
 * Names follow Prometheus conventions (`_total` counters, `_seconds` histograms, base units).
 */
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';
import type { StatusSource } from './status-server.js';

/** A metric's prom-client configuration without `registers` (the owning registry is implied). */
export type MetricOptions<C> = Omit<C, 'registers'>;

/** A service instance's prom-client registry and the constructors that register on it. */
export class MetricsRegistry {
  /** Every metric of this instance (and Node's process metrics once `collectProcessMetrics` ran). */
  readonly registry = new Registry();

  /** The /metrics half of a {@link StatusSource}: this registry, then `extra()`'s text when it is not empty. */
  statusMetrics(extra?: () => string | Promise<string>): Pick<StatusSource, 'metrics' | 'metricsContentType'> {
    return {
      metricsContentType: this.registry.contentType,
      metrics: async () => {
        const own = await this.registry.metrics();
        const more = extra ? await extra() : '';
        return more === '' ? own : `${own}\n${more}`;
      },
    };
  }

  /** A counter registered on this instance's registry. */
  protected counter<T extends string = string>(cfg: MetricOptions<CounterConfiguration<T>>): Counter<T> {
    return new Counter<T>({ ...cfg, registers: [this.registry] });
  }

  /** A gauge registered on this instance's registry (`collect` runs on every scrape). */
  protected gauge<T extends string = string>(cfg: MetricOptions<GaugeConfiguration<T>>): Gauge<T> {
    return new Gauge<T>({ ...cfg, registers: [this.registry] });
  }

  /** A histogram registered on this instance's registry. */
  protected histogram<T extends string = string>(cfg: MetricOptions<HistogramConfiguration<T>>): Histogram<T> {
    return new Histogram<T>({ ...cfg, registers: [this.registry] });
  }

  /**
   * Also collects Node's process metrics (CPU, memory, event-loop lag, GC) under `prefix`. Once
   * per instance; off in tests, where several services share one process.
   */
  protected collectProcessMetrics(prefix: string): void {
    collectDefaultMetrics({ register: this.registry, prefix });
  }
}
