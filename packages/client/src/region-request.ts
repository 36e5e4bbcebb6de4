/**
 * Sending one request to one region (client-go `internal/locate/region_request.go`): pick the
 * peer (the leader, or a voter for replica reads), resolve its store, fill `kvrpcpb.Context`,
 * send, and react to a region error the way client-go's `onRegionError` does (reference §1.4):
 *
 * | error | reaction |
 * | --- | --- |
 * | NotLeader with a known peer as hint | switch the cached leader, retry at once (back off if the hint is the peer that refused) |
 * | NotLeader without hint | rotate to the next peer, back off (regionScheduling) |
 * | EpochNotMatch | replace the cache from `current_regions` and re-split the request; back off (regionMiss) if the answer is older than the cache |
 * | RegionNotFound, KeyNotInRegion, IsWitness, MismatchPeerId, unknown | invalidate, back off (regionMiss), re-locate |
 * | StoreNotMatch | forget the store's address, invalidate, re-locate |
 * | ServerIsBusy | back off (serverBusy, at least the store's `backoff_ms`), retry |
 * | StaleCommand | back off (staleCmd), retry |
 * | RegionNotInitialized, ReadIndexNotReady, ProposalInMergingMode, MaxTimestampNotSynced, recovery/flashback/disk full, DataIsNotReady | back off (regionScheduling), retry |
 * | UndeterminedResult on a read | invalidate, back off (regionScheduling), re-locate: a read has no effect to be unsure about |
 * | RaftEntryTooLarge, UndeterminedResult on a write | not retried: `REGION_ERROR` to the caller |
 * | send failure before the request reached the store (no connection) | forget the store's address, rotate the peer, invalidate, back off (tikvRpc), re-locate |
 * | send failure after a write reached the store (stream broke, no answer in time) | `UNDETERMINED` to the caller, never sent again (a second copy could apply twice or after a later write) |
 *
 * "Re-locate" returns `undefined` to the caller, which looks the keys up again (they may now
 * span several regions) and sends anew; everything else loops here on the same region entry.
 */
import * as grpc from '@grpc/grpc-js';
import { noopLogger, type Logger } from '@mrkv/common';
import { peerToWire, epochToWire, regionErrorFromWire, type errorpb, type kvrpcpb, type Peer, type RegionError } from '@mrkv/proto';
import type { CallScope } from './call-scope.js';
import { ClientError, ClientErrorCodes } from './errors.js';
import { isServiceError } from './grpc-unary.js';
import type { CachedRegion, RegionCache } from './region-cache.js';
import type { StoreConnection } from './store-connection.js';

/** Gives the connection to a store address (the client's connection pool). */
export type ConnectionFor = (address: string) => StoreConnection;

/** One attempt's transport: given the chosen connection and context, sends and returns the response. */
export type Transmit<R extends { regionError: errorpb.Error__Output | null }> = (conn: StoreConnection, ctx: kvrpcpb.Context) => Promise<R>;

export interface SendOptions {
  readonly replicaRead: boolean;
  /**
   * True for requests without side effects (gets, scans). Such a request that the store could not
   * answer in time (UndeterminedResult: a read index lost in a leader transfer) is safely sent
   * again; for a write the outcome is unknown and goes to the caller.
   */
  readonly readOnly?: boolean;
}

export class RegionRequestSender {
  private readonly logger: Logger;

  constructor(
    private readonly cache: RegionCache,
    private readonly connectionFor: ConnectionFor,
    private readonly clusterId: () => string,
    logger: Logger = noopLogger,
  ) {
    this.logger = logger.child({ component: 'region-request' });
  }

