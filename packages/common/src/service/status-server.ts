/**
 * A service's HTTP status server (node:http), like TiKV's and PD's status port:
 * - `GET /metrics`: Prometheus text exposition (`source.metrics()`);
 * - `GET /status`: the JSON document `source.status()` builds (id, addresses, version, uptime…);
 * - `GET /ready`: 200 `ready` while the service serves, 503 `not ready` before that and while it
 *   shuts down (for harnesses and load balancers).
 * `HEAD` answers like `GET`. Anything else is 404 (405 for methods other than GET/HEAD). A failure
 * while building a response answers 500 and is logged; it never takes the process down.
 *
 * Both `mrkv-pd` and `mrkv-store` serve their status port with this; each passes its own typed
 * bind error (`PD:server:ErrBindFailed`, `KV:Server:BindFailed`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import { joinHostPort, splitHostPort } from './host-port.js';

/** What the status endpoints show. */
export interface StatusSource {
  /** The /status document. */
  status(): Record<string, unknown>;
  /** True while the service serves requests. */
  ready(): boolean;
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
  /** The content type of `metrics()` (prom-client's `registry.contentType`). */
  readonly metricsContentType: string;
}

/** A listening status server. */
export interface StatusServer {
  /** The bound address, `host:port` (the real port when the configured one was 0). */
  readonly address: string;
  /** Stops listening and cuts open connections (keep-alive scrapers included). */
  close(): Promise<void>;
}

/** How the status server is started. */
export interface StatusServerOptions {
  /** Receives request failures (`status request failed`) and server errors after start. */
  readonly logger: Logger;
  /**
   * Builds the typed error `startStatusServer` rejects with when `addr` cannot be bound (in use,
   * bad host). `message` reads `cannot listen on status address <addr>: <reason>`.
   */
  readonly bindError: (message: string, cause: Error) => Error;
}

/** Starts the status server on `addr` (`host:port`; port 0 picks a free one). */
export async function startStatusServer(addr: string, source: StatusSource, opts: StatusServerOptions): Promise<StatusServer> {
  const { logger } = opts;
  const { host, port } = splitHostPort(addr);
  const server = createServer((req, res) => {
    handle(req, res, source).catch((err: unknown) => {
      logger.error({ err, url: req.url }, 'status request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(opts.bindError(`cannot listen on status address ${addr}: ${err.message}`, err));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'status server error'));
  const bound = server.address() as AddressInfo;
  return {
    address: joinHostPort(host, bound.port),
    close: () => closeServer(server),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, source: StatusSource): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' });
    res.end('method not allowed\n');
    return;
  }
  switch ((req.url ?? '/').split('?')[0]) {
    case '/metrics': {
      const body = await source.metrics();
      res.writeHead(200, { 'content-type': source.metricsContentType });
      res.end(body);
      return;
    }
    case '/status': {
      // Built before the head goes out, so that a failing source still answers 500.
      const body = JSON.stringify(source.status()) + '\n';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
      return;
    }
    case '/ready': {
      const ready = source.ready();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ready ? 'ready\n' : 'not ready\n');
      return;
    }
    default:
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found; try /metrics, /status or /ready\n');
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
