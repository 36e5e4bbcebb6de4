/**
 * The boundary between the process shell and the raftstore it runs: what the shell needs from
 * the engines and the raftstore, in the order it uses them. The raftstore package provides the
 * implementation (a factory of type `OpenRaftstoreBackend`); tests use an in-memory one.
 *
 * 1. `OpenRaftstoreBackend` opens the engines in the data directory (kv/, raft/<n>/, snap/).
 * 2. The shell bootstraps through `backend.bootstrap` (bootstrap.ts).
 * 3. `backend.start` starts the raft and apply systems with this process's transport and PD.
 * 4. On shutdown: `raftstore.stop()`, then `backend.close()` (engines).
 */
import type { Logger } from '@mrkv/common';
import type { PdApi, RaftMessageSink, RaftTransport, RaftstoreConfig, RawKvApi, StoreStats } from '@mrkv/raftstore';
import type { StoreConfig } from '../config.js';
import type { BootstrapEngines } from './bootstrap.js';
import type { DataDirLayout } from './data-dir.js';

/** A running raftstore, as the shell drives it. */
export interface RunningRaftstore {
  readonly rawKv: RawKvApi;
  readonly raftSink: RaftMessageSink;
  /** The transport reports a store it could not reach (raft's reportUnreachable for its peers). */
  onStoreUnreachable(storeId: number): void;
  /** Regions hosted (shown on /status). */
  regionCount(): number;
  /** The raftstore's part of the store heartbeat (region and snapshot counts, flow, busy). */
  storeStats(): Partial<StoreStats>;
  /** Prometheus text of the raftstore's own metrics, appended to /metrics. */
  metricsText?(): string | Promise<string>;
  /** Stops the raft and apply systems (pending proposals fail); engines stay open. */
  stop(): Promise<void>;
}

/** Opened engines, before the raftstore starts. */
export interface RaftstoreBackend {
  readonly bootstrap: BootstrapEngines;
  start(deps: RaftstoreStartDeps): Promise<RunningRaftstore>;
  /** Closes the engines (after `stop`). */
  close(): Promise<void>;
}

export interface RaftstoreStartDeps {
  readonly storeId: number;
  readonly clusterId: number;
  readonly transport: RaftTransport;
  readonly pd: PdApi;
  readonly logger: Logger;
}

/** What a backend factory is given. */
export interface OpenRaftstoreBackendArgs {
  /** The raftstore's config (`raftstoreConfigOf(store)`). */
  readonly config: RaftstoreConfig;
  readonly layout: DataDirLayout;
  readonly logger: Logger;
  /** This store's id (known before the engines open). */
  readonly storeId: number;
  /** The whole process config (`raftstore.thread`, log settings for a raftstore thread). */
  readonly store: StoreConfig;
}

/** Opens the engines of a data directory (the raftstore's factory). */
export type OpenRaftstoreBackend = (args: OpenRaftstoreBackendArgs) => Promise<RaftstoreBackend>;
