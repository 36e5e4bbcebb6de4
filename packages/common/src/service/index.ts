/**
 * `@mrkv/common/service`: the plumbing every mrkv service process shares — the status HTTP server
 * (/metrics, /status, /ready), the per-instance Prometheus registry its metrics live on, the main
 * flow (signals, graceful shutdown, exit codes) and `host:port` helpers. Node built-ins and
 * prom-client only; a separate entry point so that packages importing `@mrkv/common` (the pure
 * Raft core among them) never load node:http or prom-client.
 */
export { splitHostPort, joinHostPort } from './host-port.js';
export { startStatusServer } from './status-server.js';
export type { StatusSource, StatusServer, StatusServerOptions } from './status-server.js';
export { MetricsRegistry } from './metrics-registry.js';
export type { MetricOptions } from './metrics-registry.js';
export { runServiceMain } from './service-main.js';
export type { RootLogger, ServiceArgs, RunningService, ServiceMainSpec, ProcessHost } from './service-main.js';
