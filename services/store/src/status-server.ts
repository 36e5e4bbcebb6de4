/**
 * The store's HTTP status server (node:http), like TiKV's status port:
 * - `GET /metrics`: Prometheus text (prom-client registry plus whatever the raftstore adds);
 * - `GET /status`: JSON about the store (id, addresses, version, uptime, regions, state);
 * - `GET /ready`: 200 while serving, 503 before that and while shutting down (for harnesses and
 *   load balancers).
 * Anything else is 404 (405 for methods other than GET/HEAD). A failure while building a response
 * answers 500 and is logged; it never takes the process down.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@mrkv/common';
import { StoreError, StoreErrorCodes } from './errors.js';

/** What the status endpoints show. */
export interface StatusSource {
  /** The /status document. */
  status(): Record<string, unknown>;
  /** True while the store serves requests. */
  ready(): boolean;
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
  readonly metricsContentType: string;
}

export interface StatusServer {
  /** The bound address, `host:port`. */
  readonly address: string;
  close(): Promise<void>;
}

/** Starts the status server on `addr` (`host:port`; port 0 picks a free one). */
export async function startStatusServer(addr: string, source: StatusSource, logger: Logger): Promise<StatusServer> {
  const { host, port } = splitHostPort(addr);
  const server = createServer((req, res) => {
    handle(req, res, source).catch((err: unknown) => {
      logger.error({ err, url: req.url }, 'status request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new StoreError(StoreErrorCodes.BIND_FAILED, `cannot listen on status address ${addr}: ${err.message}`, { cause: err }));
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
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' });
    res.end('method not allowed\n');
    return;
  }
  switch (path) {
    case '/metrics': {
      const body = await source.metrics();
      res.writeHead(200, { 'content-type': source.metricsContentType });
      res.end(body);
      return;
    }
    case '/status': {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(source.status()) + '\n');
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

/** Splits `host:port` (`[v6]:port` too). */
export function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(addr.slice(i + 1)) };
}

/** `host:port`, bracketing IPv6 hosts. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
