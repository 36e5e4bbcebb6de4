import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { MrkvError } from '../errors.js';
import type { Logger } from '../logger.js';
import { noopLogger } from '../logger.js';
import { splitHostPort, joinHostPort } from './host-port.js';
import { MetricsRegistry } from './metrics-registry.js';
import { startStatusServer, type StatusServer, type StatusSource } from './status-server.js';

/** A logger that records error lines (the only level the status server writes). */
function recordingLogger(): Logger & { errors: Array<{ obj: Record<string, unknown>; msg?: string }> } {
  const errors: Array<{ obj: Record<string, unknown>; msg?: string }> = [];
  const rec = {
    ...noopLogger,
    errors,
    error: (obj: Record<string, unknown> | string, msg?: string) => void errors.push(typeof obj === 'string' ? { obj: {}, msg: obj } : { obj, msg }),
    child: () => rec,
  } as Logger & { errors: typeof errors };
  return rec;
}

class TestMetrics extends MetricsRegistry {
  readonly hits = this.counter({ name: 'test_hits_total', help: 'Hits, by kind', labelNames: ['kind'] as const });
  readonly depth = this.gauge({
    name: 'test_depth',
    help: 'Depth, collected on scrape',
    collect() {
      this.set(7);
    },
  });
  readonly latency = this.histogram({ name: 'test_latency_seconds', help: 'Latency', buckets: [0.1, 1] });
}

function get(addr: string, path: string, method = 'GET'): Promise<{ status: number; type: string | undefined; body: string; allow: string | undefined }> {
  const { host, port } = splitHostPort(addr);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body, allow: res.headers.allow }));
    });
    req.on('error', reject);
    req.end();
  });
}

const bindError = (message: string, cause: Error) => new MrkvError('Test:BindFailed', message, { cause });

describe('status server', () => {
  const servers: StatusServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function start(source: StatusSource, logger: Logger = noopLogger): Promise<StatusServer> {
    const s = await startStatusServer('127.0.0.1:0', source, { logger, bindError });
    servers.push(s);
    return s;
  }

  it('serves /status, /ready and /metrics from its source, with the registry and extra text', async () => {
    const metrics = new TestMetrics();
    metrics.hits.inc({ kind: 'a' }, 3);
    metrics.latency.observe(0.5);
    let ready = false;
    const s = await start({ status: () => ({ id: 4, state: 'serving' }), ready: () => ready, ...metrics.statusMetrics(() => 'extra_metric 1\n') });
    expect(s.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);

    const status = await get(s.address, '/status?pretty=1');
    expect(status).toMatchObject({ status: 200, type: 'application/json', body: '{"id":4,"state":"serving"}\n' });
    expect(await get(s.address, '/ready')).toMatchObject({ status: 503, body: 'not ready\n' });
    ready = true;
    expect(await get(s.address, '/ready')).toMatchObject({ status: 200, body: 'ready\n' });

    const m = await get(s.address, '/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toBe(metrics.registry.contentType);
    expect(m.body).toContain('test_hits_total{kind="a"} 3');
    expect(m.body).toContain('test_depth 7');
    expect(m.body).toContain('test_latency_seconds_bucket{le="1"} 1');
    expect(m.body.endsWith('\nextra_metric 1\n')).toBe(true);
  });

  it('leaves the exposition alone when the extra text is empty', async () => {
    const metrics = new TestMetrics();
    const s = await start({ status: () => ({}), ready: () => true, ...metrics.statusMetrics(() => '') });
    expect((await get(s.address, '/metrics')).body).toBe(await metrics.registry.metrics());
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const s = await start({ status: () => ({}), ready: () => true, ...new TestMetrics().statusMetrics() });
    expect(await get(s.address, '/nope')).toMatchObject({ status: 404, body: 'not found; try /metrics, /status or /ready\n' });
    expect(await get(s.address, '/status', 'POST')).toMatchObject({ status: 405, allow: 'GET, HEAD', body: 'method not allowed\n' });
    expect(await get(s.address, '/status', 'HEAD')).toMatchObject({ status: 200, body: '' });
  });

  it('answers 500 and logs when the source throws, and keeps serving', async () => {
    const logger = recordingLogger();
    const s = await start(
      {
        status: () => {
          throw new Error('boom');
        },
        ready: () => true,
        metrics: () => Promise.reject(new Error('scrape failed')),
        metricsContentType: 'text/plain',
      },
      logger,
    );
    expect(await get(s.address, '/status')).toMatchObject({ status: 500, body: 'internal error\n' });
    expect(await get(s.address, '/metrics')).toMatchObject({ status: 500, body: 'internal error\n' });
    expect(logger.errors.map((e) => [e.msg, e.obj.url])).toEqual([
      ['status request failed', '/status'],
      ['status request failed', '/metrics'],
    ]);
    expect(await get(s.address, '/ready')).toMatchObject({ status: 200 });
  });

  it('rejects with the caller-built error when the address is taken', async () => {
    const s = await start({ status: () => ({}), ready: () => true, ...new TestMetrics().statusMetrics() });
    const err = await startStatusServer(s.address, { status: () => ({}), ready: () => true, metrics: async () => '', metricsContentType: 'text/plain' }, { logger: noopLogger, bindError }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MrkvError);
    expect((err as MrkvError).code).toBe('Test:BindFailed');
    expect((err as MrkvError).message).toMatch(new RegExp(`^cannot listen on status address ${s.address.replace(/\./g, '\\.')}: .*EADDRINUSE`));
    expect((err as Error).cause).toBeInstanceOf(Error);
  });
});

describe('host:port', () => {
  it('splits and joins IPv4 and bracketed IPv6 addresses', () => {
    expect(splitHostPort('127.0.0.1:20160')).toEqual({ host: '127.0.0.1', port: 20160 });
    expect(splitHostPort('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(joinHostPort('::1', 2379)).toBe('[::1]:2379');
    expect(joinHostPort('localhost', 2379)).toBe('localhost:2379');
  });
});
