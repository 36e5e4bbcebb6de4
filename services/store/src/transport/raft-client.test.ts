/**
 * The raft transport between two real stores on loopback: delivery and batching, the receive side
 * fed by a stock TiKV-style client, reconnection after the peer restarts, and the bounds (queue
 * full, peer down) that drop messages and report the store unreachable instead of growing.
 */
import * as grpc from '@grpc/grpc-js';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRng } from '@mrkv/common';
import { createTikvClient, encodeRaftMessage, type raft_serverpb } from '@mrkv/proto';
import { startTestStore, testConfig, type TestStore } from '../__tests__/fixtures.js';
import { StoreMetrics } from '../metrics.js';
import { RaftClient } from './raft-client.js';
import { StaticResolver, type StoreAddressResolver } from './resolver.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function msg(regionId: number, size = 16): Uint8Array {
  const m: raft_serverpb.RaftMessage = {
    regionId,
    fromPeer: { id: 1, storeId: 1 },
    toPeer: { id: 2, storeId: 2 },
    message: { msgType: 'MsgHeartbeat', to: 2, from: 1, term: 3, context: Buffer.alloc(size, regionId & 0xff) },
  };
  return encodeRaftMessage(m);
}

async function store(flags: Record<string, unknown> = {}): Promise<TestStore> {
  const s = await startTestStore({ flags });
  cleanups.push(() => s.close());
  return s;
}

function client(resolver: StoreAddressResolver, transportFlags: Record<string, unknown> = {}) {
  const unreachable: number[] = [];
  const metrics = new StoreMetrics();
  const cfg = testConfig({ 'transport.backoff-base-ms': 20, 'transport.backoff-max-ms': 200, ...transportFlags });
  const c = new RaftClient({
    config: cfg.transport,
    resolver,
    onUnreachable: (id) => unreachable.push(id),
    maxMessageSize: cfg.server.grpcMaxMessageSize,
    metrics,
    rng: new SeededRng(1),
  });
  cleanups.push(() => c.close());
  return { c, unreachable, metrics };
}

async function counter(metrics: StoreMetrics, name: keyof StoreMetrics, labels: Record<string, string> = {}): Promise<number> {
  const m = metrics[name] as { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string | number> }> }> };
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const hex = (m: Uint8Array) => Buffer.from(m).toString('hex');

describe('RaftClient between two stores', () => {
  it('delivers messages both ways, in order and byte-identical', async () => {
    const a = await store();
    const b = await store();
    const resolver = new StaticResolver(
      new Map([
        [1, a.server.grpcAddress],
        [2, b.server.grpcAddress],
      ]),
    );
    const fromA = client(resolver);
    const fromB = client(resolver);
    const toB = [1, 2, 3].map((i) => msg(i));
    const toA = [4, 5].map((i) => msg(i, 300));
    fromA.c.send(2, toB.slice(0, 2));
    fromA.c.send(2, toB.slice(2));
    fromB.c.send(1, toA);
    await b.sink.waitFor(() => b.sink.messages.length === 3);
    await a.sink.waitFor(() => a.sink.messages.length === 2);
    expect(b.sink.messages.map(hex)).toEqual(toB.map(hex));
    expect(a.sink.messages.map(hex)).toEqual(toA.map(hex));
    expect(fromA.c.connectionState(2)).toBe('ready');
    expect(fromA.unreachable).toEqual([]);
    expect(await counter(b.server.metrics, 'raftMessagesReceived')).toBe(3);
  });

  it('batches a burst into frames of at most 256 messages and max-batch-bytes', async () => {
    const b = await store();
    const from = client(new StaticResolver(new Map([[2, b.server.grpcAddress]])), { 'transport.max-batch-bytes': 64 * 1024 });
    const burst = Array.from({ length: 1000 }, (_, i) => msg(i + 1));
    from.c.send(2, burst);
    await b.sink.waitFor(() => b.sink.messages.length === 1000);
    expect(b.sink.messages.map(hex)).toEqual(burst.map(hex));
    expect(Math.max(...b.sink.batches)).toBeLessThanOrEqual(256);
    expect(b.sink.batches.length).toBeGreaterThanOrEqual(4);
    expect(await counter(from.metrics, 'raftFramesSent')).toBe(b.sink.batches.length);

    // Large messages: a frame holds what fits in max-batch-bytes (here 64 KiB: two of 30 KiB).
    const before = b.sink.batches.length;
    const big = Array.from({ length: 6 }, (_, i) => msg(i + 1, 30 * 1024));
    from.c.send(2, big);
    await b.sink.waitFor(() => b.sink.messages.length === 1006);
    expect(b.sink.batches.slice(before)).toEqual([2, 2, 2]);
  });

  it('carries messages above the 4 MiB gRPC default (limits raised both ways)', async () => {
    const b = await store();
    const from = client(new StaticResolver(new Map([[2, b.server.grpcAddress]])));
    const big = msg(1, 6 * 1024 * 1024);
    from.c.send(2, [big]);
    await b.sink.waitFor(() => b.sink.messages.length === 1);
    expect(b.sink.messages[0]!.length).toBe(big.length);
  });

  it('reconnects with backoff after the peer restarts, reporting it unreachable meanwhile', async () => {
    const first = await startTestStore();
    const address = first.server.grpcAddress;
    const resolver = new StaticResolver(new Map([[2, address]]));
    const from = client(resolver);
    from.c.send(2, [msg(1)]);
    await first.sink.waitFor(() => first.sink.messages.length === 1);
    await first.close();
    await until(() => from.c.connectionState(2) === 'backoff' || from.unreachable.length > 0, 'the stream to fail');
    await until(() => from.unreachable.includes(2), 'an unreachable report');

    const second = await store({ 'server.addr': address });
    let sent = 0;
    await until(() => {
      from.c.send(2, [msg(100 + sent++)]);
      return second.sink.messages.length > 0;
    }, 'delivery after the restart');
    expect(from.c.connectionState(2)).toBe('ready');
    expect(await counter(from.metrics, 'raftConnections', { result: 'ready' })).toBe(2);
    expect(await counter(from.metrics, 'raftMessagesDropped', { reason: 'disconnected' })).toBeGreaterThan(0);
  });

  it('drops messages and reports the store unreachable when nothing listens', async () => {
    const port = await freePort();
    const from = client(new StaticResolver(new Map([[3, `127.0.0.1:${port}`]])));
    from.c.send(3, [msg(1), msg(2)]);
    await until(() => from.unreachable.includes(3), 'an unreachable report');
    expect(from.c.connectionState(3)).toBe('backoff');
    expect(await counter(from.metrics, 'raftMessagesDropped', { reason: 'disconnected' })).toBe(2);
    // While backing off, sends are dropped at once (and reported, coalesced per tick).
    const reports = from.unreachable.length;
    from.c.send(3, [msg(3)]);
    from.c.send(3, [msg(4)]);
    await until(() => from.unreachable.length === reports + 1, 'one more report');
    expect(await counter(from.metrics, 'raftMessagesDropped', { reason: 'disconnected' })).toBe(4);
  });

  it('bounds the queue per store: what does not fit is dropped and reported, never buffered', async () => {
    // A resolver that never answers keeps the connection in `connecting`, so messages queue.
    const stuck: StoreAddressResolver = { resolve: () => new Promise<string>(() => {}), invalidate: () => {} };
    const from = client(stuck, { 'transport.queue-max-messages': 10, 'transport.queue-max-bytes': 1 << 20 });
    from.c.send(4, Array.from({ length: 15 }, (_, i) => msg(i + 1)));
    expect(from.c.queued(4)).toBe(10);
    await until(() => from.unreachable.length === 1, 'an unreachable report');
    expect(from.unreachable).toEqual([4]);
    expect(await counter(from.metrics, 'raftMessagesDropped', { reason: 'queue_full' })).toBe(5);

    const bytes = client(stuck, { 'transport.queue-max-messages': 1000, 'transport.queue-max-bytes': 1000 });
    bytes.c.send(5, [msg(1, 400), msg(2, 400), msg(3, 400)]);
    expect(bytes.c.queued(5)).toBe(2);
    expect(await counter(bytes.metrics, 'raftMessagesDropped', { reason: 'queue_full' })).toBe(1);

    from.c.close();
    from.c.send(4, [msg(1)]);
    expect(await counter(from.metrics, 'raftMessagesDropped', { reason: 'closed' })).toBe(11);
  });
});

