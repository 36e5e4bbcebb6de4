/**
 * @mrkv/raftstore: Region peers driven by a raft batch system and an apply batch system
 * (raftstore-v2 shape: state records in `peer/`, one module per operation in `operation/`,
 * thin FSM dispatchers in `fsm/`, background runners in `worker/`).
 */
export {
  Poller,
  defaultPollerConfig,
  immediateScheduler,
  SimScheduler,
  LocalRouter,
  WorkerRouter,
  isRouteUp,
  ThreadBatchSystem,
  runBatchWorker,
} from './batch/index.js';
export type {
  PollHandler,
  PollerConfig,
  PollerStats,
  Scheduler,
  SimTimer,
  SimSchedulerOptions,
  FsmRouter,
  RouteUp,
  ThreadBatchSystemOptions,
  BatchWorkerContext,
  BatchWorkerSetup,
} from './batch/index.js';

export { makeRaftstoreConfig, validateRaftstoreConfig, testRaftstoreConfig, raftstoreConfigSchema } from './config.js';
export type { RaftstoreConfig } from './config.js';
export { Lease, LeaseState } from './lease/lease.js';
export { LeaseTable, LeaseSlots, LeaseFlags } from './lease/lease-table.js';
export type { LeaseView, LeaseUpdate } from './lease/lease-table.js';
export { RegionIndex, keyInRange, rangesOverlap } from './store/region-index.js';
export type {
  KvPair,
  RawScanOptions,
  RawCasOptions,
  RawCasResult,
  RawKvApi,
  RaftMessageSink,
  RaftTransport,
  StoreStats,
  RegionHeartbeat,
  PdOperator,
  PdHeartbeatResponse,
  PdApi,
} from './store/api.js';

export { Raftstore, realTimers } from './store/raftstore.js';
export type { RaftstoreOptions, Timers } from './store/raftstore.js';
export { RaftstoreRawKv } from './store/raw-kv.js';
export { DISK_USAGES, diskUsageOf, diskThresholds, defaultReserveSpace } from './operation/disk-usage.js';
export type { DiskUsage, DiskFullOpt, DiskSpace, DiskSpaceReading } from './operation/disk-usage.js';
export { bootstrapEngines, writeInitialRegion } from './store/bootstrap.js';
export { StoreMeta } from './store/meta.js';
export { ObserverRegistry } from './store/observer.js';
export type { RaftstoreObserver } from './store/observer.js';
export { encodeStoreRaftMessage, decodeStoreRaftMessage } from './wire/raft-message.js';
export type { StoreRaftMessage } from './wire/raft-message.js';
export { encodeRaftCmd, decodeRaftCmd } from './wire/raft-cmd.js';
export type { RaftCmd, DataRequest, AdminCmd, PeerChange, SplitSpec, ChangeType } from './wire/raft-cmd.js';
export type { PeerMsg, ApplyMsg, CmdResult, ExecResult } from './fsm/msgs.js';
