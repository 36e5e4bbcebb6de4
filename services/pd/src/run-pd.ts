/**
 * Starting and stopping one PD member: open the metadata engine in `<data-dir>/meta`, open the
 * PlacementDriver over it, serve `pdpb.PD` and `mrkv.pdadmin.PdAdmin` on `client-urls`, the
 * status server on `status-addr`, and run the coordinator every `tick-interval-ms`.
 *
 * Shutdown (SIGTERM): not ready → timers stop → heartbeat streams end → the gRPC server drains
 * in-flight calls (up to `graceful-shutdown-timeout-ms`, then forced) → status server closes →
 * metadata synced and the engine closed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { systemClock, type Clock, type Logger } from '@mrkv/common';
import { joinHostPort, splitHostPort, startStatusServer } from '@mrkv/common/service';
import { openRocksKvEngine, type KvEngine } from '@mrkv/engine';
import { PlacementDriver } from '@mrkv/pd';
import { pdAdminService, pdService } from '@mrkv/proto';
import { adminHandlers } from './admin-service.js';
import { scheduleOverrides, type PdConfig } from './config.js';
import { PdServerCodes, PdServerError } from './errors.js';
import { HeartbeatStreams } from './heartbeat-streams.js';
import { PdMetrics } from './metrics.js';
import { pdHandlers } from './pd-service.js';
import { pdVersion } from './version.js';

/** How often a header-only keep-alive goes to every heartbeat stream (PD: 60 s). */
export const KEEPALIVE_INTERVAL_MS = 60_000;

export interface RunPdOptions {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Use this engine instead of RocksDB in the data dir (tests). The caller closes it. */
  readonly engine?: KvEngine;
  /** Collect Node process metrics (off in tests). */
  readonly processMetrics?: boolean;
}

export interface RunningPd {
  /** The bound gRPC address (`host:port`). */
  readonly address: string;
  readonly statusAddress: string;
  readonly pd: PlacementDriver;
  /** Graceful stop; idempotent. */
  stop(): Promise<void>;
}

export async function runPd(cfg: PdConfig, opts: RunPdOptions): Promise<RunningPd> {
  const logger = opts.logger;
  const clock = opts.clock ?? systemClock;
  const startedAt = clock.nowMs();
  let engine = opts.engine;
  if (engine === undefined) {
    try {
      mkdirSync(cfg.dataDir, { recursive: true });
      engine = await openRocksKvEngine({ path: join(cfg.dataDir, 'meta'), logger });
    } catch (cause) {
      throw new PdServerError(PdServerCodes.DATA_DIR, `cannot open the PD data directory ${cfg.dataDir}: ${(cause as Error).message}`, { cause, details: { dataDir: cfg.dataDir } });
    }
  }
  const ownsEngine = opts.engine === undefined;
  try {
    const pd = await PlacementDriver.open({ engine, clock, logger, configOverrides: scheduleOverrides(cfg) });
    return await serve(cfg, pd, engine, ownsEngine, { logger, clock, startedAt, processMetrics: opts.processMetrics ?? false });
  } catch (e) {
    if (ownsEngine) await engine.close();
    throw e;
  }
}

async function serve(
  cfg: PdConfig,
  pd: PlacementDriver,
  engine: KvEngine,
  ownsEngine: boolean,
  o: { logger: Logger; clock: Clock; startedAt: number; processMetrics: boolean },
): Promise<RunningPd> {
  const { logger } = o;
  const metrics = new PdMetrics(pd, { processMetrics: o.processMetrics });
  const streams = new HeartbeatStreams(pd.cluster.clusterId, logger);
  pd.operators.dispatch = (cmd) => {
    if (streams.send(cmd)) metrics.commandsSent.inc({ kind: cmd.command.kind });
  };
  pd.operators.onFinish = (op) => metrics.operatorsFinished.inc({ kind: op.kind, status: op.status });

  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 << 20 });
  const bindAddr = cfg.clientUrls;
  // The advertised address is only known after binding (port 0); handlers read it lazily.
  const member = { name: cfg.name, clientUrl: '' };
  server.addService(pdService(), pdHandlers({ pd, member, streams, metrics, logger }));
  server.addService(pdAdminService(), adminHandlers({ pd, member, logger }));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(bindAddr, grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(new PdServerError(PdServerCodes.BIND_FAILED, `cannot listen on ${bindAddr}: ${e.message}`, { cause: e })) : resolve(p),
    ),
  );
  const address = joinHostPort(splitHostPort(bindAddr).host, port);
  member.clientUrl = cfg.advertiseClientUrls === '' ? address : cfg.advertiseClientUrls;

  let ready = false;
  let status;
  try {
    status = await startStatusServer(
      cfg.statusAddr,
      {
        ready: () => ready,
        ...metrics.statusMetrics(),
        status: () => ({
          name: cfg.name,
          version: pdVersion(),
          clusterId: String(pd.cluster.clusterId),
          bootstrapped: pd.cluster.bootstrapped,
          clientUrl: member.clientUrl,
          dataDir: cfg.dataDir,
          uptimeMs: Math.round(o.clock.nowMs() - o.startedAt),
          health: pd.health(),
          heartbeatStreams: streams.storeIds,
        }),
      },
      { logger, bindError: (message, cause) => new PdServerError(PdServerCodes.BIND_FAILED, message, { cause }) },
    );
  } catch (e) {
    server.forceShutdown();
    throw e;
  }

  const ticker = setInterval(() => void pd.coordinator.tick(), cfg.tickIntervalMs);
  const keepalive = setInterval(() => streams.keepalive(), KEEPALIVE_INTERVAL_MS);
  ready = true;
  logger.info({ address, advertise: member.clientUrl, statusAddress: status.address, clusterId: String(pd.cluster.clusterId), dataDir: cfg.dataDir }, 'mrkv-pd is ready');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      ready = false;
      clearInterval(ticker);
      clearInterval(keepalive);
      streams.closeAll();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          logger.warn({ timeoutMs: cfg.gracefulShutdownTimeoutMs }, 'gRPC calls still running at the shutdown deadline: forcing');
          server.forceShutdown();
          resolve();
        }, cfg.gracefulShutdownTimeoutMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await status.close();
      await pd.close();
      if (ownsEngine) await engine.close();
      logger.info({}, 'mrkv-pd stopped');
    })());
  return { address, statusAddress: status.address, pd, stop };
}
