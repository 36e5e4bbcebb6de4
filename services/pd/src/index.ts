/**
 * @mrkv/pd-server: the `mrkv-pd` process as a library (tests start it in process): config and
 * flags, `runPd`, the gRPC service handlers and the wire conversions.
 */
export { runPd, KEEPALIVE_INTERVAL_MS } from './run-pd.js';
export type { RunPdOptions, RunningPd } from './run-pd.js';
export { loadPdConfig, scheduleOverrides } from './config.js';
export type { PdConfig } from './config.js';
export { parsePdArgs, pdCommand, PD_FLAGS } from './cli.js';
export type { PdArgs, CliOutput } from './cli.js';
export { pdHandlers } from './pd-service.js';
export type { PdServiceDeps } from './pd-service.js';
export { adminHandlers, adminStatus } from './admin-service.js';
export type { AdminServiceDeps } from './admin-service.js';
export { HeartbeatStreams } from './heartbeat-streams.js';
export { PdMetrics } from './metrics.js';
export { PdServerCodes, PdServerError } from './errors.js';
export type { PdServerCode } from './errors.js';
export { pdMain } from './main-flow.js';
