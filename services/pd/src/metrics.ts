/**
 * PD's Prometheus metrics (prom-client) on a registry of their own (several PDs can live in one
 * test process; nothing registers on import). Gauges of cluster state are collected on scrape.
 */
import { MetricsRegistry } from '@mrkv/common/service';
import type { PlacementDriver, StoreStatus } from '@mrkv/pd';

/** Every metric PD records; the status server serves `registry` at /metrics. */
export class PdMetrics extends MetricsRegistry {
  /** gRPC calls by method and outcome (ok, header_error, error). */
  readonly grpcRequests = this.counter({
    name: 'mrkv_pd_grpc_requests_total',
    help: 'PD gRPC calls, by method and outcome',
    labelNames: ['method', 'outcome'] as const,
  });
  readonly regionHeartbeats = this.counter({
    name: 'mrkv_pd_region_heartbeats_total',
    help: 'Region heartbeats, by result (ok, stale, invalid)',
    labelNames: ['result'] as const,
  });
  readonly commandsSent = this.counter({
    name: 'mrkv_pd_operator_commands_sent_total',
    help: 'Operator commands written to heartbeat streams, by command kind',
    labelNames: ['kind'] as const,
  });
  readonly operatorsFinished = this.counter({
    name: 'mrkv_pd_operators_finished_total',
    help: 'Operators that ended, by kind and status',
    labelNames: ['kind', 'status'] as const,
  });
  readonly tsoRequests = this.counter({
    name: 'mrkv_pd_tso_timestamps_total',
    help: 'Timestamps handed out',
  });

  constructor(pd: PlacementDriver, opts: { processMetrics?: boolean } = {}) {
    super();
    this.gauge({
      name: 'mrkv_pd_regions',
      help: 'Regions PD knows',
      collect() {
        this.set(pd.cluster.regions.size);
      },
    });
    this.gauge({
      name: 'mrkv_pd_stores',
      help: 'Stores by status',
      labelNames: ['status'] as const,
      collect() {
        const h = pd.health();
        for (const [status, n] of Object.entries(h.storeStates) as Array<[StoreStatus, number]>) this.set({ status }, n);
      },
    });
    this.gauge({
      name: 'mrkv_pd_running_operators',
      help: 'Operators running now',
      collect() {
        this.set(pd.operators.list().length);
      },
    });
    if (opts.processMetrics) this.collectProcessMetrics('mrkv_pd_');
  }
}
