/**
 * One peer store's outbound raft traffic: a bounded queue and one long-lived `tikvpb.Tikv/BatchRaft`
 * client stream (TiKV `src/server/raft_client.rs`, one connection per target store).
 *
 * States (`state`):
 * - `idle`: no stream. The first message starts a connection.
 * - `connecting`: resolving the address and waiting for the channel to be READY; messages queue.
 * - `ready`: the stream is open; queued messages are flushed as BatchRaftMessage frames, one
 *   flush per macrotask, each frame at most `maxBatchMessages` messages / `maxBatchBytes` bytes.
 * - `backoff`: the last attempt or stream failed; messages are dropped (raft is told the store is
 *   unreachable and backs off) until a jittered exponential delay passes, then `idle` again.
 * - `closed`: for good.
 *
 * Bounds: at most `queueMaxMessages` / `queueMaxBytes` wait here. A message that does not fit is
 * dropped and the store reported unreachable: the queue never grows without bound, and raft, not
 * the transport, decides what to resend. When the stream pushes back (`write()` returns false)
 * flushing pauses until `drain`, and the queue absorbs the difference up to its bounds.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@mrkv/common';
import type { TransportConfig } from '../config.js';
import type { StoreMetrics } from '../metrics.js';
import type { Backoff } from './backoff.js';
import { encodeBatchRaftFrame, framedSize } from './frame.js';
import type { StoreAddressResolver } from './resolver.js';

export const BATCH_RAFT_PATH = '/tikvpb.Tikv/BatchRaft';

/** Why messages were dropped (the `reason` label of mrkv_raft_messages_dropped_total). */
export type DropReason = 'queue_full' | 'disconnected' | 'closed';

export type ConnectionState = 'idle' | 'connecting' | 'ready' | 'backoff' | 'closed';

/** What a connection needs from the transport that owns it. */
export interface ConnectionContext {
  readonly config: TransportConfig;
  readonly resolver: StoreAddressResolver;
  readonly metrics: StoreMetrics;
  readonly logger: Logger;
  readonly channelOptions: grpc.ChannelOptions;
  /** Messages for this store were dropped; the owner reports the store unreachable to raft. */
  onDropped(storeId: number, count: number, reason: DropReason): void;
}

export class StoreConnection {
  state: ConnectionState = 'idle';
  private queue: Uint8Array[] = [];
  private queueHead = 0;
  private queueBytes = 0;
  private client: grpc.Client | undefined;
  private call: grpc.ClientWritableStream<Uint8Array[]> | undefined;
  private flushScheduled = false;
  private waitingDrain = false;
  private backoffTimer: NodeJS.Timeout | undefined;
  /** The address of the current or last connection (for logs and tests). */
  address = '';

  constructor(
    readonly storeId: number,
    private readonly ctx: ConnectionContext,
    private readonly backoff: Backoff,
  ) {}

  /** Messages waiting to be written. */
  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  /** Queues `msgs` (best effort: see the module comment for when they are dropped). */
  send(msgs: readonly Uint8Array[]): void {
    if (this.state === 'closed' || this.state === 'backoff') {
      this.drop(msgs.length, this.state === 'closed' ? 'closed' : 'disconnected');
      return;
    }
    const cfg = this.ctx.config;
    let accepted = 0;
    for (const m of msgs) {
      const size = framedSize(m.length);
      if (this.queued >= cfg.queueMaxMessages || this.queueBytes + size > cfg.queueMaxBytes) break;
      this.queue.push(m);
      this.queueBytes += size;
      accepted++;
    }
    this.ctx.metrics.raftQueuedMessages.inc(accepted);
    if (accepted < msgs.length) this.drop(msgs.length - accepted, 'queue_full');
    if (accepted === 0) return;
    if (this.state === 'idle') this.connect();
    else if (this.state === 'ready') this.scheduleFlush();
  }

  /** Ends the stream and drops what is queued. */
  close(): void {
    if (this.state === 'closed') return;
    const pending = this.queued;
    this.state = 'closed';
    clearTimeout(this.backoffTimer);
    this.clearQueue();
    if (pending > 0) this.drop(pending, 'closed');
    this.teardown(true);
  }

  private connect(): void {
    this.state = 'connecting';
    this.ctx.resolver.resolve(this.storeId).then(
      (address) => {
        if (this.state !== 'connecting') return;
        this.address = address;
        this.client = new grpc.Client(address, grpc.credentials.createInsecure(), this.ctx.channelOptions);
        this.waitReady(this.client, Date.now() + this.ctx.config.connectTimeoutMs);
      },
      (err: unknown) => this.fail('resolve failed', err),
    );
  }

