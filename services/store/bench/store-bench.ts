/**
 * Benchmark of the store's gRPC layer and raft transport, over loopback, against a store process
 * whose raftstore is in memory (services/store/src/testing/memory-store-main.ts), so the numbers
 * are the cost of the service layer itself (decode, validate, route, encode, gRPC), the ceiling a
 * real raftstore can only lower.
 *
 *   node tools/run-ts.mjs services/store/bench/store-bench.ts [--seconds 3] [--value-bytes 256] [--raft-messages 200000]
 *
 * Scenarios (client in this process, store in a child process, both on the same cores):
 * - unary RawGet / RawPut with 1 and 64 calls in flight on one channel;
 * - BatchCommands RawGet / RawPut with windows of 64 and 256 requests on one stream;
 * - raft transport: RaftClient → BatchRaft stream → the store's sink, 256-byte heartbeats, sent
 *   as fast as the bounded queue accepts; throughput counted at the receiver (/metrics);
 * - framing (in this process): a BatchRaftMessage frame of 256 such messages built from their
 *   encoded bytes and split back (what the transport does), against protobufjs encoding and
 *   decoding the same frame from and to objects (what a decode/re-encode design would pay).
 * Prints a table, then one JSON line last.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SeededRng } from '@mrkv/common';
import { createTikvClient, decodeMessage, decodeRaftMessage, encodeMessage, encodeRaftMessage, type kvrpcpb, type TikvClient, type tikvpb } from '@mrkv/proto';
import { encodeBatchRaftFrame, splitBatchRaftFrame } from '../src/transport/frame.js';
import { loadStoreConfig } from '../src/config.js';
import { StoreMetrics } from '../src/metrics.js';
import { RaftClient } from '../src/transport/raft-client.js';
import { StaticResolver } from '../src/transport/resolver.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    'value-bytes': { type: 'string', default: '256' },
    'raft-messages': { type: 'string', default: '200000' },
  },
});
const seconds = Number(values.seconds);
const valueBytes = Number(values['value-bytes']);
const raftMessages = Number(values['raft-messages']);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

interface Result {
  scenario: string;
  inFlight: number;
  ops: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts the in-memory store process; resolves with its addresses and first region's context. */
async function startStore(): Promise<{ addr: string; status: string; ctx: kvrpcpb.Context; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mrkv-store-bench-'));
  const addr = `127.0.0.1:${await freePort()}`;
  const status = `127.0.0.1:${await freePort()}`;
  const child = spawn(
    process.execPath,
    ['--conditions=@mrkv/source', '--import', 'tsx', 'services/store/src/testing/memory-store-main.ts', '--addr', addr, '--status-addr', status, '--data-dir', dir, '--log-level', 'info', '--set', 'server.max-inflight-per-stream=4096'],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const ctx = await new Promise<kvrpcpb.Context>((resolve, reject) => {
    let region: Record<string, number> | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const rec = JSON.parse(line) as Record<string, unknown>;
      if (rec.msg === 'prepared the first region') region = rec as Record<string, number>;
      if (rec.msg === 'store is ready' && region) {
        resolve({ regionId: region.regionId, regionEpoch: { confVer: 1, version: 1 }, peer: { id: region.peerId, storeId: region.storeId } });
      }
    });
    child.on('close', (code) => reject(new Error(`store exited with ${code} before it was ready`)));
  });
  return {
    addr,
    status,
    ctx,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarize(scenario: string, inFlight: number, latencies: number[], elapsedMs: number): Result {
  const sorted = Float64Array.from(latencies).sort();
  return {
    scenario,
    inFlight,
    ops: latencies.length,
    opsPerSec: Math.round((latencies.length / elapsedMs) * 1000),
    p50Ms: Number(percentile(sorted, 50).toFixed(3)),
    p99Ms: Number(percentile(sorted, 99).toFixed(3)),
  };
}

/** Keeps `inFlight` unary calls going for `seconds`. */
async function unary(client: TikvClient, scenario: string, inFlight: number, call: (i: number, done: (err: unknown) => void) => void): Promise<Result> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  let i = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await new Promise<void>((resolve) =>
          call(i++, (err) => {
            if (err) failures++;
            resolve();
          }),
        );
        latencies.push(performance.now() - t0);
      }
    }),
  );
  if (failures > 0) throw new Error(`${scenario}: ${failures} calls failed`);
  return summarize(scenario, inFlight, latencies, performance.now() - start);
}

