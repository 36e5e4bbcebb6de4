/**
 * The store's outbound raft transport over gRPC (implements @mrkv/raftstore `RaftTransport`):
 * - `send`: encoded RaftMessages go to the target store's `StoreConnection` (one BatchRaft stream
 *   per store, batched per macrotask; see store-connection.ts). Dropped messages are reported
 *   through `onUnreachable(storeId)`, at most once per store per macrotask, so raft can
 *   `reportUnreachable` and back off without a callback storm.
 * - `sendSnapshot`: a `tikvpb.Tikv/Snapshot` client stream on a connection of its own (a large
 *   snapshot must not delay raft heartbeats): first `SnapshotChunk{message}`, then data chunks of
 *   at most `snapChunkSize` bytes. At most `snapMaxConcurrentSends` at once; beyond that it fails
 *   at once with `KV:Server:SnapshotLimit`, as TiKV drops excess sends, and raft retries later.
 *
 * The gRPC channels raise the message size limits to `server.grpc-max-message-size` both ways and
 * keep idle connections alive with pings, so a dead peer is noticed even without traffic.
 */
import * as grpc from '@grpc/grpc-js';
import { noopLogger, SeededRng, systemClock, type Clock, type Logger, type Rng } from '@mrkv/common';
import type { RaftTransport } from '@mrkv/raftstore';
import type { TransportConfig } from '../config.js';
import { StoreError, StoreErrorCodes } from '../errors.js';
import { StoreMetrics } from '../metrics.js';
import { Backoff } from './backoff.js';
import { encodeSnapshotChunk, type SnapshotChunkParts } from './frame.js';
import type { StoreAddressResolver } from './resolver.js';
import { StoreConnection, type ConnectionState, type DropReason } from './store-connection.js';

export const SNAPSHOT_PATH = '/tikvpb.Tikv/Snapshot';

export interface RaftClientOptions {
  readonly config: TransportConfig;
  readonly resolver: StoreAddressResolver;
  /** Called when messages for `storeId` could not be delivered (raft's reportUnreachable). */
  readonly onUnreachable: (storeId: number) => void;
  /** Largest gRPC message either way (config `server.grpc-max-message-size`). */
  readonly maxMessageSize: number;
  readonly keepaliveTimeMs?: number;
  readonly keepaliveTimeoutMs?: number;
  readonly metrics?: StoreMetrics;
  readonly logger?: Logger;
  /** Jitter source for reconnect backoff. */
  readonly rng?: Rng;
  readonly clock?: Clock;
}

export class RaftClient implements RaftTransport {
  private readonly conns = new Map<number, StoreConnection>();
  private readonly unreachable = new Set<number>();
  private reportScheduled = false;
  private sendingSnapshots = 0;
  private readonly snapshotCalls = new Set<grpc.ClientWritableStream<SnapshotChunkParts>>();
  private closed = false;
  private readonly metrics: StoreMetrics;
  private readonly logger: Logger;
  private readonly rng: Rng;
  private readonly channelOptions: grpc.ChannelOptions;

  constructor(private readonly opts: RaftClientOptions) {
    this.metrics = opts.metrics ?? new StoreMetrics();
    this.logger = (opts.logger ?? noopLogger).child({ component: 'raft-client' });
    this.rng = opts.rng ?? new SeededRng((opts.clock ?? systemClock).wallMs());
    this.channelOptions = {
      'grpc.max_send_message_length': opts.maxMessageSize,
      'grpc.max_receive_message_length': opts.maxMessageSize,
      'grpc.keepalive_time_ms': opts.keepaliveTimeMs ?? 10_000,
      'grpc.keepalive_timeout_ms': opts.keepaliveTimeoutMs ?? 3_000,
      'grpc.keepalive_permit_without_calls': 1,
      // Each connection owns its subchannel, so a fresh attempt does not inherit grpc-js's own
      // reconnect backoff from a failed one: the transport's backoff is the only one.
      'grpc.use_local_subchannel_pool': 1,
      'grpc.initial_reconnect_backoff_ms': Math.max(100, opts.config.backoffBaseMs),
      'grpc.max_reconnect_backoff_ms': Math.max(100, opts.config.backoffMaxMs),
    };
  }

  send(toStoreId: number, msgs: readonly Uint8Array[]): void {
    if (msgs.length === 0) return;
    if (this.closed) {
      this.metrics.raftMessagesDropped.inc({ reason: 'closed' }, msgs.length);
      this.reportUnreachable(toStoreId);
      return;
    }
    this.connection(toStoreId).send(msgs);
  }

  /** The state of the stream to `storeId` (`idle` if there never was one). */
  connectionState(storeId: number): ConnectionState {
    return this.conns.get(storeId)?.state ?? 'idle';
  }

  /** Messages queued for `storeId`. */
  queued(storeId: number): number {
    return this.conns.get(storeId)?.queued ?? 0;
  }

