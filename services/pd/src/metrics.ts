/**
 * PD's Prometheus metrics (prom-client) on a registry of their own (several PDs can live in one
 * test process; nothing registers on import). Gauges of cluster state are collected on scrape.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { PlacementDriver, StoreStatus } from '@mrkv/pd';

export class PdMetrics {
  readonly registry = new Registry();

  /** gRPC calls by method and outcome (ok, header_error, error). */
  readonly grpcRequests = new Counter({
    name: 'mrkv_pd_grpc_requests_total',
    help: 'PD gRPC calls, by method and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly regionHeartbeats = new Counter({
    name: 'mrkv_pd_region_heartbeats_total',
    help: 'Region heartbeats, by result (ok, stale, invalid)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly commandsSent = new Counter({
    name: 'mrkv_pd_operator_commands_sent_total',
    help: 'Operator commands written to heartbeat streams, by command kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly operatorsFinished = new Counter({
    name: 'mrkv_pd_operators_finished_total',
    help: 'Operators that ended, by kind and status',
    labelNames: ['kind', 'status'] as const,
    registers: [this.registry],
  });
  readonly tsoRequests = new Counter({
    name: 'mrkv_pd_tso_timestamps_total',
    help: 'Timestamps handed out',
    registers: [this.registry],
  });

  constructor(pd: PlacementDriver, opts: { processMetrics?: boolean } = {}) {
    new Gauge({
      name: 'mrkv_pd_regions',
      help: 'Regions PD knows',
      registers: [this.registry],
      collect() {
        this.set(pd.cluster.regions.size);
      },
    });
    new Gauge({
      name: 'mrkv_pd_stores',
      help: 'Stores by status',
      labelNames: ['status'] as const,
      registers: [this.registry],
      collect() {
        const h = pd.health();
        for (const [status, n] of Object.entries(h.storeStates) as Array<[StoreStatus, number]>) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'mrkv_pd_running_operators',
      help: 'Operators running now',
      registers: [this.registry],
      collect() {
        this.set(pd.operators.list().length);
      },
    });
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'mrkv_pd_' });
  }
}
