/**
 * The raftstore's boundary with the outside world: what the gRPC service (services/store) and the
 * deterministic simulator call, and the interfaces they provide to it.
 *
 * - `RawKvApi`: RawKV on this store's regions (TiKV `RaftKv` + raw storage). The service layer
 *   validates wire-level input first (empty keys, sizes, scan ranges, api version: gateway code
 *   checks); the raftstore checks everything region-level (store and peer ids, epoch, key range,
 *   leadership, lease) and answers with `RegionError`s (→ `region_error`) or request errors.
 * - `RaftMessageSink`: inbound store-to-store raft traffic, as encoded `raft_serverpb.RaftMessage`
 *   bytes, decoded on the raft worker that owns the region (keeps the main thread light).
 * - `RaftTransport`: outbound traffic, provided by the embedder (gRPC BatchRaft streams, or the
 *   simulated network).
 * - `PdApi`: the placement-driver calls a store makes, provided by the embedder (the gRPC
 *   PdClient, or an in-process PD under simulation).
 */
import type { Peer, Region, RequestContext, Store } from '@mrkv/proto';

/** A key and its value. */
export interface KvPair {
  key: Uint8Array;
  value: Uint8Array;
}

export interface RawScanOptions {
  startKey: Uint8Array;
  /** Exclusive bound; empty = unbounded (forward) / the region start (reverse, see reference §1.3). */
  endKey: Uint8Array;
  limit: number;
  keyOnly: boolean;
  reverse: boolean;
}

export interface RawCasOptions {
  key: Uint8Array;
  value: Uint8Array;
  previousNotExist: boolean;
  previousValue: Uint8Array;
  /** Delete instead of writing `value` when the comparison succeeds. */
  delete: boolean;
}

export interface RawCasResult {
  succeeded: boolean;
  previousNotExist: boolean;
  previousValue: Uint8Array;
}

/**
 * RawKV on the regions of this store. Every method throws a `RegionError` (from @mrkv/proto) for
 * region-level refusals, a request `MrkvError` for invalid requests, or an `UndeterminedResult`
 * region error when a write was proposed but its outcome is unknown.
 */
export interface RawKvApi {
  rawGet(ctx: RequestContext, key: Uint8Array, signal?: AbortSignal): Promise<Uint8Array | undefined>;
  /** The pairs found, in request order; absent keys are left out. */
  rawBatchGet(ctx: RequestContext, keys: readonly Uint8Array[], signal?: AbortSignal): Promise<KvPair[]>;
  rawPut(ctx: RequestContext, key: Uint8Array, value: Uint8Array, signal?: AbortSignal): Promise<void>;
  rawBatchPut(ctx: RequestContext, pairs: readonly KvPair[], signal?: AbortSignal): Promise<void>;
  rawDelete(ctx: RequestContext, key: Uint8Array, signal?: AbortSignal): Promise<void>;
  rawBatchDelete(ctx: RequestContext, keys: readonly Uint8Array[], signal?: AbortSignal): Promise<void>;
  rawDeleteRange(ctx: RequestContext, startKey: Uint8Array, endKey: Uint8Array, signal?: AbortSignal): Promise<void>;
  rawScan(ctx: RequestContext, opts: RawScanOptions, signal?: AbortSignal): Promise<KvPair[]>;
  rawCompareAndSwap(ctx: RequestContext, opts: RawCasOptions, signal?: AbortSignal): Promise<RawCasResult>;
  /** Splits the region at `splitKeys` (sorted, inside the region); returns the resulting regions in key order. */
  splitRegion(ctx: RequestContext, splitKeys: readonly Uint8Array[], signal?: AbortSignal): Promise<Region[]>;
  /** The leader's read index for the region (kvrpcpb ReadIndex). */
  readIndex(ctx: RequestContext, signal?: AbortSignal): Promise<number>;
}

