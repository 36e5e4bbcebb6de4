/**
 * Error codes of the store process (gateway, raft transport, process shell). Request-level
 * failures of the RawKV API use @mrkv/proto's `RequestErrorCodes`, and region-level failures its
 * `RegionError`s; this table holds what only the store service itself can fail with. Codes follow
 * TiKV's `KV:Server:` naming so operators can grep both systems.
 */
import { MrkvError } from '@mrkv/common';

export const StoreErrorCodes = {
  /** An unexpected failure while serving a request; details are logged, never sent to clients. */
  INTERNAL: 'KV:Server:Internal',
  /** `Context.cluster_id` names another cluster. */
  CLUSTER_ID_MISMATCH: 'KV:Server:ClusterIdMismatch',
  /** The server is draining for shutdown and takes no new requests. */
  SHUTTING_DOWN: 'KV:Server:ShuttingDown',
  /** A BatchCommands frame whose `request_ids` do not pair with its `requests`. */
  INVALID_BATCH_FRAME: 'KV:Server:InvalidBatchFrame',
  /** Bytes of a raft transport frame (BatchRaftMessage, SnapshotChunk) that do not parse. */
  MALFORMED_FRAME: 'KV:Server:MalformedFrame',
  /** A raft message could not be delivered to a store (queue full, disconnected, closed). */
  STORE_UNREACHABLE: 'KV:Server:StoreUnreachable',
  /** PD reports the target store as tombstone: it will never be reachable again. */
  STORE_TOMBSTONE: 'KV:Server:StoreTombstone',
  /** Too many snapshots are being sent or received at once (TiKV drops the excess too). */
  SNAPSHOT_LIMIT: 'KV:Server:SnapshotLimit',
  /** A snapshot stream that does not start with its RaftMessage, or is otherwise malformed. */
  SNAPSHOT_MALFORMED: 'KV:Server:SnapshotMalformed',
  /** A snapshot transfer failed (network, timeout, or refused by the receiver). */
  SNAPSHOT_FAILED: 'KV:Server:SnapshotFailed',
  /** The transport was closed; nothing more is sent. */
  TRANSPORT_CLOSED: 'KV:Server:TransportClosed',
  /** Another process holds the data directory's lock. */
  DATA_DIR_LOCKED: 'KV:Server:DataDirLocked',
  /** The data directory holds engine data but no store ident (or a damaged one). */
  DATA_DIR_INCONSISTENT: 'KV:Server:DataDirInconsistent',
  /** The store ident belongs to another cluster than the PD we talk to. */
  STORE_IDENT_MISMATCH: 'KV:Server:StoreIdentMismatch',
  /** Cluster bootstrap did not complete (PD kept failing). */
  BOOTSTRAP_FAILED: 'KV:Server:BootstrapFailed',
  /** A PD call failed in a way the store cannot work around. */
  PD_FAILED: 'KV:Server:PdFailed',
  /** A listen address that cannot be bound. */
  BIND_FAILED: 'KV:Server:BindFailed',
} as const;

export type StoreErrorCode = (typeof StoreErrorCodes)[keyof typeof StoreErrorCodes];

/** A failure of the store service or process. */
export class StoreError extends MrkvError<StoreErrorCode> {
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
    this.name = 'StoreError';
  }
}
