/**
 * One connection per store (client-go `internal/client/client_batch.go`, much reduced): a gRPC
 * channel and, by default, one `tikvpb.Tikv/BatchCommands` bidirectional stream that carries
 * every RawKV request to that store (reference §1.1).
 *
 * - Requests get ids from a per-connection counter; responses are matched by id, in any order,
 *   across frames. Requests issued in the same turn of the event loop share one frame (flushed
 *   on `process.nextTick`, at most `maxBatchSize` per frame).
 * - A call whose scope ends (deadline, cancel, close) leaves the pending table at once; a late
 *   answer for its id is dropped.
 * - When the stream breaks (store restart, network), every pending request fails with
 *   STORE_UNAVAILABLE, which the sender retries; the next request opens a new stream.
 * - A store that answers BatchCommands with UNIMPLEMENTED is served unary from then on, and the
 *   requests that were pending are re-sent unary.
 * - CAS has no BatchCommands arm and is always unary.
 */
import * as grpc from '@grpc/grpc-js';
import { noopLogger, type Logger } from '@mrkv/common';
import { createTikvClient, type kvrpcpb, type TikvClient, type tikvpb } from '@mrkv/proto';
import type { CallScope } from './call-scope.js';
import { ClientError, ClientErrorCodes, type ClientErrorCode } from './errors.js';
import { isServiceError, unaryCall, type UnaryMethod } from './grpc-unary.js';

/** The RawKV commands that travel on BatchCommands (named like their methods and oneof arms). */
export type RawCmd = 'RawGet' | 'RawBatchGet' | 'RawPut' | 'RawBatchPut' | 'RawDelete' | 'RawBatchDelete' | 'RawScan' | 'RawDeleteRange';

/** The request message of a command. */
export type CmdRequest<C extends RawCmd> = NonNullable<tikvpb.BatchCommandsRequest_Request[C]>;
/** The response message of a command. */
export type CmdResponse<C extends RawCmd> = NonNullable<tikvpb.BatchCommandsResponse_Response__Output[C]>;

/** How requests reach a store. */
export type TransportMode = 'batch' | 'unary';

export interface StoreConnectionOptions {
  readonly mode: TransportMode;
  /**
   * Longest wait for one answer. Past it the request fails as STORE_UNAVAILABLE (retried on
   * another peer after a PD reload): a store that hangs (stopped, partitioned) is not waited on
   * until the call's deadline.
   */
  readonly rpcTimeoutMs: number;
  /** Most requests in one BatchCommands frame. */
  readonly maxBatchSize: number;
  readonly channelOptions?: grpc.ChannelOptions;
  readonly logger?: Logger;
}

interface Pending {
  /** `performance.now()` past which the request is given up on. */
  readonly expiresAt: number;
  readonly cmd: RawCmd;
  readonly req: CmdRequest<RawCmd>;
  readonly scope: CallScope;
  /** Written to the stream: a failure now leaves its outcome unknown. */
  sent?: boolean;
  resolve(res: CmdResponse<RawCmd>): void;
  reject(err: unknown): void;
}

type Stream = grpc.ClientDuplexStream<tikvpb.BatchCommandsRequest, tikvpb.BatchCommandsResponse__Output>;

