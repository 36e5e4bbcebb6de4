/**
 * The gRPC server binds before the raftstore starts (bootstrap needs the bound, advertised
 * address), so the server is handed these stand-ins, which forward to the raftstore once it is
 * attached. Before that, requests get ServerIsBusy ("store is starting"; clients retry), raft
 * messages are dropped (raft resends), and snapshots are refused.
 */
import type { RequestContext } from '@mrkv/proto';
import type { KvPair, RaftMessageSink, RawCasOptions, RawCasResult, RawKvApi, RawScanOptions } from '@mrkv/raftstore';
import type { Region } from '@mrkv/proto';
import { StoreError, StoreErrorCodes } from '../errors.js';
import { serverIsBusy } from '../service/admission.js';

export class LateRawKv implements RawKvApi {
  private target: RawKvApi | undefined;

  attach(api: RawKvApi): void {
    this.target = api;
  }

  private api(): RawKvApi {
    if (this.target === undefined) throw serverIsBusy('store is starting');
    return this.target;
  }

  rawGet(ctx: RequestContext, key: Uint8Array, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    return this.call((a) => a.rawGet(ctx, key, signal));
  }
  rawBatchGet(ctx: RequestContext, keys: readonly Uint8Array[], signal?: AbortSignal): Promise<KvPair[]> {
    return this.call((a) => a.rawBatchGet(ctx, keys, signal));
  }
  rawPut(ctx: RequestContext, key: Uint8Array, value: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.call((a) => a.rawPut(ctx, key, value, signal));
  }
  rawBatchPut(ctx: RequestContext, pairs: readonly KvPair[], signal?: AbortSignal): Promise<void> {
    return this.call((a) => a.rawBatchPut(ctx, pairs, signal));
  }
  rawDelete(ctx: RequestContext, key: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.call((a) => a.rawDelete(ctx, key, signal));
  }
  rawBatchDelete(ctx: RequestContext, keys: readonly Uint8Array[], signal?: AbortSignal): Promise<void> {
    return this.call((a) => a.rawBatchDelete(ctx, keys, signal));
  }
  rawDeleteRange(ctx: RequestContext, startKey: Uint8Array, endKey: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.call((a) => a.rawDeleteRange(ctx, startKey, endKey, signal));
  }
  rawScan(ctx: RequestContext, opts: RawScanOptions, signal?: AbortSignal): Promise<KvPair[]> {
    return this.call((a) => a.rawScan(ctx, opts, signal));
  }
  rawCompareAndSwap(ctx: RequestContext, opts: RawCasOptions, signal?: AbortSignal): Promise<RawCasResult> {
    return this.call((a) => a.rawCompareAndSwap(ctx, opts, signal));
  }
  splitRegion(ctx: RequestContext, splitKeys: readonly Uint8Array[], signal?: AbortSignal): Promise<Region[]> {
    return this.call((a) => a.splitRegion(ctx, splitKeys, signal));
  }
  readIndex(ctx: RequestContext, signal?: AbortSignal): Promise<number> {
    return this.call((a) => a.readIndex(ctx, signal));
  }

  private async call<T>(fn: (a: RawKvApi) => Promise<T>): Promise<T> {
    return fn(this.api());
  }
}

export class LateRaftSink implements RaftMessageSink {
  private target: RaftMessageSink | undefined;
  /** Messages dropped because they arrived before the raftstore started. */
  dropped = 0;

  attach(sink: RaftMessageSink): void {
    this.target = sink;
  }

  onRaftMessages(msgs: readonly Uint8Array[]): void {
    if (this.target === undefined) this.dropped += msgs.length;
    else this.target.onRaftMessages(msgs);
  }

  onSnapshot(head: Uint8Array, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.target === undefined) {
      return Promise.reject(new StoreError(StoreErrorCodes.SNAPSHOT_FAILED, 'store is starting; snapshot refused'));
    }
    return this.target.onSnapshot(head, chunks);
  }
}