/** Keeps a window of `window` requests in flight on one BatchCommands stream for `seconds`. */
async function batch(client: TikvClient, scenario: string, window: number, make: (i: number) => tikvpb.BatchCommandsRequest_Request): Promise<Result> {
  const stream = client.BatchCommands();
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  let next = 0;
  let errors = 0;
  await new Promise<void>((resolve, reject) => {
    const send = (n: number) => {
      const requests: tikvpb.BatchCommandsRequest_Request[] = [];
      const ids: number[] = [];
      for (let k = 0; k < n; k++) {
        const id = next++;
        requests.push(make(id));
        ids.push(id);
        sentAt.set(String(id), performance.now());
      }
      stream.write({ requests, requestIds: ids });
    };
    stream.on('data', (frame: tikvpb.BatchCommandsResponse__Output) => {
      const now = performance.now();
      frame.requestIds.forEach((id, k) => {
        latencies.push(now - sentAt.get(id)!);
        sentAt.delete(id);
        const r = frame.responses[k]!;
        const arm = r.RawGet ?? r.RawPut;
        if (arm?.regionError || arm?.error) errors++;
      });
      if (now < end) send(frame.requestIds.length);
      else if (sentAt.size === 0) {
        stream.end();
        resolve();
      }
    });
    stream.on('error', reject);
    send(window);
  });
  if (errors > 0) throw new Error(`${scenario}: ${errors} requests answered with errors`);
  return summarize(scenario, window, latencies, performance.now() - start);
}

