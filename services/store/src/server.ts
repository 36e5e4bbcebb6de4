/**
 * The store's servers, assembled: the gRPC server (`tikvpb.Tikv` for clients and peer stores) and
 * the HTTP status server, around a running raftstore's `RawKvApi` and `RaftMessageSink`.
 *
 * Graceful shutdown (`shutdown`), in order:
 * 1. stop being ready (/ready → 503) and refuse new requests with ServerIsBusy (clients retry on
 *    another peer); stop accepting connections and calls (grpc `tryShutdown`);
 * 2. end idle BatchCommands streams (the others after their last answer) and the inbound raft
 *    streams (senders reconnect to whoever serves the regions now);
 * 3. wait for in-flight requests, at most `timeoutMs`; then abort what is left and force-close
 *    every call;
 * 4. close the status server.
 * Stopping the raftstore and closing engines is the process's job (process/run-store.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { InvariantViolation, noopLogger, systemClock, type Clock, type Logger } from '@mrkv/common';
import { joinHostPort, splitHostPort, startStatusServer, type StatusServer } from '@mrkv/common/service';
import type { RaftMessageSink, RawKvApi } from '@mrkv/raftstore';
import type { StoreConfig } from './config.js';
import { StoreError, StoreErrorCodes } from './errors.js';
import { StoreMetrics } from './metrics.js';
import { Admission } from './service/admission.js';
import { RaftReceiver } from './service/raft-service.js';
import { InflightAborts, type ServingContext } from './service/serve.js';
import { StreamSet, storeServiceDefinition, tikvHandlers } from './service/tikv-service.js';
import { storeVersion } from './version.js';

export interface StoreServerOptions {
  /** Uses `server`, `limits` and `transport` (snapshot receive limit). */
  readonly config: StoreConfig;
  readonly rawKv: RawKvApi;
  readonly raftSink: RaftMessageSink;
  /** This store's id (0 before bootstrap). */
  readonly storeId: () => number;
  /** The cluster id requests are checked against (0 = unchecked). */
  readonly clusterId: () => number;
  /** Regions hosted here, from the raftstore (shown on /status). */
  readonly regionCount?: () => number;
  /** Extra Prometheus text appended to /metrics (the raftstore's metrics). */
  readonly extraMetrics?: () => string | Promise<string>;
  /** Extra fields merged into /status. */
  readonly extraStatus?: () => Record<string, unknown>;
  readonly metrics?: StoreMetrics;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Invariant violations found while serving (bugs). Default: log and rethrow on the next tick. */
  readonly onFatal?: (err: InvariantViolation) => void;
}

export interface StoreServer {
  /** The bound gRPC address (`host:port`, the real port when `server.addr` asked for 0). */
  readonly grpcAddress: string;
  /** The bound status address. */
  readonly statusAddress: string;
  readonly metrics: StoreMetrics;
  /** Requests being served now. */
  readonly inflight: number;
  /** Marks the store ready (after registration with PD); /ready answers 200 from then on. */
  markReady(): void;
  /**
   * Graceful shutdown (module comment). Resolves `drained: false` when in-flight requests had to
   * be aborted at the deadline.
   */
  shutdown(timeoutMs?: number): Promise<{ drained: boolean }>;
  /** Stops at once: aborts requests, closes every call and the status server. */
  forceStop(): Promise<void>;
}

