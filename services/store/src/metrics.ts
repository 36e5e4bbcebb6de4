/**
 * The store's Prometheus metrics (prom-client), on a registry of their own so that several stores
 * can live in one process (tests) and nothing registers on import. The status server exposes the
 * registry at /metrics, followed by whatever the raftstore adds (`extraMetrics`).
 *
 * Names follow Prometheus conventions (`_total` counters, `_seconds` histograms, base units).
 */
import { MetricsRegistry } from '@mrkv/common/service';

/** Latency buckets in seconds: 0.25 ms … 10 s. */
const LATENCY_BUCKETS = [0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface StoreMetricsOptions {
  /** Also collect Node's process metrics (CPU, memory, event-loop lag, GC). Off in tests. */
  processMetrics?: boolean;
}

/** Every metric the store service and transport record. */
export class StoreMetrics extends MetricsRegistry {
  /** Client requests by kvproto method and outcome (ok, region_error, error). */
  readonly grpcRequests = this.counter({
    name: 'mrkv_grpc_requests_total',
    help: 'Client requests served, by method and outcome',
    labelNames: ['method', 'outcome'] as const,
  });
  readonly grpcDuration = this.histogram({
    name: 'mrkv_grpc_request_duration_seconds',
    help: 'Time from request decoded to response ready, by method',
    labelNames: ['method'] as const,
    buckets: LATENCY_BUCKETS,
  });
  readonly inflightRequests = this.gauge({
    name: 'mrkv_grpc_inflight_requests',
    help: 'Client requests being served now',
  });
  /** Requests refused with ServerIsBusy, by the bound that refused them (server, stream). */
  readonly busyRejections = this.counter({
    name: 'mrkv_grpc_busy_rejections_total',
    help: 'Requests answered ServerIsBusy by admission control',
    labelNames: ['bound'] as const,
  });
  readonly batchCommandsStreams = this.gauge({
    name: 'mrkv_batch_commands_streams',
    help: 'Open BatchCommands streams',
  });
  readonly batchCommandsFrames = this.counter({
    name: 'mrkv_batch_commands_frames_total',
    help: 'BatchCommands frames, by direction (in, out)',
    labelNames: ['direction'] as const,
  });

  readonly raftMessagesSent = this.counter({
    name: 'mrkv_raft_messages_sent_total',
    help: 'Raft messages written to BatchRaft streams',
  });
  readonly raftFramesSent = this.counter({
    name: 'mrkv_raft_frames_sent_total',
    help: 'BatchRaftMessage frames written',
  });
  readonly raftBytesSent = this.counter({
    name: 'mrkv_raft_bytes_sent_total',
    help: 'Bytes of BatchRaftMessage frames written',
  });
  /** Messages dropped before sending, by reason (queue_full, disconnected, resolve_failed, closed). */
  readonly raftMessagesDropped = this.counter({
    name: 'mrkv_raft_messages_dropped_total',
    help: 'Raft messages dropped by the transport, by reason',
    labelNames: ['reason'] as const,
  });
  readonly raftUnreachableReports = this.counter({
    name: 'mrkv_raft_unreachable_reports_total',
    help: 'Times a store was reported unreachable to raft',
  });
  /** Connection attempts to peer stores, by result (ready, failed, closed). */
  readonly raftConnections = this.counter({
    name: 'mrkv_raft_connections_total',
    help: 'BatchRaft stream events, by result',
    labelNames: ['result'] as const,
  });
  readonly raftQueuedMessages = this.gauge({
    name: 'mrkv_raft_queued_messages',
    help: 'Raft messages queued for sending, all stores',
  });
  readonly raftMessagesReceived = this.counter({
    name: 'mrkv_raft_messages_received_total',
    help: 'Raft messages received from other stores',
  });
  readonly raftFramesReceived = this.counter({
    name: 'mrkv_raft_frames_received_total',
    help: 'Raft and BatchRaft frames received',
  });
  /** Snapshot transfers by direction (send, recv) and result (ok, rejected, failed). */
  readonly snapshotTransfers = this.counter({
    name: 'mrkv_snapshot_transfers_total',
    help: 'Snapshot transfers, by direction and result',
    labelNames: ['direction', 'result'] as const,
  });
  readonly snapshotBytes = this.counter({
    name: 'mrkv_snapshot_bytes_total',
    help: 'Snapshot data bytes, by direction',
    labelNames: ['direction'] as const,
  });
  readonly snapshotsInflight = this.gauge({
    name: 'mrkv_snapshots_inflight',
    help: 'Snapshots being sent or received now, by direction',
    labelNames: ['direction'] as const,
  });

  constructor(opts: StoreMetricsOptions = {}) {
    super();
    if (opts.processMetrics) this.collectProcessMetrics('mrkv_');
  }
}
