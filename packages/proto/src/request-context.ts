/**
 * The request context (kvrpcpb.Context) in domain form: which region, epoch and peer a RawKV
 * request is for, plus the few options mrkv acts on (reference §1.2). Other Context fields are
 * parsed by the decoder and ignored here.
 *
 * Gateway code: `contextFromWire` validates ids and enums (throwing ProtoError), but leaves the
 * decision about a missing epoch or peer to the store, which answers them as TiKV does.
 */
import { epochFromWire, epochToWire, peerFromWire, peerToWire, type Peer, type RegionEpoch } from './domain.js';
import { wireEnum, wireU64 } from './wire-values.js';
import type { Context as WireContext } from './generated/kvrpcpb/Context.js';

/** kvrpcpb.APIVersion. mrkv serves V1 only; the store rejects the others. */
export type ApiVersion = 'V1' | 'V1TTL' | 'V2' | 'V3';
/** Names of kvrpcpb.APIVersion in value order. */
export const API_VERSIONS: readonly ApiVersion[] = ['V1', 'V1TTL', 'V2', 'V3'];

/** kvrpcpb.CommandPri. */
export type CommandPri = 'Normal' | 'Low' | 'High';
/** Names of kvrpcpb.CommandPri in value order. */
export const COMMAND_PRIS: readonly CommandPri[] = ['Normal', 'Low', 'High'];

/** kvrpcpb.DiskFullOpt: which store disk usages a write tolerates. */
export type DiskFullOpt = 'NotAllowedOnFull' | 'AllowedOnAlmostFull' | 'AllowedOnAlreadyFull';
/** Names of kvrpcpb.DiskFullOpt in value order. */
export const DISK_FULL_OPTS: readonly DiskFullOpt[] = ['NotAllowedOnFull', 'AllowedOnAlmostFull', 'AllowedOnAlreadyFull'];

export interface RequestContext {
  regionId: number;
  /** Absent when the client sent none; the store refuses such requests. */
  regionEpoch: RegionEpoch | undefined;
  /** The peer the client believes it is talking to; absent when the client sent none. */
  peer: Peer | undefined;
  /** Leader term the client saw; 0 = unchecked. A different term makes the store answer StaleCommand. */
  term: number;
  priority: CommandPri;
  /** Read on a follower through ReadIndex. */
  replicaRead: boolean;
  staleRead: boolean;
  /** Server-side deadline in milliseconds; 0 = none. */
  maxExecutionDurationMs: number;
  apiVersion: ApiVersion;
  isRetryRequest: boolean;
  /** Free-form tag of the caller, for metrics. */
  requestSource: string;
  /** Cluster id the client believes it talks to; 0 = unchecked. */
  clusterId: number;
  /** `disk_full_opt`: present only when not the default NotAllowedOnFull (writes on low disk space). */
  diskFullOpt?: DiskFullOpt | undefined;
}

/** The domain context of a decoded (or hand-built) kvrpcpb.Context; an absent Context is all defaults. */
export function contextFromWire(w: WireContext | null | undefined): RequestContext {
  const c = w ?? {};
  const diskFullOpt = wireEnum(DISK_FULL_OPTS, c.diskFullOpt, 'Context.disk_full_opt');
  return {
    ...(diskFullOpt === 'NotAllowedOnFull' ? {} : { diskFullOpt }),
    regionId: wireU64(c.regionId, 'Context.region_id'),
    regionEpoch: c.regionEpoch == null ? undefined : epochFromWire(c.regionEpoch),
    peer: c.peer == null ? undefined : peerFromWire(c.peer),
    term: wireU64(c.term, 'Context.term'),
    priority: wireEnum(COMMAND_PRIS, c.priority, 'Context.priority'),
    replicaRead: c.replicaRead ?? false,
    staleRead: c.staleRead ?? false,
    maxExecutionDurationMs: wireU64(c.maxExecutionDurationMs, 'Context.max_execution_duration_ms'),
    apiVersion: wireEnum(API_VERSIONS, c.apiVersion, 'Context.api_version'),
    isRetryRequest: c.isRetryRequest ?? false,
    requestSource: c.requestSource ?? '',
    clusterId: wireU64(c.clusterId, 'Context.cluster_id'),
  };
}

/** The kvrpcpb.Context for a domain context. */
export function contextToWire(c: RequestContext): WireContext {
  return {
    regionId: c.regionId,
    regionEpoch: c.regionEpoch === undefined ? null : epochToWire(c.regionEpoch),
    peer: c.peer === undefined ? null : peerToWire(c.peer),
    term: c.term,
    priority: c.priority,
    replicaRead: c.replicaRead,
    staleRead: c.staleRead,
    maxExecutionDurationMs: c.maxExecutionDurationMs,
    apiVersion: c.apiVersion,
    isRetryRequest: c.isRetryRequest,
    requestSource: c.requestSource,
    clusterId: c.clusterId,
    ...(c.diskFullOpt === undefined ? {} : { diskFullOpt: c.diskFullOpt }),
  };
}