export class StoreConnection {
  private readonly client: TikvClient;
  private readonly logger: Logger;
  private mode: TransportMode;
  private stream: Stream | undefined;
  private readonly pending = new Map<string, Pending>();
  private queue: Array<{ id: string; cmd: RawCmd; req: CmdRequest<RawCmd> }> = [];
  private flushScheduled = false;
  private nextId = 1;
  private closed = false;
  /** Runs while requests are pending; fails those past `rpcTimeoutMs`. */
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly address: string,
    private readonly opts: StoreConnectionOptions,
  ) {
    this.client = createTikvClient(address, { channelOptions: opts.channelOptions ?? {} });
    this.mode = opts.mode;
    this.logger = (opts.logger ?? noopLogger).child({ component: 'store-connection', address });
  }

  /** Requests waiting for an answer on the stream (for tests and metrics). */
  get inflight(): number {
    return this.pending.size;
  }

  /** The transport in use now (`unary` after a store refused BatchCommands). */
  get transport(): TransportMode {
    return this.mode;
  }

  /** Sends one RawKV request; resolves with its response (region errors included). */
  send<C extends RawCmd>(cmd: C, req: CmdRequest<C>, scope: CallScope): Promise<CmdResponse<C>> {
    if (this.closed) return Promise.reject(new ClientError(ClientErrorCodes.CLOSED, 'the client is closed'));
    if (this.mode === 'unary') return this.unary(cmd, req, scope);
    return new Promise<CmdResponse<C>>((resolve, reject) => {
      scope.check();
      const id = String(this.nextId++);
      const onAbort = (): void => {
        if (this.pending.delete(id)) reject(scope.failure());
      };
      this.pending.set(id, {
        expiresAt: performance.now() + this.opts.rpcTimeoutMs,
        cmd,
        req,
        scope,
        resolve: (res) => {
          scope.signal.removeEventListener('abort', onAbort);
          resolve(res as CmdResponse<C>);
        },
        reject: (err) => {
          scope.signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      });
      scope.signal.addEventListener('abort', onAbort, { once: true });
      this.startSweeper();
      this.queue.push({ id, cmd, req });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(() => this.flush());
      }
    });
  }

  /** RawCompareAndSwap (unary only: BatchCommands has no CAS arm). */
  compareAndSwap(req: kvrpcpb.RawCASRequest, scope: CallScope): Promise<kvrpcpb.RawCASResponse__Output> {
    if (this.closed) return Promise.reject(new ClientError(ClientErrorCodes.CLOSED, 'the client is closed'));
    return unaryCall(
      this.client.RawCompareAndSwap.bind(this.client) as UnaryMethod<kvrpcpb.RawCASRequest, kvrpcpb.RawCASResponse__Output>,
      req,
      scope,
      this.opts.rpcTimeoutMs,
    );
  }

  /** Ends the stream and the channel; pending requests fail with CLOSED. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopSweeper();
    this.failPending(new ClientError(ClientErrorCodes.CLOSED, 'the client is closed'));
    const s = this.stream;
    this.stream = undefined;
    if (s !== undefined) {
      s.end();
      s.cancel();
    }
    this.client.close();
  }

  private unary<C extends RawCmd>(cmd: C, req: CmdRequest<C>, scope: CallScope): Promise<CmdResponse<C>> {
    const method = (this.client[cmd] as unknown as UnaryMethod<CmdRequest<C>, CmdResponse<C>>).bind(this.client);
    return unaryCall(method, req, scope, this.opts.rpcTimeoutMs);
  }

  private startSweeper(): void {
    if (this.sweeper !== undefined) return;
    if (!Number.isFinite(this.opts.rpcTimeoutMs)) return;
    const every = Math.max(10, Math.min(1000, this.opts.rpcTimeoutMs / 4));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = performance.now();
    for (const [id, p] of this.pending) {
      if (p.expiresAt > now) continue;
      this.pending.delete(id);
      p.reject(
        new ClientError(ClientErrorCodes.STORE_UNAVAILABLE, `no answer from ${this.address} within ${this.opts.rpcTimeoutMs} ms`, {
          details: { address: this.address, rpcTimeoutMs: this.opts.rpcTimeoutMs, inDoubt: p.sent === true },
        }),
      );
    }
    if (this.pending.size === 0) this.stopSweeper();
  }

  private stopSweeper(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    const queued = this.queue.filter((q) => this.pending.has(q.id));
    this.queue = [];
    if (queued.length === 0) return;
    if (this.mode === 'unary') {
      for (const q of queued) this.resendUnary(q.id);
      return;
    }
    const stream = this.openStream();
    for (const q of queued) {
      const p = this.pending.get(q.id);
      if (p !== undefined) p.sent = true;
    }
    for (let i = 0; i < queued.length; i += this.opts.maxBatchSize) {
      const part = queued.slice(i, i + this.opts.maxBatchSize);
      stream.write({
        requests: part.map((q) => ({ [q.cmd]: q.req }) as tikvpb.BatchCommandsRequest_Request),
        requestIds: part.map((q) => q.id),
      });
    }
  }

  private openStream(): Stream {
    if (this.stream !== undefined) return this.stream;
    const stream = this.client.BatchCommands();
    this.stream = stream;
    stream.on('data', (frame: tikvpb.BatchCommandsResponse__Output) => this.onFrame(frame));
    stream.on('error', (err: unknown) => this.onStreamEnd(stream, err));
    stream.on('end', () => this.onStreamEnd(stream, undefined));
    return stream;
  }

  private onFrame(frame: tikvpb.BatchCommandsResponse__Output): void {
    const n = Math.min(frame.requestIds.length, frame.responses.length);
    for (let i = 0; i < n; i++) {
      const id = frame.requestIds[i]!;
      const p = this.pending.get(id);
      if (p === undefined) continue; // the caller gave up; a late answer
      this.pending.delete(id);
      const resp = frame.responses[i]!;
      const body = resp[p.cmd];
      if (resp.cmd !== p.cmd || body === null || body === undefined) {
        p.reject(new ClientError(ClientErrorCodes.PROTOCOL, `BatchCommands answered ${p.cmd} with ${resp.cmd ?? 'no command'}`, { details: { address: this.address } }));
      } else {
        p.resolve(body);
      }
    }
  }

  private onStreamEnd(stream: Stream, err: unknown): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    if (this.closed) return;
    if (isServiceError(err) && err.code === grpc.status.UNIMPLEMENTED) {
      this.logger.warn({}, 'store does not serve BatchCommands; using unary calls');
      this.mode = 'unary';
      for (const id of [...this.pending.keys()]) this.resendUnary(id);
      return;
    }
    if (this.pending.size > 0) this.logger.warn({ err, pending: this.pending.size }, 'BatchCommands stream ended');
    this.failPending(
      new ClientError(ClientErrorCodes.STORE_UNAVAILABLE, `BatchCommands stream to ${this.address} ended${err instanceof Error ? `: ${err.message}` : ''}`, {
        cause: err,
        details: { address: this.address },
      }),
    );
  }

  private resendUnary(id: string): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    this.unary(p.cmd, p.req, p.scope).then(p.resolve, p.reject);
  }

  private failPending(err: unknown): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    // A stream that never connected delivered nothing: only a stream that was up leaves doubt.
    const neverConnected = err instanceof ClientError && isServiceError(err.cause) && err.cause.code === grpc.status.UNAVAILABLE && /No connection established|ECONNREFUSED/i.test(err.cause.details ?? '');
    for (const p of all) {
      if (p.sent === true && !neverConnected && err instanceof ClientError) {
        p.reject(new ClientError(err.code as ClientErrorCode, err.message, { cause: err, details: { ...err.details, inDoubt: true } }));
      } else {
        p.reject(err);
      }
    }
  }
}
