/**
 * Shared fixtures for the store service tests: a real gRPC server on 127.0.0.1 with an ephemeral
 * port around a `MemoryRawKv`, a stock TiKV-style client (@mrkv/proto's generated client, not
 * mrkv's SDK), request contexts, promisified calls, and a capturing logger.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger, LogLevel } from '@mrkv/common';
import { contextToWire, createTikvClient, type kvrpcpb, type Region, type TikvClient } from '@mrkv/proto';
import { loadStoreConfig, type StoreConfig } from '../config.js';
import { startStoreServer, type StoreServer } from '../server.js';
import { MemoryRawKv, type MemoryRawKvOptions } from '../testing/memory-raw-kv.js';
import { RecordingSink } from '../testing/recording-sink.js';

/** A config for tests: ephemeral ports, plus `flags` (dotted kebab-case keys). */
export function testConfig(flags: Record<string, unknown> = {}): StoreConfig {
  return loadStoreConfig({ flags: { 'server.addr': '127.0.0.1:0', 'server.status-addr': '127.0.0.1:0', ...flags } });
}

export interface LogLine {
  level: LogLevel;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A Logger that keeps every line (bindings merged), for assertions. */
export function captureLogger(lines: LogLine[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: LogLine[] } {
  const fn =
    (level: LogLevel) =>
    (a: Record<string, unknown> | string, msg?: string): void => {
      if (typeof a === 'string') lines.push({ level, obj: { ...bindings }, msg: a });
      else lines.push({ level, obj: { ...bindings, ...a }, msg });
    };
  return {
    lines,
    trace: fn('trace'),
    debug: fn('debug'),
    info: fn('info'),
    warn: fn('warn'),
    error: fn('error'),
    fatal: fn('fatal'),
    child: (b) => captureLogger(lines, { ...bindings, ...b }),
    isLevelEnabled: () => true,
  };
}

export interface TestStore {
  server: StoreServer;
  kv: MemoryRawKv;
  sink: RecordingSink;
  client: TikvClient;
  logs: LogLine[];
  fatal: unknown[];
  close(): Promise<void>;
}

export interface TestStoreOptions {
  flags?: Record<string, unknown>;
  kv?: MemoryRawKvOptions;
  clusterId?: number;
  storeId?: number;
  logger?: Logger;
}

/** Starts a store server around a fresh MemoryRawKv and connects a stock client. */
export async function startTestStore(opts: TestStoreOptions = {}): Promise<TestStore> {
  const kv = new MemoryRawKv(opts.kv);
  const sink = new RecordingSink();
  const log = captureLogger();
  const fatal: unknown[] = [];
  const server = await startStoreServer({
    config: testConfig(opts.flags),
    rawKv: kv,
    raftSink: sink,
    storeId: () => opts.storeId ?? kv.storeId,
    clusterId: () => opts.clusterId ?? 0,
    regionCount: () => kv.regionCount,
    logger: opts.logger ?? log,
    onFatal: (e) => fatal.push(e),
  });
  server.markReady();
  const client = createTikvClient(server.grpcAddress);
  return {
    server,
    kv,
    sink,
    client,
    logs: log.lines,
    fatal,
    close: async () => {
      client.close();
      await server.forceStop();
    },
  };
}

/** The kvrpcpb.Context addressing `region` on its first peer. */
export function ctxFor(region: Region, extra: Partial<kvrpcpb.Context> = {}): kvrpcpb.Context {
  return {
    ...contextToWire({
      regionId: region.id,
      regionEpoch: region.regionEpoch,
      peer: region.peers[0],
      term: 0,
      priority: 'Normal',
      replicaRead: false,
      staleRead: false,
      maxExecutionDurationMs: 0,
      apiVersion: 'V1',
      isRetryRequest: false,
      requestSource: 'test',
      clusterId: 0,
    }),
    ...extra,
  };
}

/** Request and response types of the unary Tikv methods, for {@link rpc}. */
export interface UnaryMethods {
  RawGet: [kvrpcpb.RawGetRequest, kvrpcpb.RawGetResponse__Output];
  RawBatchGet: [kvrpcpb.RawBatchGetRequest, kvrpcpb.RawBatchGetResponse__Output];
  RawPut: [kvrpcpb.RawPutRequest, kvrpcpb.RawPutResponse__Output];
  RawBatchPut: [kvrpcpb.RawBatchPutRequest, kvrpcpb.RawBatchPutResponse__Output];
  RawDelete: [kvrpcpb.RawDeleteRequest, kvrpcpb.RawDeleteResponse__Output];
  RawBatchDelete: [kvrpcpb.RawBatchDeleteRequest, kvrpcpb.RawBatchDeleteResponse__Output];
  RawScan: [kvrpcpb.RawScanRequest, kvrpcpb.RawScanResponse__Output];
  RawDeleteRange: [kvrpcpb.RawDeleteRangeRequest, kvrpcpb.RawDeleteRangeResponse__Output];
  RawCompareAndSwap: [kvrpcpb.RawCASRequest, kvrpcpb.RawCASResponse__Output];
  SplitRegion: [kvrpcpb.SplitRegionRequest, kvrpcpb.SplitRegionResponse__Output];
  ReadIndex: [kvrpcpb.ReadIndexRequest, kvrpcpb.ReadIndexResponse__Output];
}

/** A unary call through the stock client, as a promise (10 s deadline). */
export function rpc<M extends keyof UnaryMethods>(
  client: TikvClient,
  method: M,
  req: UnaryMethods[M][0],
  opts: grpc.CallOptions = {},
): Promise<UnaryMethods[M][1]> {
  const fn = client[method] as unknown as (
    req: UnaryMethods[M][0],
    opts: grpc.CallOptions,
    cb: (e: grpc.ServiceError | null, r?: UnaryMethods[M][1]) => void,
  ) => grpc.ClientUnaryCall;
  return new Promise((resolve, reject) => {
    fn.call(client, req, { deadline: Date.now() + 10_000, ...opts }, (e, r) => (e ? reject(e) : resolve(r!)));
  });
}

/** Buffers from strings. */
export const b = (s: string): Buffer => Buffer.from(s);

/** Resolves when `cond()` holds, polling every few ms; rejects after `timeoutMs`. */
export async function eventually(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