  /**
   * Sends to `entry`'s region until it answers without a region error (the response), or the
   * region changed shape and the caller must re-locate (`undefined`). Throws a ClientError when
   * the call ends or the error is final.
   */
  async send<R extends { regionError: errorpb.Error__Output | null }>(
    entry: CachedRegion,
    transmit: Transmit<R>,
    scope: CallScope,
    opts: SendOptions,
  ): Promise<R | undefined> {
    // Leader hints followed without a pause; past one per peer, hints that keep pointing
    // elsewhere (an election in progress) are followed after a backoff.
    let hops = 0;
    for (;;) {
      scope.check();
      if (entry.invalid) return undefined;
      const peer = this.cache.pickPeer(entry, opts.replicaRead);
      if (peer === undefined) {
        this.cache.invalidate(entry, 'region has no peers');
        await scope.backoff('regionMiss', new ClientError(ClientErrorCodes.REGION_UNAVAILABLE, `region ${entry.region.id} has no peers`));
        return undefined;
      }
      let address: string;
      try {
        address = await this.cache.storeAddress(peer.storeId, scope);
      } catch (e) {
        if (!(e instanceof ClientError) || e.code !== ClientErrorCodes.STORE_UNAVAILABLE) throw e;
        this.cache.invalidate(entry, 'store unresolvable');
        await scope.backoff('regionMiss', e);
        return undefined;
      }
      let res: R;
      try {
        res = await transmit(this.connectionFor(address), this.context(entry, peer, scope, opts.replicaRead));
      } catch (e) {
        if (scope.signal.aborted) throw scope.failure();
        if (!isSendFailure(e)) throw finalFailure(e);
        if (opts.readOnly !== true && isInDoubt(e)) {
          // The write reached the store, which then failed: it may have been applied. Sending it
          // again could apply it twice (compare-and-swap) or after a later write; the caller decides.
          this.onSendFailure(entry, peer, e);
          throw new ClientError(ClientErrorCodes.UNDETERMINED, `the write to region ${entry.region.id} may or may not have been applied: ${(e as Error).message}`, {
            cause: e,
            details: { regionId: entry.region.id, storeId: peer.storeId },
          });
        }
        this.onSendFailure(entry, peer, e);
        await scope.backoff('tikvRpc', e);
        return undefined;
      }
      if (res.regionError === null) return res;
      const next = await this.onRegionError(entry, peer, res.regionError, scope, opts.readOnly === true);
      if (next === 'relocate') return undefined;
      if (next === 'hop' && ++hops > entry.region.peers.length) await scope.backoff('regionScheduling', new ClientError(ClientErrorCodes.REGION_UNAVAILABLE, `region ${entry.region.id}: leader hints go round`));
    }
  }

  private context(entry: CachedRegion, peer: Peer, scope: CallScope, replicaRead: boolean): kvrpcpb.Context {
    return {
      regionId: entry.region.id,
      regionEpoch: epochToWire(entry.region.regionEpoch),
      peer: peerToWire(peer),
      replicaRead,
      // 0 = no server-side deadline (a call without one).
      maxExecutionDurationMs: Number.isFinite(scope.remainingMs()) ? Math.max(1, Math.ceil(scope.remainingMs())) : 0,
      clusterId: this.clusterId() || '0',
    };
  }

  private onSendFailure(entry: CachedRegion, peer: Peer, err: unknown): void {
    this.logger.warn({ err, regionId: entry.region.id, storeId: peer.storeId }, 'send to store failed');
    this.cache.invalidateStore(peer.storeId);
    // The store may be down: try another peer next time, and ask PD who leads now.
    entry.cursor++;
    const peers = entry.region.peers;
    entry.leader = peers.length > 0 ? peers[entry.cursor % peers.length] : undefined;
    this.cache.invalidate(entry, 'send failed');
  }