  async sendSnapshot(toStoreId: number, head: Uint8Array, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.closed) throw new StoreError(StoreErrorCodes.TRANSPORT_CLOSED, 'raft transport is closed');
    const limit = this.opts.config.snapMaxConcurrentSends;
    if (this.sendingSnapshots >= limit) {
      this.metrics.snapshotTransfers.inc({ direction: 'send', result: 'rejected' });
      throw new StoreError(StoreErrorCodes.SNAPSHOT_LIMIT, `too many snapshots being sent (limit ${limit})`, {
        details: { toStoreId, limit },
      });
    }
    this.sendingSnapshots++;
    this.metrics.snapshotsInflight.inc({ direction: 'send' });
    let client: grpc.Client | undefined;
    try {
      const address = await this.opts.resolver.resolve(toStoreId);
      client = new grpc.Client(address, grpc.credentials.createInsecure(), this.channelOptions);
      await this.streamSnapshot(client, toStoreId, head, chunks);
      this.metrics.snapshotTransfers.inc({ direction: 'send', result: 'ok' });
    } catch (e) {
      this.metrics.snapshotTransfers.inc({ direction: 'send', result: 'failed' });
      this.logger.warn({ toStoreId, err: e }, 'snapshot send failed');
      throw e;
    } finally {
      this.sendingSnapshots--;
      this.metrics.snapshotsInflight.dec({ direction: 'send' });
      client?.close();
    }
  }

  /** Closes every stream; later sends are dropped and reported, snapshots refused. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
    for (const call of this.snapshotCalls) call.cancel();
  }

  private connection(storeId: number): StoreConnection {
    let c = this.conns.get(storeId);
    if (c === undefined) {
      const cfg = this.opts.config;
      c = new StoreConnection(
        storeId,
        {
          config: cfg,
          resolver: this.opts.resolver,
          metrics: this.metrics,
          logger: this.logger,
          channelOptions: this.channelOptions,
          onDropped: (id: number, _count: number, _reason: DropReason) => this.reportUnreachable(id),
        },
        new Backoff(cfg.backoffBaseMs, cfg.backoffMaxMs, this.rng.fork()),
      );
      this.conns.set(storeId, c);
    }
    return c;
  }

  /** Coalesces unreachable reports: one callback per store per macrotask. */
  private reportUnreachable(storeId: number): void {
    this.unreachable.add(storeId);
    if (this.reportScheduled) return;
    this.reportScheduled = true;
    setImmediate(() => {
      this.reportScheduled = false;
      const ids = [...this.unreachable];
      this.unreachable.clear();
      for (const id of ids) {
        this.metrics.raftUnreachableReports.inc();
        try {
          this.opts.onUnreachable(id);
        } catch (err) {
          this.logger.error({ storeId: id, err }, 'onUnreachable callback threw');
        }
      }
    });
  }

  private streamSnapshot(client: grpc.Client, toStoreId: number, head: Uint8Array, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const cfg = this.opts.config;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        this.snapshotCalls.delete(call);
        if (err === undefined) resolve();
        else reject(err);
      };
      const call = client.makeClientStreamRequest<SnapshotChunkParts, Record<string, never>>(
        SNAPSHOT_PATH,
        encodeSnapshotChunk,
        () => ({}),
        new grpc.Metadata(),
        { deadline: Date.now() + cfg.snapTimeoutMs },
        (err) => finish(err ? snapshotStatusError(err, toStoreId) : undefined),
      );
      call.on('error', () => {}); // reported through the callback
      this.snapshotCalls.add(call);
      const callDone = new Promise<void>((r) => call.once('status', () => r()));
      pumpSnapshot(call, head, chunks, cfg.snapChunkSize, callDone, (n) => this.metrics.snapshotBytes.inc({ direction: 'send' }, n)).then(
        () => call.end(),
        (err: unknown) => {
          call.cancel();
          finish(err);
        },
      );
    });
  }
}

/** Writes the head and the data chunks (re-cut to `chunkSize`), honouring back-pressure. */
async function pumpSnapshot(
  call: grpc.ClientWritableStream<SnapshotChunkParts>,
  head: Uint8Array,
  chunks: AsyncIterable<Uint8Array>,
  chunkSize: number,
  callDone: Promise<void>,
  onBytes: (n: number) => void,
): Promise<void> {
  let ended = false;
  void callDone.then(() => (ended = true));
  const write = async (part: SnapshotChunkParts): Promise<void> => {
    if (ended) throw new StoreError(StoreErrorCodes.SNAPSHOT_FAILED, 'snapshot stream ended before all data was sent');
    if (!call.write(part)) await Promise.race([new Promise<void>((r) => call.once('drain', () => r())), callDone]);
  };
  await write({ message: head });
  for await (const chunk of chunks) {
    for (let off = 0; off < chunk.length; off += chunkSize) {
      const piece = chunk.subarray(off, Math.min(chunk.length, off + chunkSize));
      await write({ data: piece });
      onBytes(piece.length);
    }
  }
}

/** A typed error for a failed Snapshot call; RESOURCE_EXHAUSTED means the receiver's limit. */
function snapshotStatusError(err: grpc.ServiceError, toStoreId: number): StoreError {
  const limit = err.code === grpc.status.RESOURCE_EXHAUSTED;
  return new StoreError(
    limit ? StoreErrorCodes.SNAPSHOT_LIMIT : StoreErrorCodes.SNAPSHOT_FAILED,
    `snapshot to store ${toStoreId} failed: ${grpc.status[err.code] ?? err.code} ${err.details}`,
    { cause: err, details: { toStoreId, grpcCode: err.code, remote: err.details } },
  );
}
