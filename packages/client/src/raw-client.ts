/**
 * `createRawClient`: the RawKV client. It owns the PD client, the region cache, one connection
 * per store and the dispatcher; each call gets a `CallScope` (deadline, cancellation, backoff
 * budget) and runs through the dispatcher (dispatch.ts) and the region sender
 * (region-request.ts). Scans are in scan.ts.
 *
 * Store answers that are final (`error` strings, KvPair errors) become REQUEST_FAILED with the
 * store's code in `details.requestCode`; everything else that can go wrong is retried under the
 * scope or reported with the codes of errors.ts.
 */
import { setMaxListeners } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { isMrkvError, noopLogger, SeededRng, systemClock, type Clock, type Logger, type Rng } from '@mrkv/common';
import type { kvrpcpb } from '@mrkv/proto';
import { backoffCurves, type BackoffCurve, type BackoffKind } from './backoff.js';
import { toBytes, toKey } from './bytes.js';
import { CallScope, type ScopeEnv } from './call-scope.js';
import { Dispatcher } from './dispatch.js';
import { checkError, ClientError, ClientErrorCodes } from './errors.js';
import { PdClient } from './pd-client.js';
import { RegionCache } from './region-cache.js';
import { RegionRequestSender } from './region-request.js';
import { scanRange, type ScanDeps } from './scan.js';
import { StoreConnection, type TransportMode } from './store-connection.js';
import type { BytesLike, CallOptions, CasResult, KvPair, KvPairInput, RawClient, ReadOptions, ScanOptions } from './types.js';

/** Options of {@link createRawClient}. */
export interface RawClientOptions {
  /** PD endpoints (`host:port`, or URLs such as `http://host:port`). At least one. */
  readonly pdEndpoints: readonly string[];
  /** Default per-call deadline in ms (every retry and backoff included). Default 20000. */
  readonly timeoutMs?: number;
  /**
   * Most total backoff sleep per call before giving up with REGION_UNAVAILABLE /
   * STORE_UNAVAILABLE / PD_UNAVAILABLE (client-go's raw backoffer budget). Default 20000.
   */
  readonly maxBackoffMs?: number;
  /** `batch` (default): one BatchCommands stream per store; `unary`: one gRPC call per request. */
  readonly transport?: TransportMode;
  /** Default of `ReadOptions.replicaRead`. Default false. */
  readonly replicaRead?: boolean;
  /** Pairs per RawScan request. Default 1024. */
  readonly scanBatchSize?: number;
  /** Keys per batch request (batchGet/batchPut/batchDelete cut per region into chunks). Default 1024. */
  readonly maxBatchKeys?: number;
  /** Bytes of keys and values per batch request. Default 4 MiB. */
  readonly maxBatchBytes?: number;
  /** Requests per BatchCommands frame. Default 128. */
  readonly maxFrameRequests?: number;
  /**
   * Send put/delete/batchPut/batchDelete with `for_cas` so they are serialized with
   * compareAndSwap on the same keys (client-go `SetAtomicForCAS`). Default false.
   */
  readonly atomicForCas?: boolean;
  /** Overrides of the backoff curves (backoff.ts), e.g. shorter ones in tests. */
  readonly backoff?: Partial<Record<BackoffKind, Partial<BackoffCurve>>>;
  /**
   * Longest wait for one store answer before the request is retried elsewhere (a hung store).
   * Default 10000 ms; it only matters when below the call's deadline.
   */
  readonly rpcTimeoutMs?: number;
  /** Longest single PD call. Default 3000 ms. */
  readonly pdRpcTimeoutMs?: number;
  /**
   * gRPC channel options for PD and stores, merged over the defaults (64 MiB messages both ways,
   * so a scan batch of large values is not refused by gRPC's 4 MiB receive default).
   */
  readonly channelOptions?: grpc.ChannelOptions;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Jitter source. Default: a generator seeded from the wall clock. */
  readonly rng?: Rng;
}

/** A RawClient plus what tests and tools may inspect. */
export interface RawClientInternals extends RawClient {
  /** The region cache (regions known now, in key order). */
  readonly regionCache: RegionCache;
  /** The PD client (leader address, cluster id). */
  readonly pd: PdClient;
  /** The open store connections by address. */
  readonly connections: ReadonlyMap<string, StoreConnection>;
}

