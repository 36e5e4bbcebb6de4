/**
 * PD's HTTP status server (node:http): `GET /metrics` (Prometheus), `GET /status` (JSON: name,
 * cluster id, bootstrap state, addresses, uptime, health), `GET /ready` (200 while serving, 503
 * before and during shutdown). Anything else is 404 (405 for other methods). A failure while
 * building a response answers 500 and is logged; it never takes the process down.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@mrkv/common';
import { PdServerError, PdServerCodes } from './errors.js';

export interface StatusSource {
  status(): Record<string, unknown>;
  ready(): boolean;
  metrics(): Promise<string>;
  readonly metricsContentType: string;
}

export interface StatusServer {
  /** The bound address, `host:port`. */
  readonly address: string;
  close(): Promise<void>;
}

/** Splits `host:port` (`[v6]:port` too). */
export function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(addr.slice(i + 1)) };
}

/** `host:port`, bracketing IPv6 hosts. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

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
    const onError = (err: Error) => reject(new PdServerError(PdServerCodes.BIND_FAILED, `cannot listen on status address ${addr}: ${err.message}`, { cause: err }));
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
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
    case '/status':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(source.status()) + '\n');
      return;
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