/** Inbound raft traffic from other stores. */
export interface RaftMessageSink {
  /** Encoded `raft_serverpb.RaftMessage`s from one BatchRaft frame (or one Raft message). Never throws. */
  onRaftMessages(msgs: readonly Uint8Array[]): void;
  /**
   * A snapshot stream (tikvpb.Tikv/Snapshot): `head` is the encoded RaftMessage carrying the
   * snapshot metadata, `chunks` the data. Resolves when the snapshot is accepted (handed to the
   * peer), rejects with a typed error when it is refused (bad checksum, too large, too many
   * concurrent receives, no such region…).
   */
  onSnapshot(head: Uint8Array, chunks: AsyncIterable<Uint8Array>): Promise<void>;
}

/** Outbound raft traffic, provided by the embedder. */
export interface RaftTransport {
  /**
   * Queues encoded RaftMessages for a store; best effort. When a store cannot be reached the
   * transport drops the messages and calls the `onUnreachable` callback it was given, so raft
   * can back off (reportUnreachable).
   */
  send(toStoreId: number, msgs: readonly Uint8Array[]): void;
  /** Streams a snapshot to a store; resolves when the receiver accepted it. */
  sendSnapshot(toStoreId: number, head: Uint8Array, chunks: AsyncIterable<Uint8Array>): Promise<void>;
}

/** Store statistics for the PD store heartbeat. */
export interface StoreStats {
  storeId: number;
  capacity: number;
  available: number;
  usedSize: number;
  regionCount: number;
  sendingSnapCount: number;
  receivingSnapCount: number;
  applyingSnapCount: number;
  startTime: number;
  bytesWritten: number;
  keysWritten: number;
  bytesRead: number;
  keysRead: number;
  isBusy: boolean;
  /** How full the data directory's disk is (operation/disk-usage.ts); writes are refused unless Normal. Absent: Normal. */
  diskUsage?: import('../operation/disk-usage.js').DiskUsage;
  /** Interval covered by the flow counters, in unix seconds. */
  intervalStart: number;
  intervalEnd: number;
}

/** A leader's report on one of its regions (PD RegionHeartbeat request). */
export interface RegionHeartbeat {
  region: Region;
  leader: Peer;
  term: number;
  downPeers: Array<{ peer: Peer; downSeconds: number }>;
  pendingPeers: Peer[];
  bytesWritten: number;
  keysWritten: number;
  bytesRead: number;
  keysRead: number;
  approximateSize: number;
  approximateKeys: number;
  intervalStart: number;
  intervalEnd: number;
}

/** An operator step PD sends back on the heartbeat stream (pdpb.RegionHeartbeatResponse). */
export type PdOperator =
  | { readonly kind: 'changePeer'; readonly changeType: 'AddNode' | 'RemoveNode' | 'AddLearnerNode'; readonly peer: Peer }
  | {
      readonly kind: 'changePeerV2';
      readonly changes: ReadonlyArray<{ changeType: 'AddNode' | 'RemoveNode' | 'AddLearnerNode'; peer: Peer }>;
    }
  | { readonly kind: 'transferLeader'; readonly peer: Peer; readonly peers: readonly Peer[] }
  | { readonly kind: 'merge'; readonly target: Region }
  | { readonly kind: 'splitRegion'; readonly policy: 'SCAN' | 'APPROXIMATE' | 'USEKEY'; readonly keys: readonly Uint8Array[] };

/** A PD response on the region heartbeat stream. */
export interface PdHeartbeatResponse {
  regionId: number;
  regionEpoch: Region['regionEpoch'];
  /** The leader peer PD addressed the command to. */
  targetPeer: Peer;
  operator: PdOperator;
}

/** The PD calls a store makes. */
export interface PdApi {
  storeHeartbeat(stats: StoreStats): Promise<void>;
  /** Sends a region heartbeat on the store's stream (fire and forget; responses go to `onHeartbeatResponse`). */
  regionHeartbeat(hb: RegionHeartbeat): void;
  /** Registers the callback for operators PD sends back. */
  onHeartbeatResponse(cb: (resp: PdHeartbeatResponse) => void): void;
  askBatchSplit(region: Region, count: number): Promise<Array<{ newRegionId: number; newPeerIds: number[] }>>;
  reportBatchSplit(regions: readonly Region[]): Promise<void>;
  getStore(storeId: number): Promise<Store>;
  allocId(): Promise<number>;
}