/** Starts the gRPC and status servers. Throws `KV:Server:BindFailed` when an address cannot be bound. */
export async function startStoreServer(opts: StoreServerOptions): Promise<StoreServer> {
  const cfg = opts.config;
  const metrics = opts.metrics ?? new StoreMetrics();
  const logger = (opts.logger ?? noopLogger).child({ component: 'server' });
  const clock = opts.clock ?? systemClock;
  const inflightAborts = new InflightAborts();
  const admission = new Admission(cfg.server.maxInflightRequests);
  let draining = false;
  let ready = false;
  const startedAt = clock.wallMs();
  const onFatal =
    opts.onFatal ??
    ((err: InvariantViolation) => {
      process.nextTick(() => {
        throw err;
      });
    });

  const sc: ServingContext = {
    api: opts.rawKv,
    limits: cfg.limits,
    clusterId: opts.clusterId,
    logger: logger.child({ component: 'tikv-service' }),
    onFatal,
    metrics,
    admission,
    maxInflightPerStream: cfg.server.maxInflightPerStream,
    clock,
    draining: () => draining,
    inflight: inflightAborts,
  };
  const batchStreams = new StreamSet();
  const raftStreams = new StreamSet();
  const raft = new RaftReceiver(
    {
      sink: opts.raftSink,
      metrics,
      logger: logger.child({ component: 'raft-service' }),
      maxConcurrentRecvs: cfg.transport.snapMaxConcurrentRecvs,
      onFatal,
    },
    raftStreams,
  );

  const grpcServer = new grpc.Server({
    'grpc.max_receive_message_length': cfg.server.grpcMaxMessageSize,
    'grpc.max_send_message_length': cfg.server.grpcMaxMessageSize,
    'grpc.keepalive_time_ms': cfg.server.grpcKeepaliveTimeMs,
    'grpc.keepalive_timeout_ms': cfg.server.grpcKeepaliveTimeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
  });
  grpcServer.addService(storeServiceDefinition(), tikvHandlers(sc, raft, batchStreams));
  const grpcAddress = await bindGrpc(grpcServer, cfg.server.addr);

  const advertise = () => cfg.server.advertiseAddr || grpcAddress;
  let boundStatusAddress = '';
  let status: StatusServer;
  try {
    status = await startStatusServer(
      cfg.server.statusAddr,
      {
        ready: () => ready && !draining,
        status: () => ({
          storeId: opts.storeId(),
          clusterId: opts.clusterId(),
          address: advertise(),
          listenAddress: grpcAddress,
          statusAddress: cfg.server.advertiseStatusAddr || boundStatusAddress,
          version: storeVersion(),
          startTime: new Date(startedAt).toISOString(),
          uptimeSeconds: Math.round((clock.wallMs() - startedAt) / 1000),
          state: draining ? 'stopping' : ready ? 'serving' : 'starting',
          regionCount: opts.regionCount?.() ?? null,
          inflightRequests: admission.inflight,
          snapshotsReceiving: raft.snapshotsInflight,
          labels: cfg.server.labels,
          ...(opts.extraStatus?.() ?? {}),
        }),
        ...metrics.statusMetrics(opts.extraMetrics),
      },
      {
        logger: logger.child({ component: 'status' }),
        bindError: (message, cause) => new StoreError(StoreErrorCodes.BIND_FAILED, message, { cause }),
      },
    );
  } catch (e) {
    grpcServer.forceShutdown();
    throw e;
  }
  boundStatusAddress = status.address;
  logger.info({ grpcAddress, statusAddress: status.address }, 'store servers listening');

  const forceStop = async (): Promise<void> => {
    draining = true;
    inflightAborts.abortAll();
    grpcServer.forceShutdown();
    await status.close();
  };

  return {
    grpcAddress,
    statusAddress: status.address,
    metrics,
    get inflight() {
      return admission.inflight;
    },
    markReady: () => {
      ready = true;
    },
    shutdown: async (timeoutMs = cfg.server.gracefulShutdownTimeoutMs) => {
      if (draining) return { drained: admission.inflight === 0 };
      draining = true;
      logger.info({ inflight: admission.inflight, timeoutMs }, 'graceful shutdown: draining');
      const closed = new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
      batchStreams.endAll();
      raftStreams.endAll();
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        admission.idle().then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (!drained) logger.warn({ inflight: admission.inflight }, 'graceful shutdown: deadline passed, aborting requests');
      // Streams still open now (a client that never half-closes, a slow snapshot) are cut.
      const grace = drained ? Math.min(1000, timeoutMs) : 0;
      const tidy = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), grace))]);
      if (!tidy) {
        inflightAborts.abortAll();
        grpcServer.forceShutdown();
      }
      await status.close();
      logger.info({ drained }, 'servers stopped');
      return { drained };
    },
    forceStop,
  };
}

function bindGrpc(server: grpc.Server, addr: string): Promise<string> {
  const { host } = splitHostPort(addr);
  return new Promise((resolve, reject) => {
    server.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err) reject(new StoreError(StoreErrorCodes.BIND_FAILED, `cannot listen on ${addr}: ${err.message}`, { cause: err }));
      else resolve(joinHostPort(host, port));
    });
  });
}
