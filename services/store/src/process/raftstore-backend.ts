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
 * Fault injection for tests: `MRKV_FAILPOINTS=raftstore-thread-crash-on-put=<key hex>` makes a
 * RawPut of that key crash the raftstore thread (worker mode).
 */
import { CommonCodes, MrkvError, systemClock } from '@mrkv/common';
import { openRocksKvEngine, openRocksRaftLogEngine } from '@mrkv/engine';
import { bootstrapEngines, Raftstore, RaftstoreRawKv } from '@mrkv/raftstore';
import type { OpenRaftstoreBackend, OpenRaftstoreBackendArgs, RaftstoreBackend, RunningRaftstore } from './backend.js';
import { raftEngineDir } from './data-dir.js';
import { exitOnThreadFailure, openRaftstoreThread } from './raftstore-thread.js';
import type { RaftstoreThreadFailpoints } from './thread-protocol.js';

/** Options of {@link raftstoreBackend}. */
export interface RaftstoreBackendOptions {
  /** What a dying raftstore thread does to the process (default: exit 1, after the fatal log line). */
  readonly onThreadFailure?: (err: MrkvError) => void;
  /** Fault injection (default: parsed from `MRKV_FAILPOINTS`). */
  readonly failpoints?: RaftstoreThreadFailpoints;
}

/** The RocksDB raftstore factory, running where `raftstore.thread` says. */
export function raftstoreBackend(o: RaftstoreBackendOptions = {}): OpenRaftstoreBackend {
  return async (args) => {
    if (args.store.raftstore.thread === 'main') return openMainThreadBackend(args);
    const failpoints = o.failpoints ?? parseFailpoints(process.env.MRKV_FAILPOINTS);
    return openRaftstoreThread({
      config: args.config,
      layout: args.layout,
      storeId: args.storeId,
      log: args.store.log,
      logger: args.logger,
      onFailure: o.onThreadFailure ?? exitOnThreadFailure,
      snapChunkSize: args.store.transport.snapChunkSize,
      ...(failpoints ? { failpoints } : {}),
    });
  };
}

/** The production factory (what main.ts wires). */
export const openRaftstoreBackend: OpenRaftstoreBackend = raftstoreBackend();

/**
 * `MRKV_FAILPOINTS`: `name=value` pairs separated by `;`. Known: `raftstore-thread-crash-on-put`
 * (hex key). Anything else is an error naming it, so a typo never silently disables a test's fault.
 */
export function parseFailpoints(spec: string | undefined): RaftstoreThreadFailpoints | undefined {
  if (spec === undefined || spec.trim() === '') return undefined;
  const out: { crashOnPutKey?: string } = {};
  for (const item of spec.split(';').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    if (name === 'raftstore-thread-crash-on-put' && /^([0-9a-f]{2})+$/i.test(value)) out.crashOnPutKey = value.toLowerCase();
    else throw new MrkvError(CommonCodes.INVALID_CONFIG, `MRKV_FAILPOINTS: unknown or malformed failpoint ${JSON.stringify(item)}`);
  }
  return out;
}

/** Engines and raftstore on the calling (main) thread. */
async function openMainThreadBackend({ config, layout, logger }: OpenRaftstoreBackendArgs): Promise<RaftstoreBackend> {
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
}