/** Creates a RawKV client. Nothing is dialed until the first call. */
export function createRawClient(options: RawClientOptions): RawClientInternals {
  return new GrpcRawClient(options);
}

const EMPTY = new Uint8Array();

const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  // gRPC's default reconnect backoff grows to 120 s: a store or PD back after a restart would stay
  // unreachable for this client long after it is up again.
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 3_000,
};

class GrpcRawClient implements RawClientInternals {
  readonly pd: PdClient;
  readonly regionCache: RegionCache;
  readonly connections = new Map<string, StoreConnection>();
  private readonly sender: RegionRequestSender;
  private readonly dispatch: Dispatcher;
  private readonly env: ScopeEnv;
  private readonly closing = new AbortController();
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly maxBackoffMs: number;
  private readonly replicaRead: boolean;
  private readonly scanBatchSize: number;
  private readonly forCas: boolean;
  private readonly channelOptions: grpc.ChannelOptions;

  constructor(private readonly opts: RawClientOptions) {
    this.logger = (opts.logger ?? noopLogger).child({ component: 'raw-client' });
    this.timeoutMs = positive(opts.timeoutMs, 20_000, 'timeoutMs');
    this.maxBackoffMs = positive(opts.maxBackoffMs, 20_000, 'maxBackoffMs');
    this.replicaRead = opts.replicaRead ?? false;
    this.scanBatchSize = positive(opts.scanBatchSize, 1024, 'scanBatchSize');
    this.forCas = opts.atomicForCas ?? false;
    this.channelOptions = { ...DEFAULT_CHANNEL_OPTIONS, ...opts.channelOptions };
    this.pd = new PdClient({
      endpoints: opts.pdEndpoints,
      logger: this.logger,
      ...(opts.pdRpcTimeoutMs === undefined ? {} : { rpcTimeoutMs: opts.pdRpcTimeoutMs }),
      channelOptions: this.channelOptions,
    });
    this.regionCache = new RegionCache(this.pd, this.logger);
    this.sender = new RegionRequestSender(this.regionCache, (a) => this.connection(a), () => this.pd.clusterId, this.logger);
    this.dispatch = new Dispatcher(this.regionCache, this.sender, {
      maxBatchKeys: positive(opts.maxBatchKeys, 1024, 'maxBatchKeys'),
      maxBatchBytes: positive(opts.maxBatchBytes, 4 * 1024 * 1024, 'maxBatchBytes'),
    });
    // Every call in flight listens for the close.
    setMaxListeners(0, this.closing.signal);
    this.env = {
      clock: opts.clock ?? systemClock,
      rng: opts.rng ?? new SeededRng(Date.now() >>> 0),
      curves: backoffCurves(opts.backoff),
      closing: this.closing.signal,
    };
  }

  get(key: BytesLike, options: ReadOptions = {}): Promise<Uint8Array | undefined> {
    return this.run(options, async (scope) => {
      const k = toKey(key);
      const res = await this.dispatch.onKey(k, (c, context) => c.send('RawGet', { context, key: k }, scope), scope, this.readOpts(options));
      checkError(res.error);
      return res.notFound ? undefined : new Uint8Array(res.value);
    });
  }

  batchGet(keys: readonly BytesLike[], options: ReadOptions = {}): Promise<KvPair[]> {
    return this.run(options, async (scope) => {
      const ks = keys.map((k) => toKey(k));
      const unique = uniqueIndexes(ks);
      const parts = await this.dispatch.onKeys(
        ks,
        unique,
        (i) => ks[i]!.length,
        (idx) => (c, context) => c.send('RawBatchGet', { context, keys: idx.map((i) => ks[i]!) }, scope),
        scope,
        this.readOpts(options),
      );
      const found = new Map<string, Uint8Array>();
      for (const { res } of parts) {
        for (const p of res.pairs) {
          checkError(p.error?.abort ?? '');
          found.set(hex(p.key), new Uint8Array(p.value));
        }
      }
      const out: KvPair[] = [];
      for (const k of ks) {
        const v = found.get(hex(k));
        if (v !== undefined) out.push({ key: k, value: v });
      }
      return out;
    });
  }

