/**
 * The store's Prometheus metrics (prom-client), on a registry of their own so that several stores
 * can live in one process (tests) and nothing registers on import. The status server exposes the
 * registry at /metrics, followed by whatever the raftstore adds (`extraMetrics`).
 *
 * Names follow Prometheus conventions (`_total` counters, `_seconds` histograms, base units).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets in seconds: 0.25 ms … 10 s. */
const LATENCY_BUCKETS = [0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface StoreMetricsOptions {
  /** Also collect Node's process metrics (CPU, memory, event-loop lag, GC). Off in tests. */
  processMetrics?: boolean;
}

/** Every metric the store service and transport record. */
export class StoreMetrics {
  readonly registry = new Registry();

  /** Client requests by kvproto method and outcome (ok, region_error, error). */
  readonly grpcRequests = new Counter({
    name: 'mrkv_grpc_requests_total',
    help: 'Client requests served, by method and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly grpcDuration = new Histogram({
    name: 'mrkv_grpc_request_duration_seconds',
    help: 'Time from request decoded to response ready, by method',
    labelNames: ['method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly inflightRequests = new Gauge({
    name: 'mrkv_grpc_inflight_requests',
    help: 'Client requests being served now',
    registers: [this.registry],
  });
  /** Requests refused with ServerIsBusy, by the bound that refused them (server, stream). */
  readonly busyRejections = new Counter({
    name: 'mrkv_grpc_busy_rejections_total',
    help: 'Requests answered ServerIsBusy by admission control',
    labelNames: ['bound'] as const,
    registers: [this.registry],
  });
  readonly batchCommandsStreams = new Gauge({
    name: 'mrkv_batch_commands_streams',
    help: 'Open BatchCommands streams',
    registers: [this.registry],
  });
  readonly batchCommandsFrames = new Counter({
    name: 'mrkv_batch_commands_frames_total',
    help: 'BatchCommands frames, by direction (in, out)',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });

  readonly raftMessagesSent = new Counter({
    name: 'mrkv_raft_messages_sent_total',
    help: 'Raft messages written to BatchRaft streams',
    registers: [this.registry],
  });
  readonly raftFramesSent = new Counter({
    name: 'mrkv_raft_frames_sent_total',
    help: 'BatchRaftMessage frames written',
    registers: [this.registry],
  });
  readonly raftBytesSent = new Counter({
    name: 'mrkv_raft_bytes_sent_total',
    help: 'Bytes of BatchRaftMessage frames written',
    registers: [this.registry],
  });
  /** Messages dropped before sending, by reason (queue_full, disconnected, resolve_failed, closed). */
  readonly raftMessagesDropped = new Counter({
    name: 'mrkv_raft_messages_dropped_total',
    help: 'Raft messages dropped by the transport, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly raftUnreachableReports = new Counter({
    name: 'mrkv_raft_unreachable_reports_total',
    help: 'Times a store was reported unreachable to raft',
    registers: [this.registry],
  });
  /** Connection attempts to peer stores, by result (ready, failed, closed). */
  readonly raftConnections = new Counter({
    name: 'mrkv_raft_connections_total',
    help: 'BatchRaft stream events, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly raftQueuedMessages = new Gauge({
    name: 'mrkv_raft_queued_messages',
    help: 'Raft messages queued for sending, all stores',
    registers: [this.registry],
  });
  readonly raftMessagesReceived = new Counter({
    name: 'mrkv_raft_messages_received_total',
    help: 'Raft messages received from other stores',
    registers: [this.registry],
  });
  readonly raftFramesReceived = new Counter({
    name: 'mrkv_raft_frames_received_total',
    help: 'Raft and BatchRaft frames received',
    registers: [this.registry],
  });
  /** Snapshot transfers by direction (send, recv) and result (ok, rejected, failed). */
  readonly snapshotTransfers = new Counter({
    name: 'mrkv_snapshot_transfers_total',
    help: 'Snapshot transfers, by direction and result',
    labelNames: ['direction', 'result'] as const,
    registers: [this.registry],
  });
  readonly snapshotBytes = new Counter({
    name: 'mrkv_snapshot_bytes_total',
    help: 'Snapshot data bytes, by direction',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly snapshotsInflight = new Gauge({
    name: 'mrkv_snapshots_inflight',
    help: 'Snapshots being sent or received now, by direction',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });

  constructor(opts: StoreMetricsOptions = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'mrkv_' });
  }
}