describe('the receive side, from a stock TiKV-style client', () => {
  const objects: raft_serverpb.RaftMessage[] = [1, 2, 3].map((regionId) => ({
    regionId,
    fromPeer: { id: 10, storeId: 9 },
    toPeer: { id: 11, storeId: 1 },
    regionEpoch: { confVer: 2, version: 5 },
    message: { msgType: 'MsgAppend', to: 11, from: 10, term: 7, index: 3, entries: [{ term: 7, index: 4, data: Buffer.from('entry') }] },
  }));

  it('BatchRaft frames split into the exact RaftMessage bytes', async () => {
    const b = await store();
    const c = createTikvClient(b.server.grpcAddress);
    cleanups.push(() => c.close());
    const done = new Promise<void>((resolve, reject) => {
      const call = c.BatchRaft((err) => (err ? reject(err) : resolve()));
      call.write({ msgs: objects.slice(0, 2) });
      call.write({ msgs: objects.slice(2) });
      call.end();
    });
    await done;
    expect(b.sink.messages.map(hex)).toEqual(objects.map((o) => hex(encodeRaftMessage(o))));
    expect(b.sink.batches).toEqual([2, 1]);
  });

  it('Raft (one message per frame) delivers the message bytes', async () => {
    const b = await store();
    const c = createTikvClient(b.server.grpcAddress);
    cleanups.push(() => c.close());
    await new Promise<void>((resolve, reject) => {
      const call = c.Raft((err) => (err ? reject(err) : resolve()));
      for (const o of objects) call.write(o);
      call.end();
    });
    expect(b.sink.messages.map(hex)).toEqual(objects.map((o) => hex(encodeRaftMessage(o))));
  });

  it('fails a stream whose frame does not parse, and keeps serving', async () => {
    const b = await store();
    const raw = new grpc.Client(b.server.grpcAddress, grpc.credentials.createInsecure());
    cleanups.push(() => raw.close());
    const status = await new Promise<grpc.ServiceError | null>((resolve) => {
      const call = raw.makeClientStreamRequest(
        '/tikvpb.Tikv/BatchRaft',
        (x: Buffer) => x,
        (x: Buffer) => x,
        (err) => resolve(err),
      );
      call.write(Buffer.from([0x0a, 0x05, 1, 2]));
      call.end();
    });
    expect(status?.code).toBe(grpc.status.INTERNAL);
    expect(b.sink.messages).toEqual([]);
    const from = client(new StaticResolver(new Map([[2, b.server.grpcAddress]])));
    from.c.send(2, [msg(1)]);
    await b.sink.waitFor(() => b.sink.messages.length === 1);
  });
});