async function receivedCount(status: string): Promise<number> {
  const text = await (await fetch(`http://${status}/metrics`)).text();
  const m = /^mrkv_raft_messages_received_total (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

async function transport(addr: string, status: string): Promise<Result & { dropped: number; framesSent: number }> {
  const cfg = loadStoreConfig();
  const metrics = new StoreMetrics();
  let unreachable = 0;
  const c = new RaftClient({
    config: cfg.transport,
    resolver: new StaticResolver(new Map([[2, addr]])),
    onUnreachable: () => unreachable++,
    maxMessageSize: cfg.server.grpcMaxMessageSize,
    metrics,
    rng: new SeededRng(1),
  });
  const msg = encodeRaftMessage({
    regionId: 7,
    fromPeer: { id: 1, storeId: 1 },
    toPeer: { id: 2, storeId: 2 },
    message: { msgType: 'MsgHeartbeat', to: 2, from: 1, term: 3, context: Buffer.alloc(256, 1) },
  });
  const before = await receivedCount(status);
  const start = performance.now();
  let sent = 0;
  // Feed the transport in macrotask-sized chunks, as a raft poll round would, keeping the queue
  // below its bound so nothing is dropped for being too fast.
  while (sent < raftMessages) {
    if (c.queued(2) < cfg.transport.queueMaxMessages / 2) {
      const n = Math.min(1024, raftMessages - sent);
      c.send(2, Array.from({ length: n }, () => msg));
      sent += n;
    }
    await new Promise((r) => setImmediate(r));
  }
  const deadline = Date.now() + 60_000;
  let received = (await receivedCount(status)) - before;
  while (received < raftMessages && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    received = (await receivedCount(status)) - before;
  }
  const elapsed = performance.now() - start;
  const dropped = (await metrics.raftMessagesDropped.get()).values.reduce((a, v) => a + v.value, 0);
  const framesSent = (await metrics.raftFramesSent.get()).values[0]?.value ?? 0;
  c.close();
  if (unreachable > 0 && dropped === 0) throw new Error('unreachable reported without drops');
  return { scenario: 'raft transport (256 B msgs)', inFlight: cfg.transport.maxBatchMessages, ops: received, opsPerSec: Math.round((received / elapsed) * 1000), p50Ms: 0, p99Ms: 0, dropped, framesSent };
}

/** Frames of 256 heartbeat messages per second: raw framing vs protobufjs objects. */
function framing(): Result[] {
  const obj = {
    regionId: 7,
    fromPeer: { id: 1, storeId: 1 },
    toPeer: { id: 2, storeId: 2 },
    message: { msgType: 'MsgHeartbeat' as const, to: 2, from: 1, term: 3, context: Buffer.alloc(256, 1) },
  };
  const msgs = Array.from({ length: 256 }, () => encodeRaftMessage(obj));
  const objects = msgs.map((m) => decodeRaftMessage(m));
  const frame = encodeBatchRaftFrame(msgs);
  const run = (scenario: string, fn: () => unknown): Result => {
    const latencies: number[] = [];
    const start = performance.now();
    const end = start + Math.min(1000, seconds * 1000);
    while (performance.now() < end) {
      const t0 = performance.now();
      fn();
      latencies.push(performance.now() - t0);
    }
    return summarize(scenario, 256, latencies, performance.now() - start);
  };
  return [
    run('frame: encode from bytes', () => encodeBatchRaftFrame(msgs)),
    run('frame: split into bytes', () => splitBatchRaftFrame(frame)),
    run('frame: protobufjs encode objs', () => encodeMessage('tikvpb.BatchRaftMessage', { msgs: objects })),
    run('frame: protobufjs decode objs', () => decodeMessage('tikvpb.BatchRaftMessage', frame)),
  ];
}

async function main(): Promise<void> {
  const store = await startStore();
  const client = createTikvClient(store.addr);
  const value = Buffer.alloc(valueBytes, 7);
  const key = (i: number) => Buffer.from(`key${String(i % 10_000).padStart(8, '0')}`);
  const results: Result[] = [];
  try {
    // Warm up (JIT, connections) and load the keys the gets read.
    await batch(client, 'warm-up', 256, (i) => ({ RawPut: { context: store.ctx, key: key(i), value } }));
    const get = (i: number, done: (e: unknown) => void) => client.RawGet({ context: store.ctx, key: key(i) }, (e) => done(e));
    const put = (i: number, done: (e: unknown) => void) => client.RawPut({ context: store.ctx, key: key(i), value }, (e) => done(e));
    results.push(await unary(client, 'unary RawGet', 1, get));
    results.push(await unary(client, 'unary RawGet', 64, get));
    results.push(await unary(client, 'unary RawPut', 64, put));
    results.push(await batch(client, 'BatchCommands RawGet', 64, (i) => ({ RawGet: { context: store.ctx, key: key(i) } })));
    results.push(await batch(client, 'BatchCommands RawGet', 256, (i) => ({ RawGet: { context: store.ctx, key: key(i) } })));
    results.push(await batch(client, 'BatchCommands RawPut', 256, (i) => ({ RawPut: { context: store.ctx, key: key(i), value } })));
    results.push(await transport(store.addr, store.status));
    results.push(...framing());
  } finally {
    client.close();
    await store.stop();
  }
  console.log(`store service benchmark: ${seconds}s per scenario, ${valueBytes}-byte values, client and store on one box`);
  console.log('scenario (frame rows: frames/s of 256 msgs)   in-flight      ops/s   p50 ms   p99 ms');
  for (const r of results) {
    console.log(`${r.scenario.padEnd(43)} ${String(r.inFlight).padStart(9)} ${String(r.opsPerSec).padStart(10)} ${r.p50Ms.toFixed(3).padStart(8)} ${r.p99Ms.toFixed(3).padStart(8)}`);
  }
  console.log(JSON.stringify({ name: 'store-service', parameters: { seconds, valueBytes, raftMessages }, results }));
}

await main();
