/**
 * The raftstore behind `mrkv-store`: the kv engine (`kv/`) and the raft-log engine (`raft/0/`) of
 * the data directory on RocksDB, with `@mrkv/raftstore` on them, the process's transport and PD
 * client. Where it runs is `raftstore.thread`:
 *
 * - `worker`: engines and raftstore on one worker thread (raftstore-thread.ts); main keeps gRPC,
 *   PD, the transport and heartbeats. A dying thread ends the process (exit 1).
 * - `main` (default, see config.ts): everything on the main thread, next to gRPC (below).
 *
 * Either way an engine is opened, used and closed by one thread only, and closed after the
 * raftstore stopped.
 *
 * Fault injection for tests (failpoints.ts): `MRKV_FAILPOINTS` (a RawPut of a key crashing the
 * raftstore thread in worker mode; disk-full, slow-fsync and crash points of both engines in
 * either mode) and `MRKV_FAILPOINTS_WATCH=1` (disk failpoints switched at runtime by the file
 * `<data-dir>/failpoints`).
 */
import { systemClock, type MrkvError } from '@mrkv/common';
import { openRocksKvEngine, openRocksRaftLogEngine } from '@mrkv/engine';
import { bootstrapEngines, Raftstore, RaftstoreRawKv } from '@mrkv/raftstore';
import type { OpenRaftstoreBackend, OpenRaftstoreBackendArgs, RaftstoreBackend, RunningRaftstore } from './backend.js';
import { raftEngineDir } from './data-dir.js';
import { StatfsDiskSpace } from './disk-space.js';
import { failpointsFromEnv, openDiskFailpoints } from './failpoints.js';
import { exitOnThreadFailure, openRaftstoreThread } from './raftstore-thread.js';
import type { RaftstoreThreadFailpoints } from './thread-protocol.js';

/** Options of {@link raftstoreBackend}. */
export interface RaftstoreBackendOptions {
  /** What a dying raftstore thread does to the process (default: exit 1, after the fatal log line). */
  readonly onThreadFailure?: (err: MrkvError) => void;
  /** Fault injection (default: from `MRKV_FAILPOINTS` and `MRKV_FAILPOINTS_WATCH`, failpoints.ts). */
  readonly failpoints?: RaftstoreThreadFailpoints;
}

/** The RocksDB raftstore factory, running where `raftstore.thread` says. */
export function raftstoreBackend(o: RaftstoreBackendOptions = {}): OpenRaftstoreBackend {
  return async (args) => {
    const failpoints = o.failpoints ?? failpointsFromEnv(process.env, args.layout);
    if (args.store.raftstore.thread === 'main') return openMainThreadBackend(args, failpoints);
    return openRaftstoreThread({
      config: args.config,
      layout: args.layout,
      storeId: args.storeId,
      log: args.store.log,
      logger: args.logger,
      onFailure: o.onThreadFailure ?? exitOnThreadFailure,
      snapChunkSize: args.store.transport.snapChunkSize,
      hungAfterMs: args.store.raftstore.threadHungMs,
      ...(failpoints ? { failpoints } : {}),
    });
  };
}

/** The production factory (what main.ts wires). */
export const openRaftstoreBackend: OpenRaftstoreBackend = raftstoreBackend();

/** Engines and raftstore on the calling (main) thread. */
async function openMainThreadBackend({ config, layout, logger }: OpenRaftstoreBackendArgs, fp: RaftstoreThreadFailpoints | undefined): Promise<RaftstoreBackend> {
  const disk = openDiskFailpoints(fp, logger.child({ component: 'failpoints' }));
  let kv;
  let raft;
  try {
    kv = await openRocksKvEngine({ path: layout.kvDir, logger, failpoints: disk.failpoints });
    try {
      raft = await openRocksRaftLogEngine({ path: raftEngineDir(layout, 0), logger, failpoints: disk.failpoints });
    } catch (err) {
      await kv.close();
      throw err;
    }
  } catch (err) {
    disk.stop();
    throw err;
  }
  const kvEngine = kv;
  const raftEngine = raft;
  const diskSpace = new StatfsDiskSpace({ path: layout.root, logger, failpoints: disk.failpoints });
  return {
    bootstrap: bootstrapEngines(kvEngine, raftEngine),
    async start(deps): Promise<RunningRaftstore> {
      await diskSpace.start();
      const store = new Raftstore({
        storeId: deps.storeId,
        cfg: config,
        kvEngine,
        raftEngine,
        transport: deps.transport,
        pd: deps.pd,
        logger: deps.logger.child({ component: 'raftstore' }),
        clock: systemClock,
        diskSpace,
      });
      await store.start();
      return {
        rawKv: new RaftstoreRawKv(store),
        raftSink: store,
        onStoreUnreachable: (id) => store.onStoreUnreachable(id),
        regionCount: () => store.regionCount(),
        storeStats: () => store.storeStats(),
        metricsText: () => store.metricsText(),
        stop: () => store.stop(),
      };
    },
    async close(): Promise<void> {
      diskSpace.stop();
      disk.stop();
      await raftEngine.close();
      await kvEngine.close();
    },
  };
}
