/**
 * @mrkv/pd: the placement driver's logic, free of transport. The region tree, store states, the
 * id allocator and TSO with bounds persisted ahead, metadata in a `KvEngine`, and scheduling:
 * operators with step tracking, the replica and merge checkers, balance-leader, balance-region
 * and hot-region schedulers, and the region scatterer. `PlacementDriver` opens them together;
 * services/pd serves it over gRPC. See README.md.
 */
export { PlacementDriver, REGION_CHECKS, MAX_SCATTER_IDS } from './pd.js';
export type { PlacementDriverOptions, AdminOperatorRequest, RegionCheck, ClusterHealth, ScatterRequest } from './pd.js';
export { PdErrorCodes, PdError, isPdError, pdErrorType } from './errors.js';
export type { PdErrorCode } from './errors.js';
export {
  DEFAULT_SCHEDULE_CONFIG,
  CONFIG_ITEMS,
  parseDurationMs,
  formatDurationMs,
  configItem,
  formatConfigValue,
  withConfigValue,
  normalizeConfig,
} from './config.js';
export type { ScheduleConfig, ConfigItemSpec } from './config.js';
export { RegionTree, rangesOverlap } from './core/region-tree.js';
export type { PutResult } from './core/region-tree.js';
export { NO_FLOW, regionInfoFromMeta, peerOnStore, voters, learners, isPending, isDownPeer, sizeMib, writeRate } from './core/region-info.js';
export type { RegionInfo, RegionFlow, DownPeer } from './core/region-info.js';
export { storeStatus, acceptsNewPeers, needsReplacement } from './core/store-info.js';
export type { StoreInfo, StoreStats, StoreStatus } from './core/store-info.js';
export { Cluster } from './cluster/cluster.js';
export type { ClusterOptions, HeartbeatResult, StoreLoad } from './cluster/cluster.js';
export { MetaStorage } from './storage/meta-storage.js';
export type { ClusterRecord } from './storage/meta-storage.js';
export { IdAllocator, ID_STEP } from './id/id-allocator.js';
export { Tso, composeTs, parseTs, LOGICAL_BITS, MAX_LOGICAL, TSO_SAVE_INTERVAL_MS } from './tso/tso.js';
export type { Timestamp, TsoOptions } from './tso/tso.js';
export { Operator, describeStep, isStepFinished, stepCommand, isSlowStep } from './schedule/operator.js';
export { scatterOperator } from './schedule/builder.js';
export type { OpStep, OperatorCommand, HeartbeatCommand, OperatorKind, OperatorStatus, OperatorInit, SplitPolicy } from './schedule/operator.js';
export { OperatorController, OPERATOR_HISTORY } from './schedule/operator-controller.js';
export type { OperatorControllerOptions } from './schedule/operator-controller.js';
export { Coordinator } from './schedule/coordinator.js';
export type { SchedulerEntry } from './schedule/coordinator.js';
export { REPLICA_CHECKER } from './schedule/checkers/replica-checker.js';
export { MERGE_CHECKER } from './schedule/checkers/merge-checker.js';
export { BALANCE_LEADER } from './schedule/schedulers/balance-leader.js';
export { BALANCE_REGION } from './schedule/schedulers/balance-region.js';
export { HOT_REGION } from './schedule/schedulers/hot-region.js';
export { RegionScatterer, SCATTER_SOURCE, SCATTER_GROUP_TTL_MS, MAX_SCATTER_GROUPS } from './schedule/scatter/scatterer.js';
export type { ScatterOutcome, ScatterSkip, ScatterSkipCode, RegionScattererOptions } from './schedule/scatter/scatterer.js';
export { ScatterGroup, pickScatterPlacement, samePlacement } from './schedule/scatter/placement.js';
export type { ScatterPlacement } from './schedule/scatter/placement.js';
