/**
 * The raftstore behind `mrkv-store`: opens the kv engine (`kv/`) and the raft-log engine
 * (`raft/0/`) of the data directory with RocksDB, and starts `@mrkv/raftstore` on them with the
 * process's transport and PD client. Engines are closed after the raftstore stopped.
 */
import { systemClock } from '@mrkv/common';
import { openRocksKvEngine, openRocksRaftLogEngine } from '@mrkv/engine';
import { bootstrapEngines, Raftstore, RaftstoreRawKv } from '@mrkv/raftstore';
import type { OpenRaftstoreBackend, RunningRaftstore } from './backend.js';
import { raftEngineDir } from './data-dir.js';

export const openRaftstoreBackend: OpenRaftstoreBackend = async ({ config, layout, logger }) => {
  const kv = await openRocksKvEngine({ path: layout.kvDir, logger });
  let raft;
  try {
    raft = await openRocksRaftLogEngine({ path: raftEngineDir(layout, 0), logger });
  } catch (err) {
    await kv.close();
    throw err;
  }
  const raftEngine = raft;
  return {
    bootstrap: bootstrapEngines(kv, raftEngine),
    async start(deps): Promise<RunningRaftstore> {
      const store = new Raftstore({
        storeId: deps.storeId,
        cfg: config,
        kvEngine: kv,
        raftEngine,
        transport: deps.transport,
        pd: deps.pd,
        logger: deps.logger.child({ component: 'raftstore' }),
        clock: systemClock,
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
      await raftEngine.close();
      await kv.close();
    },
  };
};
