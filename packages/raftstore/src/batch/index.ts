/**
 * The generic batch system (TiKV `components/batch-system`): FSMs with mailboxes, pollers that
 * handle every FSM with mail in rounds with one batched `end`, routers, and two executors —
 * worker threads (production) and a deterministic single-thread scheduler (tests, simulation).
 * It knows nothing of Raft; the raft and apply systems are built on it.
 */
export { Poller, defaultPollerConfig } from './poller.js';
export type { PollHandler, PollerConfig, PollerStats } from './poller.js';
export { immediateScheduler } from './scheduler.js';
export type { Scheduler } from './scheduler.js';
export { SimScheduler } from './sim-scheduler.js';
export type { SimTimer, SimSchedulerOptions } from './sim-scheduler.js';
export { LocalRouter, WorkerRouter, isRouteUp } from './router.js';
export type { FsmRouter, RouteUp } from './router.js';
export { ThreadBatchSystem } from './thread-system.js';
export type { ThreadBatchSystemOptions } from './thread-system.js';
export { runBatchWorker } from './thread-worker.js';
export type { BatchWorkerContext, BatchWorkerSetup } from './thread-worker.js';
