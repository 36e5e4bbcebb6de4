/**
 * The assembled servers: the status endpoints (/metrics, /status, /ready), graceful shutdown
 * (drain in-flight requests, end streams, stop accepting), the shutdown deadline, and bind errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isMrkvError } from '@mrkv/common';
import { createTikvClient, type tikvpb } from '@mrkv/proto';
import { b, ctxFor, rpc, startTestStore, testConfig, type TestStore } from './__tests__/fixtures.js';
import { startStoreServer } from './server.js';
import { MemoryRawKv } from './testing/memory-raw-kv.js';
import { RecordingSink } from './testing/recording-sink.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function store(flags: Record<string, unknown> = {}): Promise<TestStore> {
  const t = await startTestStore({ flags, clusterId: 3 });
  cleanups.push(() => t.close());
  return t;
}

async function http(t: TestStore, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`http://${t.server.statusAddress}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** A hook that holds every operation until `release()`; `entered` resolves when one is held. */
function holdAll(t: TestStore) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  t.kv.setHook(async () => {
    entered();
    await gate;
  });
  return { release, inside };
}

describe('status server', () => {
  it('serves Prometheus metrics, including request counters by method and outcome', async () => {
    const t = await store();
    const region = t.kv.regionList()[0]!;
    await rpc(t.client, 'RawPut', { context: ctxFor(region), key: b('k'), value: b('v') });
    await rpc(t.client, 'RawGet', { context: ctxFor(region), key: b('') });
    const m = await http(t, '/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/text\/plain/);
    expect(m.body).toMatch(/mrkv_grpc_requests_total\{method="RawPut",outcome="ok"\} 1/);
    expect(m.body).toMatch(/mrkv_grpc_requests_total\{method="RawGet",outcome="error"\} 1/);
    expect(m.body).toMatch(/mrkv_grpc_request_duration_seconds_bucket\{le="[\d.]+",method="RawPut"\}/);
    for (const name of ['mrkv_raft_messages_dropped_total', 'mrkv_snapshot_transfers_total', 'mrkv_batch_commands_streams']) {
      expect(m.body).toContain(`# TYPE ${name}`);
    }
  });

  it('serves /status from live sources and /ready by state; 404 and 405 otherwise', async () => {
    const t = await store({ 'server.labels': 'zone=z9' });
    const s = await http(t, '/status');
    expect(s.status).toBe(200);
    const doc = JSON.parse(s.body) as Record<string, unknown>;
    expect(doc).toMatchObject({
      storeId: 1,
      clusterId: 3,
      address: t.server.grpcAddress,
      statusAddress: t.server.statusAddress,
      state: 'serving',
      regionCount: 1,
      inflightRequests: 0,
      labels: { zone: 'z9' },
    });
    expect(doc.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(typeof doc.uptimeSeconds).toBe('number');

    const region = t.kv.regionList()[0]!;
    await rpc(t.client, 'SplitRegion', { context: ctxFor(region), splitKeys: [b('m')] });
    expect((JSON.parse((await http(t, '/status')).body) as { regionCount: number }).regionCount).toBe(2);

    expect((await http(t, '/ready')).status).toBe(200);
    expect((await http(t, '/nope')).status).toBe(404);
    expect((await http(t, '/status', 'POST')).status).toBe(405);
  });

  it('is not ready until marked, and appends the raftstore metrics', async () => {
    const server = await startStoreServer({
      config: testConfig(),
      rawKv: new MemoryRawKv(),
      raftSink: new RecordingSink(),
      storeId: () => 0,
      clusterId: () => 0,
      extraMetrics: () => '# TYPE mrkv_raftstore_test gauge\nmrkv_raftstore_test 5\n',
    });
    cleanups.push(() => server.forceStop());
    const ready = await fetch(`http://${server.statusAddress}/ready`);
    expect(ready.status).toBe(503);
    const status = (await (await fetch(`http://${server.statusAddress}/status`)).json()) as { state: string; regionCount: unknown };
    expect(status).toMatchObject({ state: 'starting', regionCount: null });
    server.markReady();
    expect((await fetch(`http://${server.statusAddress}/ready`)).status).toBe(200);
    expect(await (await fetch(`http://${server.statusAddress}/metrics`)).text()).toContain('mrkv_raftstore_test 5');
  });

  it('accepts requests above the 4 MiB gRPC default (the receive limit is raised)', async () => {
    const t = await store();
    const region = t.kv.regionList()[0]!;
    const value = Buffer.alloc(5 * 1024 * 1024, 3);
    const client = createTikvClient(t.server.grpcAddress, { channelOptions: { 'grpc.max_receive_message_length': 16 * 1024 * 1024 } });
    cleanups.push(async () => client.close());
    expect((await rpc(client, 'RawPut', { context: ctxFor(region), key: b('big'), value })).error).toBe('');
    expect((await rpc(client, 'RawGet', { context: ctxFor(region), key: b('big') })).value.length).toBe(value.length);
  });

  it('fails with BindFailed when an address is taken', async () => {
    const t = await store();
    const err = await startStoreServer({
      config: testConfig({ 'server.status-addr': t.server.statusAddress }),
      rawKv: new MemoryRawKv(),
      raftSink: new RecordingSink(),
      storeId: () => 0,
      clusterId: () => 0,
    }).catch((e: unknown) => e);
    expect(isMrkvError(err) && err.code).toBe('KV:Server:BindFailed');
  });
});

describe('graceful shutdown', () => {
  it('finishes in-flight requests, refuses new ones, ends streams, and reports drained', async () => {
    const t = await store();
    const region = t.kv.regionList()[0]!;
    const stream = t.client.BatchCommands();
    const streamStatus = new Promise<number>((resolve) => stream.on('status', (s: { code: number }) => resolve(s.code)));
    stream.on('error', () => {});
    stream.on('data', () => {});
    stream.write({ requests: [{ Empty: { testId: 1 } }], requestIds: [1] } satisfies tikvpb.BatchCommandsRequest);

    const held = holdAll(t);
    const inflight = rpc(t.client, 'RawPut', { context: ctxFor(region), key: b('k'), value: b('v') });
    await held.inside;
    const shutdown = t.server.shutdown(10_000);
    expect((await http(t, '/ready').catch(() => ({ status: 503 }))).status).toBe(503);
    expect(await streamStatus).toBe(0); // the idle BatchCommands stream was ended cleanly
    held.release();
    expect((await inflight).error).toBe('');
    expect(await shutdown).toEqual({ drained: true });
    expect(t.kv.peek(b('k'))?.toString()).toBe('v');
    await expect(rpc(t.client, 'RawGet', { context: ctxFor(region), key: b('k') }, { deadline: Date.now() + 1000 })).rejects.toThrow();
  });

  it('aborts what is left at the deadline and reports not drained', async () => {
    const t = await store();
    const region = t.kv.regionList()[0]!;
    let aborted = false;
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    t.kv.setHook(
      (_op, _ctx, signal) =>
        new Promise<void>((_, reject) => {
          entered();
          signal?.addEventListener('abort', () => {
            aborted = true;
            reject(signal.reason);
          });
        }),
    );
    const inflight = rpc(t.client, 'RawPut', { context: ctxFor(region), key: b('k'), value: b('v') }).catch((e: unknown) => e);
    await inside;
    expect(await t.server.shutdown(50)).toEqual({ drained: false });
    expect(aborted).toBe(true);
    await inflight;
    expect(t.server.inflight).toBe(0);
  });
});