  /** Waits for the channel to be READY; a TRANSIENT_FAILURE (refused, unreachable) fails at once. */
  private waitReady(client: grpc.Client, deadline: number): void {
    const channel = client.getChannel();
    const state = channel.getConnectivityState(true);
    if (this.client !== client || this.state !== 'connecting') return;
    if (state === grpc.connectivityState.READY) {
      this.openStream(client);
      return;
    }
    if (state === grpc.connectivityState.TRANSIENT_FAILURE || state === grpc.connectivityState.SHUTDOWN) {
      this.fail('connect failed', undefined);
      return;
    }
    channel.watchConnectivityState(state, deadline, (err) => {
      if (err) this.fail('connect timed out', err);
      else this.waitReady(client, deadline);
    });
  }

  private openStream(client: grpc.Client): void {
    const call = client.makeClientStreamRequest<Uint8Array[], Record<string, never>>(
      BATCH_RAFT_PATH,
      encodeBatchRaftFrame,
      () => ({}),
      new grpc.Metadata(),
      {},
      (err) => {
        if (this.call !== call) return;
        this.call = undefined;
        this.fail(err ? 'stream failed' : 'stream ended by peer', err ?? undefined);
      },
    );
    call.on('error', () => {}); // errors arrive through the callback above
    this.call = call;
    this.state = 'ready';
    this.backoff.reset();
    this.ctx.metrics.raftConnections.inc({ result: 'ready' });
    this.ctx.logger.info({ storeId: this.storeId, address: this.address }, 'raft stream connected');
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.waitingDrain) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes queued messages as frames until the queue is empty or the stream pushes back. */
  private flush(): void {
    const call = this.call;
    if (this.state !== 'ready' || call === undefined) return;
    const { maxBatchMessages, maxBatchBytes } = this.ctx.config;
    while (this.queued > 0) {
      const batch: Uint8Array[] = [];
      let bytes = 0;
      while (this.queueHead < this.queue.length && batch.length < maxBatchMessages) {
        const m = this.queue[this.queueHead]!;
        const size = framedSize(m.length);
        if (batch.length > 0 && bytes + size > maxBatchBytes) break;
        batch.push(m);
        bytes += size;
        this.queueHead++;
      }
      this.queueBytes -= bytes;
      this.compactQueue();
      this.ctx.metrics.raftQueuedMessages.dec(batch.length);
      this.ctx.metrics.raftFramesSent.inc();
      this.ctx.metrics.raftMessagesSent.inc(batch.length);
      this.ctx.metrics.raftBytesSent.inc(bytes);
      if (!call.write(batch)) {
        this.waitingDrain = true;
        call.once('drain', () => {
          this.waitingDrain = false;
          this.scheduleFlush();
        });
        return;
      }
    }
  }

  private fail(why: string, err: unknown): void {
    if (this.state === 'closed') return;
    this.ctx.metrics.raftConnections.inc({ result: 'failed' });
    this.ctx.resolver.invalidate(this.storeId);
    this.teardown(false);
    const pending = this.queued;
    this.clearQueue();
    const delay = this.backoff.next();
    this.state = 'backoff';
    this.ctx.logger.warn({ storeId: this.storeId, address: this.address, err, dropped: pending, retryInMs: delay }, `raft ${why}`);
    // Report even with nothing queued: what was written to the dead stream may be lost too.
    this.drop(pending, 'disconnected');
    this.backoffTimer = setTimeout(() => {
      if (this.state === 'backoff') this.state = 'idle';
    }, delay);
    this.backoffTimer.unref?.();
  }

  private teardown(graceful: boolean): void {
    const call = this.call;
    this.call = undefined;
    this.waitingDrain = false;
    if (call !== undefined) {
      if (graceful) call.end();
      else call.cancel();
    }
    this.client?.close();
    this.client = undefined;
  }

  private drop(count: number, reason: DropReason): void {
    if (count > 0) this.ctx.metrics.raftMessagesDropped.inc({ reason }, count);
    this.ctx.onDropped(this.storeId, count, reason);
  }

  private clearQueue(): void {
    this.ctx.metrics.raftQueuedMessages.dec(this.queued);
    this.queue = [];
    this.queueHead = 0;
    this.queueBytes = 0;
  }

  /** Drops the consumed prefix once it dominates the array (amortized O(1) per message). */
  private compactQueue(): void {
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }
}