  /** `hop`: retry at once on the hinted leader; `retry`: retry (after a backoff done here); `relocate`: look the keys up again. */
  private async onRegionError(entry: CachedRegion, peer: Peer, wire: errorpb.Error__Output, scope: CallScope, readOnly: boolean): Promise<'hop' | 'retry' | 'relocate'> {
    let err: RegionError;
    try {
      err = regionErrorFromWire(wire);
    } catch (e) {
      // A payload mrkv cannot represent: treat it as an unknown region error.
      this.cache.invalidate(entry, 'undecodable region error');
      await scope.backoff('regionMiss', e);
      return 'relocate';
    }
    if (this.logger.isLevelEnabled('debug')) this.logger.debug({ regionId: entry.region.id, storeId: peer.storeId, code: err.code }, 'region error');
    switch (err.variant) {
      case 'notLeader': {
        const { leader } = (err as RegionError<'notLeader'>).payload;
        const reaction = this.cache.onNotLeader(entry, peer.storeId, leader);
        if (reaction === 'retry') return 'hop';
        await scope.backoff('regionScheduling', err);
        return entry.invalid ? 'relocate' : 'retry';
      }
      case 'epochNotMatch': {
        const { currentRegions } = (err as RegionError<'epochNotMatch'>).payload;
        if (this.cache.onEpochNotMatch(entry, peer.storeId, currentRegions) === 'backoff') await scope.backoff('regionMiss', err);
        return 'relocate';
      }
      case 'storeNotMatch':
        this.cache.invalidateStore(peer.storeId);
        this.cache.invalidate(entry, err.variant);
        await scope.backoff('regionMiss', err);
        return 'relocate';
      case 'regionNotFound':
      case 'keyNotInRegion':
      case 'isWitness':
      case 'mismatchPeerId':
      case 'bucketVersionNotMatch':
      case 'unknown':
        this.cache.invalidate(entry, err.variant);
        await scope.backoff('regionMiss', err);
        return 'relocate';
      case 'serverIsBusy':
        await scope.backoff('serverBusy', err, (err as RegionError<'serverIsBusy'>).payload.backoffMs);
        return 'retry';
      case 'staleCommand':
        await scope.backoff('staleCmd', err);
        return 'retry';
      case 'regionNotInitialized':
      case 'readIndexNotReady':
      case 'proposalInMergingMode':
      case 'maxTimestampNotSynced':
      case 'recoveryInProgress':
      case 'flashbackInProgress':
      case 'flashbackNotPrepared':
      case 'dataIsNotReady':
        await scope.backoff('regionScheduling', err);
        return 'retry';
      case 'undeterminedResult':
        if (readOnly) {
          // The leader did not answer in time (it may be handing over): ask again, maybe elsewhere.
          this.cache.invalidate(entry, err.variant);
          await scope.backoff('regionScheduling', err);
          return 'relocate';
        }
        throw new ClientError(ClientErrorCodes.REGION_ERROR, err.message, { cause: err, details: { regionError: err.code, regionId: entry.region.id } });
      case 'diskFull': {
        // Refused before proposing: definitive, and retrying cannot help until space returns.
        const { storeIds } = (err as RegionError<'diskFull'>).payload;
        throw new ClientError(ClientErrorCodes.DISK_FULL, err.message, { cause: err, details: { regionError: err.code, regionId: entry.region.id, storeIds } });
      }
      case 'raftEntryTooLarge':
        throw new ClientError(ClientErrorCodes.REGION_ERROR, err.message, { cause: err, details: { regionError: err.code, regionId: entry.region.id } });
    }
  }
}

/** gRPC statuses that say the store or the path to it failed, not the request. */
const RETRYABLE_STATUS: ReadonlySet<number> = new Set([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.CANCELLED,
  grpc.status.UNKNOWN,
  grpc.status.INTERNAL,
  grpc.status.ABORTED,
]);

/** Failures of the transport itself (retried elsewhere), as opposed to final answers. */
function isSendFailure(e: unknown): boolean {
  if (e instanceof ClientError) return e.code === ClientErrorCodes.STORE_UNAVAILABLE;
  return isServiceError(e) && RETRYABLE_STATUS.has(e.code);
}

/**
 * Whether a failed send may have reached the store: a request written to a stream that then
 * broke or went unanswered, or a unary call that failed other than by never connecting.
 */
function isInDoubt(e: unknown): boolean {
  if (e instanceof ClientError) return e.details?.inDoubt === true;
  if (!isServiceError(e)) return false;
  if (e.code === grpc.status.UNAVAILABLE && /No connection established|ECONNREFUSED/i.test(e.details ?? '')) return false;
  return true;
}

/** A final gRPC refusal (bad request, too large, wrong cluster) as a typed error. */
function finalFailure(e: unknown): unknown {
  if (!isServiceError(e)) return e;
  return new ClientError(ClientErrorCodes.REQUEST_FAILED, `the store refused the request: ${e.details || e.message}`, {
    cause: e,
    details: { grpcCode: e.code },
  });
}
