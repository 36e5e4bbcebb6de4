/**
 * The receive side of the store-to-store transport: `tikvpb.Tikv/Raft`, `/BatchRaft` and
 * `/Snapshot` (reference §1.7). Frames are split into encoded RaftMessages by custom
 * deserializers (transport/frame.ts) and handed to the raftstore's `RaftMessageSink` without
 * being decoded here; the raft workers decode them. A frame that does not parse fails its stream
 * with an error status (grpc-js answers INTERNAL for a deserializer that throws); the process and
 * other streams are unaffected.
 *
 * Snapshots: the first chunk must carry the RaftMessage; the data chunks are streamed to
 * `sink.onSnapshot` as they arrive. At most `maxConcurrentRecvs` at once; excess streams get
 * RESOURCE_EXHAUSTED (TiKV refuses them the same way) and the sender retries later.
 */
import * as grpc from '@grpc/grpc-js';
import { InvariantViolation, isMrkvError, type Logger } from '@mrkv/common';
import type { RaftMessageSink } from '@mrkv/raftstore';
import { StoreError, StoreErrorCodes } from '../errors.js';
import type { StoreMetrics } from '../metrics.js';
import type { SnapshotChunkParts } from '../transport/frame.js';

type Done = Record<string, never>;

export interface RaftServiceDeps {
  readonly sink: RaftMessageSink;
  readonly metrics: StoreMetrics;
  readonly logger: Logger;
  readonly maxConcurrentRecvs: number;
  onFatal(err: InvariantViolation): void;
}

/** Open receiving streams, so a graceful shutdown can end them (senders then reconnect elsewhere). */
export interface StreamTracker {
  add(end: () => void): () => void;
}

export class RaftReceiver {
  private receivingSnapshots = 0;

  constructor(
    private readonly deps: RaftServiceDeps,
    private readonly streams: StreamTracker,
  ) {}

  /** Snapshots being received now. */
  get snapshotsInflight(): number {
    return this.receivingSnapshots;
  }

  /** `BatchRaft`: each frame arrives already split into encoded RaftMessages. */
  batchRaft(call: grpc.ServerReadableStream<Uint8Array[], Done>, callback: grpc.sendUnaryData<Done>): void {
    const untrack = this.streams.add(() => finish());
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      untrack();
      callback(null, {});
    };
    call.on('data', (msgs: Uint8Array[]) => {
      this.deps.metrics.raftFramesReceived.inc();
      this.deliver(msgs);
    });
    call.on('end', finish);
    call.on('error', () => {
      done = true;
      untrack();
    });
  }

  /** `Raft`: one RaftMessage per frame; messages that arrive in one macrotask are delivered together. */
  raft(call: grpc.ServerReadableStream<Uint8Array, Done>, callback: grpc.sendUnaryData<Done>): void {
    let pending: Uint8Array[] = [];
    let scheduled = false;
    let done = false;
    const flush = (): void => {
      scheduled = false;
      const msgs = pending;
      pending = [];
      if (msgs.length > 0) this.deliver(msgs);
    };
    const untrack = this.streams.add(() => finish());
    const finish = (): void => {
      if (done) return;
      done = true;
      untrack();
      flush();
      callback(null, {});
    };
    call.on('data', (msg: Uint8Array) => {
      this.deps.metrics.raftFramesReceived.inc();
      pending.push(msg);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
    call.on('end', finish);
    call.on('error', () => {
      done = true;
      untrack();
    });
  }

  /** `Snapshot`: the head chunk, then data chunks, handed to the sink as a stream. */
  snapshot(call: grpc.ServerReadableStream<SnapshotChunkParts, Done>, callback: grpc.sendUnaryData<Done>): void {
    const limit = this.deps.maxConcurrentRecvs;
    if (this.receivingSnapshots >= limit) {
      this.deps.metrics.snapshotTransfers.inc({ direction: 'recv', result: 'rejected' });
      callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: `[${StoreErrorCodes.SNAPSHOT_LIMIT}] too many snapshots being received (limit ${limit})` });
      return;
    }
    this.receivingSnapshots++;
    this.deps.metrics.snapshotsInflight.inc({ direction: 'recv' });
    this.receiveSnapshot(call).then(
      () => {
        this.deps.metrics.snapshotTransfers.inc({ direction: 'recv', result: 'ok' });
        callback(null, {});
      },
      (err: unknown) => {
        this.deps.metrics.snapshotTransfers.inc({ direction: 'recv', result: 'failed' });
        this.deps.logger.warn({ err }, 'snapshot receive failed');
        if (err instanceof InvariantViolation) this.deps.onFatal(err);
        callback(snapshotErrorStatus(err));
      },
    ).finally(() => {
      this.receivingSnapshots--;
      this.deps.metrics.snapshotsInflight.dec({ direction: 'recv' });
    });
  }

  private async receiveSnapshot(call: grpc.ServerReadableStream<SnapshotChunkParts, Done>): Promise<void> {
    const it = (call as AsyncIterable<SnapshotChunkParts>)[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done === true || first.value.message === undefined) {
      throw new StoreError(StoreErrorCodes.SNAPSHOT_MALFORMED, 'snapshot stream must start with a chunk carrying the RaftMessage');
    }
    const head = first.value.message;
    const firstData = first.value.data;
    const metrics = this.deps.metrics;
    async function* data(): AsyncGenerator<Uint8Array> {
      if (firstData !== undefined && firstData.length > 0) {
        metrics.snapshotBytes.inc({ direction: 'recv' }, firstData.length);
        yield firstData;
      }
      while (true) {
        const next = await it.next();
        if (next.done === true) return;
        if (next.value.message !== undefined) {
          throw new StoreError(StoreErrorCodes.SNAPSHOT_MALFORMED, 'a snapshot stream carries its RaftMessage only in the first chunk');
        }
        const d = next.value.data;
        if (d !== undefined && d.length > 0) {
          metrics.snapshotBytes.inc({ direction: 'recv' }, d.length);
          yield d;
        }
      }
    }
    await this.deps.sink.onSnapshot(head, data());
  }

  private deliver(msgs: Uint8Array[]): void {
    this.deps.metrics.raftMessagesReceived.inc(msgs.length);
    try {
      this.deps.sink.onRaftMessages(msgs);
    } catch (err) {
      // The sink promises never to throw; if it does, the messages are lost (raft resends) and
      // the bug is logged, or escalated if it is an invariant violation.
      this.deps.logger.error({ err, count: msgs.length }, 'raft message sink threw');
      if (err instanceof InvariantViolation) this.deps.onFatal(err);
    }
  }
}

/** The gRPC status for a refused or failed snapshot receive. */
function snapshotErrorStatus(err: unknown): Partial<grpc.StatusObject> {
  if (isMrkvError(err)) {
    const code =
      err.code === StoreErrorCodes.SNAPSHOT_LIMIT
        ? grpc.status.RESOURCE_EXHAUSTED
        : err.code === StoreErrorCodes.SNAPSHOT_MALFORMED || err.code === StoreErrorCodes.MALFORMED_FRAME
          ? grpc.status.INVALID_ARGUMENT
          : grpc.status.FAILED_PRECONDITION;
    return { code, details: `[${err.code}] ${err.message}` };
  }
  if (isCancelled(err)) return { code: grpc.status.CANCELLED, details: 'snapshot stream cancelled' };
  return { code: grpc.status.INTERNAL, details: `[${StoreErrorCodes.INTERNAL}] snapshot receive failed; see the store log` };
}

function isCancelled(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === grpc.status.CANCELLED;
}
