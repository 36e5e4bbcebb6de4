/**
 * The `tikvpb.Tikv` service of a store: the unary RawKV methods, SplitRegion and ReadIndex,
 * BatchCommands, and the receive side of Raft / BatchRaft / Snapshot.
 *
 * The service definition is @mrkv/proto's `tikvService()` with three request deserializers
 * replaced (`storeServiceDefinition`): BatchRaft frames are split into encoded RaftMessages, Raft
 * frames are passed through as bytes, and SnapshotChunks are split into their raw parts, so raft
 * traffic is never decoded on the main thread. On the wire nothing changes: a stock TiKV client
 * and mrkv's transport are served alike.
 */
import type * as grpc from '@grpc/grpc-js';
import { tikvService, type tikvpb } from '@mrkv/proto';
import { decodeSnapshotChunk, splitBatchRaftFrame } from '../transport/frame.js';
import { BatchCommandsStream } from './batch-commands.js';
import type { RaftReceiver, StreamTracker } from './raft-service.js';
import type { RawMethod, RawRequest, RawResponse } from './raw-kv.js';
import { serveAdmitted, type ServingContext } from './serve.js';

/** `tikvService()` with raw-bytes deserializers for the raft streams (see the module comment). */
export function storeServiceDefinition(): grpc.ServiceDefinition {
  const base = tikvService();
  return {
    ...base,
    BatchRaft: { ...base.BatchRaft, requestDeserialize: (b: Buffer) => splitBatchRaftFrame(b) },
    Raft: { ...base.Raft, requestDeserialize: (b: Buffer) => b },
    Snapshot: { ...base.Snapshot, requestDeserialize: (b: Buffer) => decodeSnapshotChunk(b) },
  } as unknown as grpc.ServiceDefinition;
}

/** A unary handler for `method`: admission, cancellation on client cancel or server stop, metrics. */
function unary<M extends RawMethod>(sc: ServingContext, method: M): grpc.handleUnaryCall<RawRequest<M>, RawResponse<M>> {
  return (call, callback) => {
    const ac = new AbortController();
    const untrack = sc.inflight.add(ac);
    let done = false;
    call.on('cancelled', () => {
      if (!done) ac.abort();
    });
    void serveAdmitted(sc, method, call.request, ac.signal).then((resp) => {
      done = true;
      untrack();
      callback(null, resp);
    });
  };
}

/** Open long-lived streams (BatchCommands, raft receive), so a graceful shutdown can end them. */
export class StreamSet implements StreamTracker {
  private readonly ends = new Set<() => void>();

  add(end: () => void): () => void {
    this.ends.add(end);
    return () => this.ends.delete(end);
  }

  /** Calls every tracked stream's end hook. */
  endAll(): void {
    for (const end of [...this.ends]) end();
  }

  get size(): number {
    return this.ends.size;
  }
}

/** The handler table for `server.addService(storeServiceDefinition(), …)`. */
export function tikvHandlers(
  sc: ServingContext,
  raft: RaftReceiver,
  batchStreams: StreamSet,
): grpc.UntypedServiceImplementation {
  const handlers = {
    RawGet: unary(sc, 'RawGet'),
    RawBatchGet: unary(sc, 'RawBatchGet'),
    RawPut: unary(sc, 'RawPut'),
    RawBatchPut: unary(sc, 'RawBatchPut'),
    RawDelete: unary(sc, 'RawDelete'),
    RawBatchDelete: unary(sc, 'RawBatchDelete'),
    RawScan: unary(sc, 'RawScan'),
    RawDeleteRange: unary(sc, 'RawDeleteRange'),
    RawCompareAndSwap: unary(sc, 'RawCompareAndSwap'),
    SplitRegion: unary(sc, 'SplitRegion'),
    ReadIndex: unary(sc, 'ReadIndex'),
    BatchCommands: (call: grpc.ServerDuplexStream<tikvpb.BatchCommandsRequest__Output, tikvpb.BatchCommandsResponse>) => {
      let stream: BatchCommandsStream | undefined = undefined;
      const untrack = batchStreams.add(() => stream?.endWhenIdle());
      stream = new BatchCommandsStream(sc, call, untrack);
    },
    BatchRaft: raft.batchRaft.bind(raft),
    Raft: raft.raft.bind(raft),
    Snapshot: raft.snapshot.bind(raft),
  };
  return handlers as unknown as grpc.UntypedServiceImplementation;
}