  put(key: BytesLike, value: BytesLike, options: CallOptions = {}): Promise<void> {
    return this.run(options, async (scope) => {
      const k = toKey(key);
      const v = toBytes(value);
      const res = await this.dispatch.onKey(k, (c, context) => c.send('RawPut', { context, key: k, value: v, forCas: this.forCas }, scope), scope, WRITE);
      checkError(res.error);
    });
  }

  batchPut(pairs: readonly KvPairInput[], options: CallOptions = {}): Promise<void> {
    return this.run(options, async (scope) => {
      const ks = pairs.map((p) => toKey(p.key));
      const vs = pairs.map((p) => toBytes(p.value));
      // The last write of a key wins, as it would with one put per pair in order.
      const last = new Map<string, number>();
      ks.forEach((k, i) => last.set(hex(k), i));
      const parts = await this.dispatch.onKeys(
        ks,
        [...last.values()].sort((a, b) => a - b),
        (i) => ks[i]!.length + vs[i]!.length,
        (idx) => (c, context) => c.send('RawBatchPut', { context, pairs: idx.map((i) => ({ key: ks[i]!, value: vs[i]! })), forCas: this.forCas }, scope),
        scope,
        WRITE,
      );
      for (const { res } of parts) checkError(res.error);
    });
  }

  delete(key: BytesLike, options: CallOptions = {}): Promise<void> {
    return this.run(options, async (scope) => {
      const k = toKey(key);
      const res = await this.dispatch.onKey(k, (c, context) => c.send('RawDelete', { context, key: k, forCas: this.forCas }, scope), scope, WRITE);
      checkError(res.error);
    });
  }

  batchDelete(keys: readonly BytesLike[], options: CallOptions = {}): Promise<void> {
    return this.run(options, async (scope) => {
      const ks = keys.map((k) => toKey(k));
      const parts = await this.dispatch.onKeys(
        ks,
        uniqueIndexes(ks),
        (i) => ks[i]!.length,
        (idx) => (c, context) => c.send('RawBatchDelete', { context, keys: idx.map((i) => ks[i]!), forCas: this.forCas }, scope),
        scope,
        WRITE,
      );
      for (const { res } of parts) checkError(res.error);
    });
  }

  deleteRange(startKey: BytesLike, endKey: BytesLike, options: CallOptions = {}): Promise<void> {
    return this.run(options, async (scope) => {
      const [start, end] = checkRange(startKey, endKey);
      if (start === undefined) return;
      const parts = await this.dispatch.onRange(
        start,
        end,
        (s, e) => (c, context) => c.send('RawDeleteRange', { context, startKey: s, endKey: e }, scope),
        scope,
        WRITE,
      );
      for (const res of parts) checkError(res.error);
    });
  }

  compareAndSwap(key: BytesLike, expected: BytesLike | null, next: BytesLike | null, options: CallOptions = {}): Promise<CasResult> {
    return this.run(options, async (scope) => {
      const k = toKey(key);
      const req = (context: kvrpcpb.Context): kvrpcpb.RawCASRequest => ({
        context,
        key: k,
        value: next === null ? EMPTY : toBytes(next),
        delete: next === null,
        previousNotExist: expected === null,
        previousValue: expected === null ? EMPTY : toBytes(expected),
      });
      const res = await this.dispatch.onKey(k, (c, context) => c.compareAndSwap(req(context), scope), scope, WRITE);
      checkError(res.error);
      return { succeeded: res.succeed, previousValue: res.previousNotExist ? null : new Uint8Array(res.previousValue) };
    });
  }

  scan(startKey: BytesLike, endKey: BytesLike, options: ScanOptions = {}): AsyncIterable<KvPair> {
    const deps: ScanDeps = {
      cache: this.regionCache,
      sender: this.sender,
      newScope: () => this.scope(options),
      wrap: (e, scope) => this.wrapError(e, scope),
    };
    return scanRange(deps, () => {
      const [start, end] = checkRange(startKey, endKey);
      const limit = options.limit ?? Infinity;
      if (!(limit >= 0)) throw new ClientError(ClientErrorCodes.INVALID_ARGUMENT, `limit must be ≥ 0, got ${String(limit)}`);
      if (this.closing.signal.aborted) throw new ClientError(ClientErrorCodes.CLOSED, 'the client is closed');
      if (options.signal?.aborted === true) {
        throw new ClientError(ClientErrorCodes.CANCELLED, 'the call was cancelled', { cause: options.signal.reason });
      }
      return {
        start,
        end,
        params: {
          limit,
          keyOnly: options.keyOnly ?? false,
          reverse: options.reverse ?? false,
          batchSize: Math.floor(positive(options.batchSize, this.scanBatchSize, 'batchSize')),
          replicaRead: options.replicaRead ?? this.replicaRead,
        },
      };
    });
  }

