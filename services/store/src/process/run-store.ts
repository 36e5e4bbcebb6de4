/**
 * The store process, start to stop, given its two pluggable parts (the raftstore backend and the
 * PD connection). Start-up, in order:
 *
 * 1. lock the data directory (data-dir.ts);
 * 2. connect to PD and learn the cluster id;
 * 3. store id from the ident, or a new one from PD (bootstrap.ts);
 * 4. open the engines (the backend);
 * 5. bind the gRPC and status servers (requests get ServerIsBusy until step 8);
 * 6. bootstrap the cluster with the first region if PD says it is new;
 * 7. start the raftstore with the gRPC raft transport and PD;
 * 8. register with PD (PutStore), start store heartbeats, report ready (/ready → 200).
 *
 * Stop (`stop`, on SIGTERM): drain the servers, stop heartbeats, close the transport, stop the
 * raftstore, close the engines and PD, release the data directory. Every step runs even if an
 * earlier one failed; a failure during start-up unwinds what was started.
 */
import { noopLogger, systemClock, type Clock, type Logger, type Rng } from '@mrkv/common';
import { newStore, type Store } from '@mrkv/proto';
import { raftstoreConfigOf, type StoreConfig } from '../config.js';
import { StoreMetrics } from '../metrics.js';
import { startStoreServer, type StoreServer } from '../server.js';
import { RaftClient } from '../transport/raft-client.js';
import { PdStoreResolver } from '../transport/resolver.js';
import { storeVersion } from '../version.js';
import type { OpenRaftstoreBackend, RaftstoreBackend, RunningRaftstore } from './backend.js';
import { bootstrapCluster, ensureStoreId, registerStore, withRetry, type RetryPolicy } from './bootstrap.js';
import { DataDir } from './data-dir.js';
import { StoreHeartbeater } from './heartbeat.js';
import { LateRaftSink, LateRawKv } from './late-binding.js';
import type { ConnectPd, StorePd } from './pd.js';

export interface RunStoreDeps {
  readonly openBackend: OpenRaftstoreBackend;
  readonly connectPd: ConnectPd;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly rng?: Rng;
  readonly metrics?: StoreMetrics;
  /** Waits between PD retries (tests shorten it). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface RunningStore {
  readonly storeId: number;
  readonly clusterId: number;
  readonly server: StoreServer;
  /** The store as registered with PD. */
  readonly store: Store;
  readonly heartbeater: StoreHeartbeater;
  readonly transport: RaftClient;
  /** Graceful stop (module comment). Resolves `drained: false` if requests had to be aborted. */
  stop(): Promise<{ drained: boolean }>;
}

/** Starts a store (module comment). Throws a typed error if start-up fails, after unwinding. */
export async function runStore(config: StoreConfig, deps: RunStoreDeps): Promise<RunningStore> {
  const root = deps.logger ?? noopLogger;
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? new StoreMetrics();
  const retry: RetryPolicy = { intervalMs: config.pd.retryIntervalMs, maxCount: config.pd.retryMaxCount, ...(deps.sleep ? { sleep: deps.sleep } : {}) };
  const undo: Array<() => Promise<void> | void> = [];
  const unwind = async () => {
    while (undo.length > 0) {
      try {
        await undo.pop()!();
      } catch (err) {
        root.error({ err }, 'error while unwinding start-up');
      }
    }
  };

  try {
    const dir = DataDir.open(config.storage.dataDir, root);
    undo.push(() => dir.release());
    root.info({ dataDir: dir.layout.root }, 'data directory locked');

    const pd: StorePd = await withRetry('connect to PD', retry, root, () => deps.connectPd(config.pd.endpoints, root));
    undo.push(() => pd.close());
    const { storeId } = await ensureStoreId(dir, pd, retry, root);
    const logger = root.child({ storeId });

    const backend: RaftstoreBackend = await deps.openBackend({ config: raftstoreConfigOf(config), layout: dir.layout, logger, storeId, store: config });
    undo.push(() => backend.close());

    const rawKv = new LateRawKv();
    const sink = new LateRaftSink();
    /** Set once the raftstore runs (step 7); the server and transport are built before it. */
    const attached: { raftstore?: RunningRaftstore } = {};
    const server = await startStoreServer({
      config,
      rawKv,
      raftSink: sink,
      storeId: () => storeId,
      clusterId: () => pd.clusterId,
      regionCount: () => attached.raftstore?.regionCount() ?? 0,
      extraMetrics: () => attached.raftstore?.metricsText?.() ?? '',
      // Normal / AlmostFull / AlreadyFull: client writes are refused with DiskFull unless Normal.
      extraStatus: () => ({ diskUsage: attached.raftstore?.storeStats().diskUsage ?? null }),
      metrics,
      logger,
      clock,
    });
    undo.push(() => server.forceStop());

    const store = storeMeta(config, storeId, server, clock);
    await bootstrapCluster(backend.bootstrap, pd, store, retry, logger);

    const transport = new RaftClient({
      config: config.transport,
      resolver: new PdStoreResolver(pd, clock, config.transport.addressTtlMs),
      onUnreachable: (id) => attached.raftstore?.onStoreUnreachable(id),
      maxMessageSize: config.server.grpcMaxMessageSize,
      keepaliveTimeMs: config.server.grpcKeepaliveTimeMs,
      keepaliveTimeoutMs: config.server.grpcKeepaliveTimeoutMs,
      metrics,
      logger,
      clock,
      ...(deps.rng ? { rng: deps.rng } : {}),
    });
    undo.push(() => transport.close());

    const running = await backend.start({ storeId, clusterId: pd.clusterId, transport, pd, logger });
    attached.raftstore = running;
    undo.push(() => running.stop());
    rawKv.attach(running.rawKv);
    sink.attach(running.raftSink);

    await registerStore(pd, store, retry, logger);
    const heartbeater = new StoreHeartbeater({
      pd,
      storeId,
      stats: () => running.storeStats(),
      dataDir: dir.layout.root,
      intervalMs: config.raftstore.pdStoreHeartbeatTickMs,
      clock,
      logger,
    });
    heartbeater.start();
    undo.push(() => heartbeater.stop());
    server.markReady();
    logger.info({ address: store.address, statusAddress: store.statusAddress, clusterId: pd.clusterId }, 'store is ready');

    let stopping: Promise<{ drained: boolean }> | undefined;
    const stop = (): Promise<{ drained: boolean }> => {
      stopping ??= (async () => {
        logger.info('store stopping');
        const result = await server.shutdown(config.server.gracefulShutdownTimeoutMs);
        await unwind();
        logger.info({ drained: result.drained }, 'store stopped');
        return result;
      })();
      return stopping;
    };
    return { storeId, clusterId: pd.clusterId, server, store, heartbeater, transport, stop };
  } catch (err) {
    // The caller logs the failure (main-flow.ts: fatal, exit 1); here only what was started is undone.
    await unwind();
    throw err;
  }
}

/** The store as PD records it (metapb.Store). */
function storeMeta(config: StoreConfig, storeId: number, server: StoreServer, clock: Clock): Store {
  const address = config.server.advertiseAddr || server.grpcAddress;
  return newStore(storeId, address, {
    peerAddress: address,
    statusAddress: config.server.advertiseStatusAddr || server.statusAddress,
    labels: Object.entries(config.server.labels).map(([key, value]) => ({ key, value })),
    version: storeVersion(),
    startTimestamp: Math.floor(clock.wallMs() / 1000),
    deployPath: process.cwd(),
  });
}
