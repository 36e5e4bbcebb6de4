/**
 * @mrkv/store-server: the store process's gRPC layer and operations shell. The `tikvpb.Tikv`
 * service (RawKV, BatchCommands, the raft receive side), the outbound raft transport (BatchRaft
 * streams and snapshots), the status server, config and flags. The `mrkv-store` binary is main.ts;
 * this index is for embedders (the lead's raftstore wiring, tools and cross-process tests).
 */
export { StoreErrorCodes, StoreError } from './errors.js';
export type { StoreErrorCode } from './errors.js';

export { storeConfigSchema, loadStoreConfig, defaultStoreConfig, raftstoreConfigOf } from './config.js';
export type { StoreConfig, LimitsConfig, TransportConfig, ServerConfig } from './config.js';
export { parseStoreArgs, storeCommand, STORE_FLAGS } from './cli.js';
export type { StoreArgs, CliOutput } from './cli.js';

export { startStoreServer } from './server.js';
export type { StoreServer, StoreServerOptions } from './server.js';
export { StoreMetrics } from './metrics.js';
export type { StoreMetricsOptions } from './metrics.js';
export { storeVersion } from './version.js';

export { storeServiceDefinition } from './service/tikv-service.js';
export type { RequestLimits } from './service/validate.js';

export { RaftClient, SNAPSHOT_PATH } from './transport/raft-client.js';
export type { RaftClientOptions } from './transport/raft-client.js';
export { BATCH_RAFT_PATH } from './transport/store-connection.js';
export type { ConnectionState, DropReason } from './transport/store-connection.js';
export { PdStoreResolver, StaticResolver } from './transport/resolver.js';
export type { StoreAddressResolver } from './transport/resolver.js';
export { encodeBatchRaftFrame, splitBatchRaftFrame, encodeSnapshotChunk, decodeSnapshotChunk } from './transport/frame.js';
export type { SnapshotChunkParts } from './transport/frame.js';
export { Backoff } from './transport/backoff.js';

// The process shell: what the raftstore wiring implements (backend, bootstrap helpers) and uses.
export { runStore } from './process/run-store.js';
export type { RunStoreDeps, RunningStore } from './process/run-store.js';
export { storeMain } from './process/main-flow.js';
export type { StoreWiring } from './process/main-flow.js';
export type { OpenRaftstoreBackend, RaftstoreBackend, RaftstoreStartDeps, RunningRaftstore } from './process/backend.js';
export type { BootstrapEngines, RetryPolicy, BootstrapOutcome } from './process/bootstrap.js';
export type { StorePd, ConnectPd } from './process/pd.js';
export { DataDir, dataDirLayout, raftEngineDir } from './process/data-dir.js';
export type { DataDirLayout } from './process/data-dir.js';
export { readStoreIdent, writeStoreIdent } from './process/store-ident.js';
export type { StoreIdent } from './process/store-ident.js';
export { StoreHeartbeater } from './process/heartbeat.js';
export { GrpcStorePd, connectGrpcPd, heartbeatResponseFromWire } from './process/pd-grpc.js';
export type { GrpcPdOptions } from './process/pd-grpc.js';