  async scanAll(startKey: BytesLike, endKey: BytesLike, options: ScanOptions = {}): Promise<KvPair[]> {
    const out: KvPair[] = [];
    for await (const p of this.scan(startKey, endKey, options)) out.push(p);
    return out;
  }

  close(): Promise<void> {
    if (!this.closing.signal.aborted) {
      this.logger.info({ connections: this.connections.size }, 'closing the client');
      this.closing.abort(new ClientError(ClientErrorCodes.CLOSED, 'the client is closed'));
      for (const c of this.connections.values()) c.close();
      this.connections.clear();
      this.pd.close();
    }
    return Promise.resolve();
  }

  // ---- helpers ----

  private connection(address: string): StoreConnection {
    let c = this.connections.get(address);
    if (c === undefined) {
      if (this.closing.signal.aborted) throw new ClientError(ClientErrorCodes.CLOSED, 'the client is closed');
      c = new StoreConnection(address, {
        mode: this.opts.transport ?? 'batch',
        rpcTimeoutMs: positive(this.opts.rpcTimeoutMs, 10_000, 'rpcTimeoutMs'),
        maxBatchSize: positive(this.opts.maxFrameRequests, 128, 'maxFrameRequests'),
        logger: this.logger,
        channelOptions: this.channelOptions,
      });
      this.connections.set(address, c);
    }
    return c;
  }

  private readOpts(options: ReadOptions): { replicaRead: boolean; readOnly: true } {
    return { replicaRead: options.replicaRead ?? this.replicaRead, readOnly: true };
  }

  private scope(options: CallOptions): CallScope {
    return new CallScope(this.env, {
      timeoutMs: positive(options.timeoutMs, this.timeoutMs, 'timeoutMs'),
      maxBackoffMs: this.maxBackoffMs,
      signal: options.signal,
    });
  }

  /** Runs one call under a fresh scope; every failure leaves as a ClientError. */
  private async run<T>(options: CallOptions, fn: (scope: CallScope) => Promise<T>): Promise<T> {
    const scope = this.scope(options);
    try {
      return await fn(scope);
    } catch (e) {
      throw this.wrapError(e, scope);
    } finally {
      scope.dispose();
    }
  }

  private wrapError(e: unknown, scope: CallScope): unknown {
    if (e instanceof ClientError) return e;
    if (scope.signal.aborted) return scope.failure();
    // A ProtoError from decoding a malformed answer, or another package's typed error.
    if (isMrkvError(e)) return new ClientError(ClientErrorCodes.PROTOCOL, e.message, { cause: e, details: { code: e.code } });
    return e;
  }
}

const WRITE = { replicaRead: false, readOnly: false } as const;

/** `[start, end)` as bytes; `[undefined, …]` when the range is empty (start ≥ end with an end given). */
function checkRange(startKey: BytesLike, endKey: BytesLike): [Uint8Array | undefined, Uint8Array] {
  const start = toBytes(startKey);
  const end = toBytes(endKey);
  if (end.length > 0 && Buffer.compare(start, end) >= 0) {
    if (Buffer.compare(start, end) === 0) return [undefined, end];
    throw new ClientError(ClientErrorCodes.INVALID_ARGUMENT, 'the range start key is after its end key');
  }
  return [start, end];
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!(v > 0)) throw new ClientError(ClientErrorCodes.INVALID_ARGUMENT, `${name} must be a positive number, got ${String(v)}`);
  return v;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

/** Indexes of the first occurrence of each distinct key. */
function uniqueIndexes(keys: readonly Uint8Array[]): number[] {
  const seen = new Set<string>();
  const out: number[] = [];
  keys.forEach((k, i) => {
    const h = hex(k);
    if (!seen.has(h)) {
      seen.add(h);
      out.push(i);
    }
  });
  return out;
}
