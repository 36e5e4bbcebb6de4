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
